// --duration on pprof-cpu and trace, pprof-heap --kind, and file names from the CaptureKind gopsd reports (issue 11).
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { CaptureKind, ProfileKind, type StreamProfileResponse } from "../proto/index.js";
import { parseCaptureDuration } from "./capture.js";
import { parseCommandLine, resolveCommand } from "./commands/index.js";
import { run as runCpu } from "./commands/pprof-cpu.js";
import { run as runHeap } from "./commands/pprof-heap.js";
import { run as runTrace } from "./commands/trace.js";
import { UsageError } from "./errors.js";
import { fakeContext, streamOf } from "./fake-context.testkit.js";

const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "gopsctl-capture-kinds-"));
  dirs.push(d);
  return d;
}

const resolve = (...argv: string[]) => resolveCommand(parseCommandLine(argv, {}));
const usage = (argv: string[], message: RegExp) =>
  assert.throws(() => resolve(...argv), (e: unknown) => e instanceof UsageError && message.test(e.message), argv.join(" "));
const meta = (kind: CaptureKind, expectedDurationMs = 0): StreamProfileResponse => ({
  payload: { $case: "metadata", value: { pid: 4132, kind, expectedDurationMs, fileExtension: kind === CaptureKind.CAPTURE_KIND_TRACE ? ".trace" : ".pprof.gz", host: "web-1" } },
});
const chunk = (s: string): StreamProfileResponse => ({ payload: { $case: "chunk", value: Buffer.from(s) } });
const saveOnly = { top: undefined, sampleIndex: undefined, flame: undefined, merge: false };

test("--duration: Go durations or seconds, whole seconds from 1s to 10m", () => {
  assert.equal(parseCaptureDuration(undefined), undefined);
  assert.equal(parseCaptureDuration("10s"), 10);
  assert.equal(parseCaptureDuration("1m30s"), 90);
  assert.equal(parseCaptureDuration("10m"), 600);
  assert.equal(parseCaptureDuration("2"), 2);
  assert.equal(parseCaptureDuration("2000ms"), 2);
  for (const bad of ["1.5s", "500ms", "0s", "0", "-2s", "10m1s", "601"]) {
    assert.throws(() => parseCaptureDuration(bad), /whole seconds from 1s to 10m/, bad);
  }
  for (const bad of ["abc", "10x", ""]) assert.throws(() => parseCaptureDuration(bad), /want e\.g\. 10s/, bad);
});

test("pprof-cpu and trace take --duration; pprof-heap takes --kind; each refuses the other's flag", () => {
  assert.equal((resolve("pprof-cpu", "7", "--duration", "10s").opts as { durationSeconds?: number }).durationSeconds, 10);
  assert.equal((resolve("pprof-cpu", "7").opts as { durationSeconds?: number }).durationSeconds, undefined);
  assert.equal((resolve("trace", "7", "--duration=2s").opts as { durationSeconds?: number }).durationSeconds, 2);
  assert.deepEqual(resolve("trace", "7").opts, { pid: 7, output: undefined });
  usage(["trace", "7", "--duration", "1.5s"], /^invalid --duration "1\.5s"/);
  assert.equal((resolve("pprof-heap", "7", "--kind", "mutex").opts as { profile?: string }).profile, "mutex");
  assert.equal((resolve("pprof-heap", "7", "--kind", "block", "--top", "--sample-index", "delay").opts as { sampleIndex?: string }).sampleIndex, "delay");
  usage(["pprof-heap", "7", "--kind", "goroutine", "--top", "--sample-index", "inuse_space"], /invalid --sample-index "inuse_space" \(want one of: goroutine\)/);
  usage(["pprof-heap", "7", "--kind", "cpu"], /^invalid --kind "cpu" \(want one of: heap, allocs, block, mutex, goroutine, threadcreate\)$/);
  assert.throws(() => resolve("pprof-heap", "7", "--duration", "2s"), UsageError);
  assert.throws(() => resolve("pprof-cpu", "7", "--kind", "mutex"), UsageError);
});

test("pprof-cpu --duration asks for it and shows the progress of the expected duration", async () => {
  const cwd = await tempDir();
  const f = fakeContext({ streamProfile: () => streamOf([meta(CaptureKind.CAPTURE_KIND_CPU_PROFILE, 10_000), chunk("x")]) }, { cwd, stderrIsTTY: true });
  await runCpu({ pid: 4132, output: "cpu.pb.gz", durationSeconds: 10, ...saveOnly }, f.ctx);
  assert.deepEqual(f.calls[0]!.request, { pid: 4132, kind: ProfileKind.PROFILE_KIND_CPU, durationSeconds: 10 });
  assert.match(f.stderr.text(), /^\rCPU profile of pid 4132 \[-+\] 0s of 10s, 10s left/);
});

test("trace --duration asks for it", async () => {
  const cwd = await tempDir();
  const f = fakeContext({ streamTrace: () => streamOf([meta(CaptureKind.CAPTURE_KIND_TRACE, 2_000), chunk("go 1.19 trace\x00\x00\x00")]) }, { cwd });
  // No catch: an error of the command (e.g. in describing the saved trace) fails the test.
  await runTrace({ pid: 4132, output: undefined, durationSeconds: 2 }, f.ctx);
  assert.deepEqual(f.calls[0]!.request, { pid: 4132, durationSeconds: 2 });
  assert.deepEqual(await readdir(cwd), ["4132-trace-20261126-110257.trace"]);
  // The one line of a saved trace names the file, the asked duration and the command that opens it.
  assert.match(f.stdout.text(), /^4132-trace-20261126-110257\.trace: .*2s.*go tool trace 4132-trace-20261126-110257\.trace\n$/);
});

test("pprof-heap --kind: the profile kind asked for; the file and the JSON are named after the kind gopsd captured", async () => {
  const kinds = [
    ["allocs", ProfileKind.PROFILE_KIND_ALLOCS, CaptureKind.CAPTURE_KIND_ALLOCS_PROFILE],
    ["block", ProfileKind.PROFILE_KIND_BLOCK, CaptureKind.CAPTURE_KIND_BLOCK_PROFILE],
    ["mutex", ProfileKind.PROFILE_KIND_MUTEX, CaptureKind.CAPTURE_KIND_MUTEX_PROFILE],
    ["goroutine", ProfileKind.PROFILE_KIND_GOROUTINE, CaptureKind.CAPTURE_KIND_GOROUTINE_PROFILE],
    ["threadcreate", ProfileKind.PROFILE_KIND_THREADCREATE, CaptureKind.CAPTURE_KIND_THREADCREATE_PROFILE],
  ] as const;
  for (const [name, profileKind, captureKind] of kinds) {
    const cwd = await tempDir();
    const f = fakeContext({ streamProfile: () => streamOf([meta(captureKind), chunk("p")]) }, { cwd, json: true });
    await runHeap({ pid: 4132, output: undefined, profile: name, ...saveOnly }, f.ctx);
    assert.deepEqual(f.calls[0]!.request, { pid: 4132, kind: profileKind });
    const file = `4132-${name}-20261126-110257.pprof.gz`;
    assert.deepEqual(await readdir(cwd), [file]);
    assert.deepEqual(JSON.parse(f.stdout.text()), { pid: 4132, kind: name, path: join(cwd, file), bytes: 1 });
  }
});
