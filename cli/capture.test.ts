import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { CaptureKind, ProfileKind, type StreamProfileResponse } from "../proto/index.js";
import { run as runCpu } from "./commands/pprof-cpu.js";
import { run as runHeap } from "./commands/pprof-heap.js";
import { run as runTrace } from "./commands/trace.js";
import { fakeContext, streamOf } from "./fake-context.testkit.js";

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
/** No --top, --sample-index or --flame. */
const saveOnly = { top: undefined, sampleIndex: undefined, flame: undefined, merge: false };
const chunk = (s: string | Buffer): StreamProfileResponse => ({ payload: { $case: "chunk", value: Buffer.from(s) } });

test("pprof-cpu: default file name in the cwd, path on stdout, go tool hint on stderr", async () => {
  const cwd = await tempDir();
  const f = fakeContext(
    { streamProfile: () => streamOf([meta(CaptureKind.CAPTURE_KIND_CPU_PROFILE, ".pprof.gz", 30_000), chunk(Buffer.from([0x1f, 0x8b])), chunk("rest")]) },
    { cwd },
  );
  await runCpu({ pid: 4132, output: undefined, ...saveOnly }, f.ctx);
  assert.deepEqual(f.calls.map((c) => [c.method, c.request, c.signal]), [["streamProfile", { pid: 4132, kind: ProfileKind.PROFILE_KIND_CPU }, f.ctx.signal]]);
  assert.deepEqual(await readdir(cwd), ["4132-cpu-20261126-110257.pprof.gz"]);
  assert.equal(await readFile(join(cwd, "4132-cpu-20261126-110257.pprof.gz"), "latin1"), "\x1f\x8brest");
  assert.equal(f.stdout.text(), "4132-cpu-20261126-110257.pprof.gz\n");
  assert.equal(f.stderr.text(), "view it with: go tool pprof 4132-cpu-20261126-110257.pprof.gz\n", "no progress: stderr is no terminal");
});

test("a terminal's stderr gets a progress line for the capture, erased before the hint", async () => {
  const cwd = await tempDir();
  const f = fakeContext(
    { streamProfile: () => streamOf([meta(CaptureKind.CAPTURE_KIND_CPU_PROFILE, ".pprof.gz", 30_000), chunk("data")]) },
    { cwd, stderrIsTTY: true },
  );
  await runCpu({ pid: 4132, output: "cpu.pb.gz", ...saveOnly }, f.ctx);
  assert.match(f.stderr.text(), /^\rCPU profile of pid 4132 \[-{10,40}\] 0s of 30s, 30s left\x1b\[K/);
  assert.ok(f.stderr.text().endsWith("\r\x1b[Kview it with: go tool pprof cpu.pb.gz\n"), JSON.stringify(f.stderr.text()));
  const quiet = fakeContext(
    { streamProfile: () => streamOf([meta(CaptureKind.CAPTURE_KIND_CPU_PROFILE, ".pprof.gz", 30_000), chunk("data")]) },
    { cwd, stderrIsTTY: true, json: true },
  );
  await runCpu({ pid: 4132, output: "cpu2.pb.gz", ...saveOnly }, quiet.ctx);
  assert.equal(quiet.stderr.text(), "", "nothing extra with --json");
});

test("pprof-heap: -o FILE relative to the cwd; --json prints {pid, kind, path, bytes} only", async () => {
  const cwd = await tempDir();
  const f = fakeContext({ streamProfile: () => streamOf([meta(CaptureKind.CAPTURE_KIND_HEAP_PROFILE, ".pprof.gz"), chunk("heap!")]) }, { cwd, json: true });
  await runHeap({ pid: 4132, output: "my heap.pb.gz", ...saveOnly }, f.ctx);
  assert.deepEqual(f.calls[0]!.request, { pid: 4132, kind: ProfileKind.PROFILE_KIND_HEAP });
  assert.equal(await readFile(join(cwd, "my heap.pb.gz"), "utf8"), "heap!");
  assert.deepEqual(JSON.parse(f.stdout.text()), { pid: 4132, kind: "heap", path: join(cwd, "my heap.pb.gz"), bytes: 5 });
  assert.equal(f.stderr.text(), "");
});

const TRACE_HEAD = "go 1.19 trace\0\0\0";

test("trace: the kind's extension when gopsd suggests none; one summary line with the open command", async () => {
  const cwd = await tempDir();
  const f = fakeContext(
    { streamTrace: () => streamOf([meta(CaptureKind.CAPTURE_KIND_TRACE, "", 5000), chunk(TRACE_HEAD), chunk(Buffer.alloc(2032))]) },
    { cwd, isTTY: false },
  );
  await runTrace({ pid: 4132, output: undefined }, f.ctx);
  assert.deepEqual(await readdir(cwd), ["4132-trace-20261126-110257.trace"]);
  assert.equal(
    f.stdout.text(),
    "4132-trace-20261126-110257.trace: 2kB runtime trace (go 1.19 format), 5s; open it with: go tool trace 4132-trace-20261126-110257.trace\n",
  );
  assert.equal(f.stderr.text(), "", "no progress line when not a terminal");

  const g = fakeContext({ streamTrace: () => streamOf([meta(CaptureKind.CAPTURE_KIND_TRACE, ".trace", 5000), chunk(TRACE_HEAD)]) }, { cwd });
  await runTrace({ pid: 4132, output: "it's here.trace" }, g.ctx);
  assert.match(g.stdout.text(), / open it with: go tool trace 'it'\\''s here\.trace'\n$/);
});

test("trace --json: the file's fields and the summary", async () => {
  const cwd = await tempDir();
  const f = fakeContext({ streamTrace: () => streamOf([meta(CaptureKind.CAPTURE_KIND_TRACE, ".trace", 5000), chunk(TRACE_HEAD)]) }, { cwd, json: true });
  await runTrace({ pid: 4132, output: "t.trace" }, f.ctx);
  assert.deepEqual(JSON.parse(f.stdout.text()), {
    pid: 4132,
    kind: "trace",
    path: join(cwd, "t.trace"),
    bytes: 16,
    goVersion: "1.19",
    durationMs: 5000,
    openCommand: "go tool trace t.trace",
    line: "t.trace: 16B runtime trace (go 1.19 format), 5s; open it with: go tool trace t.trace",
  });
});

test("trace: bytes that are no Go trace are an error naming the saved file", async () => {
  const cwd = await tempDir();
  const f = fakeContext({ streamTrace: () => streamOf([meta(CaptureKind.CAPTURE_KIND_TRACE, ".trace", 5000), chunk("garbage, not a trace")]) }, { cwd });
  await assert.rejects(runTrace({ pid: 4132, output: "t.trace" }, f.ctx), /^Error: saved t\.trace, but not a Go runtime trace/);
  assert.deepEqual(await readdir(cwd), ["t.trace"]);
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
  await assert.rejects(runCpu({ pid: 4132, output: "cpu.pb.gz", ...saveOnly }, f.ctx), (e) => e === err);
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
  await assert.rejects(runCpu({ pid: 4132, output: undefined, ...saveOnly }, f.ctx), /interrupted/);
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
  await assert.rejects(runHeap({ pid: 4132, output: "missing-dir/heap.pb.gz", ...saveOnly }, f.ctx), { code: "ENOENT" });
  assert.equal(closed, true);
});
