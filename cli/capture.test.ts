import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { CaptureKind, ProfileKind, type StreamProfileResponse } from "../proto/index.js";
import { run as runCpu } from "./commands/pprof-cpu.js";
import { run as runHeap } from "./commands/pprof-heap.js";
import { run as runTrace } from "./commands/trace.js";
import { fakeContext, streamOf } from "./fake-context.js";

const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "gopsctl-capture-"));
  dirs.push(d);
  return d;
}

const meta = (kind: CaptureKind, fileExtension: string, expectedDurationMs = 0): StreamProfileResponse => ({
  payload: { $case: "metadata", value: { pid: 4132, kind, expectedDurationMs, fileExtension, host: "web-1" } },
});
const chunk = (s: string | Buffer): StreamProfileResponse => ({ payload: { $case: "chunk", value: Buffer.from(s) } });

test("pprof-cpu: default file name in the cwd, path on stdout, progress and go tool hint on stderr", async () => {
  const cwd = await tempDir();
  const f = fakeContext(
    { streamProfile: () => streamOf([meta(CaptureKind.CAPTURE_KIND_CPU_PROFILE, ".pprof.gz", 30_000), chunk(Buffer.from([0x1f, 0x8b])), chunk("rest")]) },
    { cwd },
  );
  await runCpu({ pid: 4132, output: undefined }, f.ctx);
  assert.deepEqual(f.calls.map((c) => [c.method, c.request, c.signal]), [["streamProfile", { pid: 4132, kind: ProfileKind.PROFILE_KIND_CPU }, f.ctx.signal]]);
  assert.deepEqual(await readdir(cwd), ["4132-cpu-20261126-110257.pprof.gz"]);
  assert.equal(await readFile(join(cwd, "4132-cpu-20261126-110257.pprof.gz"), "latin1"), "\x1f\x8brest");
  assert.equal(f.stdout.text(), "4132-cpu-20261126-110257.pprof.gz\n");
  assert.equal(
    f.stderr.text(),
    "capturing a 30s CPU profile of pid 4132...\nview it with: go tool pprof 4132-cpu-20261126-110257.pprof.gz\n",
  );
});

test("pprof-heap: -o FILE relative to the cwd; --json prints {pid, kind, path, bytes} only", async () => {
  const cwd = await tempDir();
  const f = fakeContext({ streamProfile: () => streamOf([meta(CaptureKind.CAPTURE_KIND_HEAP_PROFILE, ".pprof.gz"), chunk("heap!")]) }, { cwd, json: true });
  await runHeap({ pid: 4132, output: "my heap.pb.gz" }, f.ctx);
  assert.deepEqual(f.calls[0]!.request, { pid: 4132, kind: ProfileKind.PROFILE_KIND_HEAP });
  assert.equal(await readFile(join(cwd, "my heap.pb.gz"), "utf8"), "heap!");
  assert.deepEqual(JSON.parse(f.stdout.text()), { pid: 4132, kind: "heap", path: join(cwd, "my heap.pb.gz"), bytes: 5 });
  assert.equal(f.stderr.text(), "");
});

test("trace: the kind's extension when gopsd suggests none; names that need it are quoted in the hint", async () => {
  const cwd = await tempDir();
  const f = fakeContext({ streamTrace: () => streamOf([meta(CaptureKind.CAPTURE_KIND_TRACE, "", 5000), chunk("go 1.19 trace\0")]) }, { cwd, isTTY: false });
  await runTrace({ pid: 4132, output: undefined }, f.ctx);
  assert.deepEqual(await readdir(cwd), ["4132-trace-20261126-110257.trace"]);
  assert.equal(f.stdout.text(), "4132-trace-20261126-110257.trace\n");
  assert.equal(f.stderr.text(), "view it with: go tool trace 4132-trace-20261126-110257.trace\n", "no progress line when not a terminal");

  const g = fakeContext({ streamTrace: () => streamOf([meta(CaptureKind.CAPTURE_KIND_TRACE, ".trace"), chunk("x")]) }, { cwd });
  await runTrace({ pid: 4132, output: "it's here.trace" }, g.ctx);
  assert.equal(g.stderr.text(), "view it with: go tool trace 'it'\\''s here.trace'\n");
});

test("an error before the metadata creates no file", async () => {
  const cwd = await tempDir();
  const err = Object.assign(new Error("no usable gops agent"), { code: 9 });
  const f = fakeContext({ streamTrace: () => streamOf<StreamProfileResponse>([], err) }, { cwd });
  await assert.rejects(runTrace({ pid: 4132, output: undefined }, f.ctx), (e) => e === err);
  assert.deepEqual(await readdir(cwd), []);
  assert.equal(f.stdout.text(), "");
});

test("a stream that does not start with metadata is refused", async () => {
  const cwd = await tempDir();
  const f = fakeContext({ streamTrace: () => streamOf([chunk("x")]) }, { cwd });
  await assert.rejects(runTrace({ pid: 4132, output: undefined }, f.ctx), /did not start the execution trace stream with its metadata/);
  assert.deepEqual(await readdir(cwd), []);
});

test("an error mid-capture removes the partial file", async () => {
  const cwd = await tempDir();
  const err = new Error("agent went away");
  const f = fakeContext({ streamProfile: () => streamOf([meta(CaptureKind.CAPTURE_KIND_CPU_PROFILE, ".pprof.gz"), chunk("part")], err) }, { cwd });
  await assert.rejects(runCpu({ pid: 4132, output: "cpu.pb.gz" }, f.ctx), (e) => e === err);
  assert.deepEqual(await readdir(cwd), []);
  assert.equal(f.stdout.text(), "");
});

test("an abort (Ctrl-C) mid-capture ends the stream and removes the partial file", async () => {
  const cwd = await tempDir();
  const ctl = new AbortController();
  let closed = false;
  async function* stream(): AsyncGenerator<StreamProfileResponse> {
    try {
      yield meta(CaptureKind.CAPTURE_KIND_CPU_PROFILE, ".pprof.gz", 30_000);
      yield chunk("part");
      ctl.abort(new Error("interrupted"));
      ctl.signal.throwIfAborted(); // like a real call: the stream fails once its signal is aborted
    } finally {
      closed = true;
    }
  }
  const f = fakeContext({ streamProfile: () => stream() }, { cwd, signal: ctl.signal });
  await assert.rejects(runCpu({ pid: 4132, output: undefined }, f.ctx), /interrupted/);
  assert.equal(closed, true);
  assert.deepEqual(await readdir(cwd), []);
});

test("when writing fails, the capture stream is closed", async () => {
  const cwd = await tempDir();
  let closed = false;
  async function* stream(): AsyncGenerator<StreamProfileResponse> {
    try {
      yield meta(CaptureKind.CAPTURE_KIND_HEAP_PROFILE, ".pprof.gz");
      yield chunk("x");
    } finally {
      closed = true;
    }
  }
  const f = fakeContext({ streamProfile: () => stream() }, { cwd });
  await assert.rejects(runHeap({ pid: 4132, output: "missing-dir/heap.pb.gz" }, f.ctx), { code: "ENOENT" });
  assert.equal(closed, true);
});
