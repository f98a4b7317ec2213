import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { defaultCaptureName, writeCaptureFile } from "./capture-file.js";
import { streamOf } from "./fake-context.testkit.js";

const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "gopsctl-capture-"));
  dirs.push(d);
  return d;
}
const live = () => new AbortController().signal;

test("default names: <pid>-<kind>-<YYYYMMDD-HHMMSS><ext> in local time", () => {
  assert.equal(defaultCaptureName(4132, "cpu", new Date(2026, 10, 26, 11, 2, 57), ".pprof.gz"), "4132-cpu-20261126-110257.pprof.gz");
  assert.equal(defaultCaptureName(7, "trace", new Date(2027, 0, 2, 3, 4, 5), ".trace"), "7-trace-20270102-030405.trace");
});

test("the bytes land in the file only when complete, through a temp file in the same directory", async () => {
  const dir = await tempDir();
  const path = join(dir, "out.pprof.gz");
  let seenDuring: string[] = [];
  async function* chunks() {
    yield Buffer.from("ab");
    seenDuring = await readdir(dir);
    yield new Uint8Array([0x63, 0x64]);
  }
  assert.equal(await writeCaptureFile(path, chunks(), live()), 4);
  assert.equal(seenDuring.length, 1);
  assert.match(seenDuring[0]!, /^\.out\.pprof\.gz\.[0-9a-f]{8}\.partial$/);
  assert.equal(await readFile(path, "utf8"), "abcd");
  assert.deepEqual(await readdir(dir), ["out.pprof.gz"]);
});

test("an existing file is replaced", async () => {
  const dir = await tempDir();
  const path = join(dir, "x.trace");
  await writeFile(path, "old contents that are longer");
  await writeCaptureFile(path, streamOf([Buffer.from("new")]), live());
  assert.equal(await readFile(path, "utf8"), "new");
});

test("a stream error removes the partial file and leaves no file behind", async () => {
  const dir = await tempDir();
  const err = new Error("agent closed the connection");
  await assert.rejects(writeCaptureFile(join(dir, "x.trace"), streamOf([Buffer.from("part")], err), live()), (e) => e === err);
  assert.deepEqual(await readdir(dir), []);
});

test("an abort removes the partial file", async () => {
  const dir = await tempDir();
  const ctl = new AbortController();
  async function* chunks() {
    yield Buffer.from("part");
    ctl.abort(new Error("interrupted"));
    yield Buffer.from("more");
  }
  await assert.rejects(writeCaptureFile(join(dir, "x.trace"), chunks(), ctl.signal), /interrupted/);
  assert.deepEqual(await readdir(dir), []);
});

test("an empty capture is an error and leaves no file", async () => {
  const dir = await tempDir();
  await assert.rejects(writeCaptureFile(join(dir, "x.trace"), streamOf<Buffer>([]), live()), /the capture is empty/);
  assert.deepEqual(await readdir(dir), []);
});

test("a directory that does not exist fails before reading the stream", async () => {
  const dir = await tempDir();
  let read = false;
  async function* chunks() {
    read = true;
    yield Buffer.from("x");
  }
  await assert.rejects(writeCaptureFile(join(dir, "no", "such", "x.trace"), chunks(), live()), { code: "ENOENT" });
  assert.equal(read, false);
});
