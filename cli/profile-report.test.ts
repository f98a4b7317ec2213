import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { encodeProfile, formatTop, topFunctions } from "../analysis/index.js";
import { CaptureKind, type StreamProfileResponse } from "../proto/index.js";
import { run as runCpu } from "./commands/pprof-cpu.js";
import { run as runHeap } from "./commands/pprof-heap.js";
import { UsageError } from "./errors.js";
import { fakeContext, streamOf } from "./fake-context.testkit.js";
import { parseCommandLine as parseArgv } from "./commands/index.js";
import { cpuProfile, heapProfile } from "./sample-profiles.testkit.js";
import { buildProfileReport, flameTitle, formatProfileReport, parseProfileReportFlags } from "./profile-report.js";

const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "gopsctl-report-"));
  dirs.push(d);
  return d;
}

const flags = (...argv: string[]) => parseProfileReportFlags(parseArgv(argv, {}));
const usage = (argv: string[], message: RegExp, known?: readonly string[]) =>
  assert.throws(() => parseProfileReportFlags(parseArgv(argv, {}), known), (e: unknown) => e instanceof UsageError && message.test(e.message), argv.join(" "));

test("--top takes an optional number: alone, before another argument, as the next token or after =", () => {
  assert.deepEqual(flags("pprof-cpu", "123", "--top"), { top: 10, sampleIndex: undefined, flame: undefined });
  assert.deepEqual(parseArgv(["pprof-cpu", "123", "--top"], {}).positionals, ["pprof-cpu", "123"]);
  assert.equal(flags("pprof-cpu", "123", "--top", "20").top, 20);
  assert.equal(flags("pprof-cpu", "123", "--top=20").top, 20);
  assert.deepEqual(parseArgv(["pprof", "--top", "cpu.pb.gz"], {}).positionals, ["pprof", "cpu.pb.gz"], "a file name is no row count");
  assert.deepEqual(parseArgv(["pprof-cpu", "--top", "--json", "123"], {}).positionals, ["pprof-cpu", "123"]);
  assert.deepEqual(flags("x", "--flame", "f.html", "--sample-index", "alloc_space"), { top: undefined, sampleIndex: "alloc_space", flame: "f.html" });
  assert.deepEqual(flags("x"), { top: undefined, sampleIndex: undefined, flame: undefined });
});

test("bad --top, --sample-index without a report, or a sample index the capture cannot have", () => {
  usage(["x", "--top=0"], /invalid --top "0"/);
  usage(["x", "--top=ten"], /invalid --top "ten"/);
  usage(["x", "--sample-index", "alloc_space"], /give one of them/);
  usage(["x", "--top", "--sample-index", "alloc_space"], /invalid --sample-index "alloc_space" \(want one of: cpu, samples\)/, ["cpu", "samples"]);
});

test("the report: formatTop's table of the chosen sample index and a flame graph titled with the origin", () => {
  const report = buildProfileReport(cpuProfile, { top: 2, sampleIndex: undefined, flame: true }, { what: "CPU profile", pid: 4132, host: "web-1" });
  assert.equal(report.sampleType, "cpu");
  assert.deepEqual(report.top, topFunctions(cpuProfile, { limit: 2 }));
  assert.deepEqual(report.top!.rows.map((r) => r.name), ["main.hotLoop", "runtime.mallocgc"]);
  assert.match(report.flameHtml!, /<title>CPU profile of pid 4132 on web-1 \(cpu\)<\/title>/);
  assert.match(report.flameHtml!, /main\.hotLoop/);
  assert.equal(formatProfileReport(report, "cpu.html"), `${formatTop(report.top!)}flame graph: cpu.html (open it in a browser)\n`);

  const heap = buildProfileReport(heapProfile, { top: 10, sampleIndex: "alloc_space", flame: false }, { what: "heap profile" });
  assert.equal(heap.sampleType, "alloc_space");
  assert.equal(heap.flameHtml, undefined);
  assert.equal(heap.top!.rows[0]!.name, "main.allocSite");
  assert.equal(buildProfileReport(heapProfile, { top: 10, sampleIndex: undefined, flame: false }, { what: "heap profile" }).top!.rows[0]!.name, "main.keep");
  assert.equal(flameTitle({ what: "profile", file: "heap.pb.gz" }, "inuse_space"), "heap.pb.gz (inuse_space)");
});

const meta = (kind: CaptureKind, expectedDurationMs: number): StreamProfileResponse => ({
  payload: { $case: "metadata", value: { pid: 4132, kind, expectedDurationMs, fileExtension: ".pprof.gz", host: "web-1" } },
});
const chunks = (bytes: Buffer): StreamProfileResponse[] =>
  [bytes.subarray(0, 10), bytes.subarray(10)].map((value) => ({ payload: { $case: "chunk", value } }));

test("pprof-cpu --top --flame: the file, then the table and the flame graph's path; both files written", async () => {
  const cwd = await tempDir();
  const bytes = encodeProfile(cpuProfile);
  const f = fakeContext({ streamProfile: () => streamOf([meta(CaptureKind.CAPTURE_KIND_CPU_PROFILE, 30_000), ...chunks(bytes)]) }, { cwd, isTTY: false });
  await runCpu({ pid: 4132, output: "cpu.pb.gz", top: 10, sampleIndex: undefined, flame: "cpu.html", merge: false }, f.ctx);
  assert.deepEqual((await readdir(cwd)).sort(), ["cpu.html", "cpu.pb.gz"]);
  assert.deepEqual(await readFile(join(cwd, "cpu.pb.gz")), bytes, "the file is the agent's bytes");
  const html = await readFile(join(cwd, "cpu.html"), "utf8");
  assert.match(html, /<title>CPU profile of pid 4132 on web-1 \(cpu\)<\/title>/);
  const table = formatTop(topFunctions(cpuProfile, { limit: 10 }));
  assert.equal(f.stdout.text(), `cpu.pb.gz\n${table}flame graph: cpu.html (open it in a browser)\n`);
  assert.match(f.stdout.text(), /^\s+800ms 80\.00% 80\.00%\s+800ms 80\.00%  main\.hotLoop$/m);
  assert.equal(f.stderr.text(), "view it with: go tool pprof cpu.pb.gz\n");
});

test("pprof-heap --top --sample-index --json: {pid, kind, path, bytes, top}", async () => {
  const cwd = await tempDir();
  const bytes = encodeProfile(heapProfile);
  const f = fakeContext({ streamProfile: () => streamOf([meta(CaptureKind.CAPTURE_KIND_HEAP_PROFILE, 0), ...chunks(bytes)]) }, { cwd, json: true });
  await runHeap({ pid: 4132, output: "heap.pb.gz", top: 5, sampleIndex: "alloc_space", flame: undefined, merge: false }, f.ctx);
  const out = JSON.parse(f.stdout.text());
  assert.deepEqual(Object.keys(out), ["pid", "kind", "path", "bytes", "top"]);
  assert.deepEqual([out.pid, out.kind, out.path, out.bytes], [4132, "heap", join(cwd, "heap.pb.gz"), bytes.length]);
  assert.deepEqual(out.top, JSON.parse(JSON.stringify(topFunctions(heapProfile, { limit: 5, sampleIndex: "alloc_space" }))));
  assert.equal(f.stderr.text(), "");
});

test("a capture that is no profile: the error names the saved file, which stays", async () => {
  const cwd = await tempDir();
  const f = fakeContext({ streamProfile: () => streamOf([meta(CaptureKind.CAPTURE_KIND_HEAP_PROFILE, 0), { payload: { $case: "chunk", value: Buffer.from("nope") } }]) }, { cwd });
  await assert.rejects(runHeap({ pid: 4132, output: "heap.pb.gz", top: 10, sampleIndex: undefined, flame: "h.html", merge: false }, f.ctx), /^Error: saved heap\.pb\.gz, but not a pprof profile/);
  assert.deepEqual(await readdir(cwd), ["heap.pb.gz"]);
});
