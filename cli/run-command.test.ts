// Commands across hosts, against scripted hosts through the real fan-out: HOST columns, NDJSON as hosts settle,
// the summary line, exit statuses, ps --sort and --module, stack --summary fleet-wide, captures one file per host
// and --merge.
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { gunzipSync } from "node:zlib";
import { ClientError, Status } from "nice-grpc-common";
import { decodeProfile, encodeProfile, topFunctions } from "../analysis/index.js";
import {
  AgentState,
  type Diagnostics,
  parseModuleQuery,
  type ListProcessesResponse,
  type Process,
} from "../client/index.js";
import { CaptureKind, type StreamProfileResponse } from "../proto/index.js";
import { run as runMemstats } from "./commands/memstats.js";
import { run as runHeap } from "./commands/pprof-heap.js";
import { run as runPs } from "./commands/ps.js";
import { run as runStack } from "./commands/stack.js";
import { HostsFailedError } from "./errors.js";
import { fakeContext, fakeFleet, streamOf } from "./fake-context.testkit.js";
import { heapProfile } from "./sample-profiles.testkit.js";

const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

function proc(pid: number, name: string, extra: Partial<Process> = {}): Process {
  return {
    pid,
    ppid: 1,
    name,
    exe: `/usr/bin/${name}`,
    user: "app",
    uid: 1000,
    isGo: true,
    goVersion: "go1.19.8",
    modulePath: `example.com/${name}`,
    moduleVersion: "(devel)",
    agent: { state: AgentState.AGENT_STATE_LISTENING, address: "127.0.0.1:1", detail: "", portFile: "" },
    cpuPercent: 0,
    rssBytes: 0,
    memoryPercent: 0,
    startTimeUnixMs: 0,
    ...extra,
  } as Process;
}

function listing(host: string, processes: Process[]): ListProcessesResponse {
  return { host, scanned: processes.length, processes, problemCounts: [], problems: [] } as ListProcessesResponse;
}

const denied = () => {
  throw new ClientError("/gops.v1.Diagnostics/ListProcesses", Status.PERMISSION_DENIED, "token lacks scope gops:read");
};

test("ps across hosts: a HOST column on a terminal, failures on stderr, the summary line, the first failure's status", async () => {
  const fleet = fakeFleet({
    "web-1": { listProcesses: async () => listing("web-1", [proc(20, "api"), proc(10, "worker")]) },
    "web-2": { listProcesses: denied },
    "web-3": { listProcesses: async () => listing("web-3", [proc(30, "api", { agent: undefined })]) },
  });
  const f = fakeContext({}, { fleet });
  await assert.rejects(runPs({ allProcesses: false }, f.ctx), (e) => e instanceof HostsFailedError && e.code === Status.PERMISSION_DENIED);
  assert.deepEqual(f.stdout.text().split("\n"), [
    "HOST   PID  PPID  NAME    *  VERSION   PATH",
    "web-1  10   1     worker  *  go1.19.8  /usr/bin/worker",
    "web-1  20   1     api     *  go1.19.8  /usr/bin/api",
    "web-3  30   1     api        go1.19.8  /usr/bin/api",
    "",
  ]);
  assert.match(f.stderr.text(), /^web-2: PERMISSION_DENIED: token lacks scope gops:read\n2\/3 hosts ok; web-2: PERMISSION_DENIED after \d+m?s\n$/);
  assert.equal(f.calls.length, 0, "nothing goes to the single-host client");
});

test("--json across hosts: NDJSON, one line per host as it settles, errors with their status name", async () => {
  let release!: () => void;
  const slow = new Promise<void>((r) => (release = r));
  const fleet = fakeFleet({
    slow: { version: async () => (await slow, { goVersion: "go1.19.1" }) },
    fast: { version: async () => ({ goVersion: "go1.19.2" }) },
  });
  const f = fakeContext({}, { fleet, json: true });
  const { run } = await import("./commands/version.js");
  const done = run({ pid: 7 }, f.ctx);
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(JSON.parse(f.stdout.text()), { host: "fast", value: { pid: 7, goVersion: "go1.19.2" } }, "the fast host is printed first, at once");
  release();
  await done;
  assert.deepEqual(f.stdout.text().trim().split("\n").map((l) => JSON.parse(l) as unknown), [
    { host: "fast", value: { pid: 7, goVersion: "go1.19.2" } },
    { host: "slow", value: { pid: 7, goVersion: "go1.19.1" } },
  ]);
  assert.equal(f.stderr.text(), "2/2 hosts ok\n");

  const g = fakeContext({}, { fleet: fakeFleet({ a: { version: denied } }), json: true });
  await assert.rejects(run({ pid: 7 }, g.ctx), HostsFailedError);
  const line = JSON.parse(g.stdout.text()) as { host: string; error: { code: string; message: string } };
  assert.deepEqual([line.host, line.error.code, line.error.message], ["a", "PERMISSION_DENIED", "token lacks scope gops:read"]);
});

test("a host past its deadline is DEADLINE_EXCEEDED; the others answer", async () => {
  const fleet = fakeFleet(
    {
      "web-1": { memStats: async () => ({ stats: { heapAlloc: 2048, heapInUse: 4096, heapObjects: 12, sys: 1 << 20, totalAlloc: 8192, numGc: 3, nextGc: 4 << 20, gcPauseTotalNs: 1_500_000 } as never, raw: "", unknownKeys: [] }) },
      "web-7": { memStats: (_req, o) => new Promise((_, reject) => (o as { signal: AbortSignal }).signal.addEventListener("abort", () => reject(new Error("aborted")))) },
    },
    { perHostDeadlineMs: 50 },
  );
  const f = fakeContext({}, { fleet });
  await assert.rejects(runMemstats({ pid: 9 }, f.ctx), (e) => e instanceof HostsFailedError && e.code === Status.DEADLINE_EXCEEDED);
  assert.deepEqual(f.stdout.text().split("\n"), [
    "HOST   HEAP-ALLOC  HEAP-INUSE  HEAP-OBJECTS  SYS  TOTAL-ALLOC  NUM-GC  NEXT-GC  GC-PAUSE-TOTAL",
    "web-1  2kB         4kB         12            1MB  8kB          3       4MB      1.5ms",
    "",
  ]);
  // "after N ms": at least the 50 ms deadline, more on a busy machine (timers fire late, never early by more than 1 ms).
  const m = /1\/2 hosts ok; web-7: DEADLINE_EXCEEDED after (\d+)ms\n$/.exec(f.stderr.text());
  assert.ok(m && Number(m[1]) >= 49, f.stderr.text());
});

test("ps --sort heap across hosts: asks each listening agent, largest first, skips processes without agent", async () => {
  const heap: Record<number, number> = { 10: 5 << 20, 20: 1 << 20, 40: 9 << 20 };
  const memStats: Diagnostics["memStats"] = async (req) => ({ stats: { heapAlloc: heap[req.pid!]! } as never, raw: "", unknownKeys: [] });
  const fleet = fakeFleet({
    "web-1": { listProcesses: async () => listing("web-1", [proc(10, "a"), proc(20, "b"), proc(30, "noagent", { agent: undefined })]), memStats },
    "web-2": { listProcesses: async () => listing("web-2", [proc(40, "c")]), memStats },
  });
  const f = fakeContext({}, { fleet });
  await runPs({ allProcesses: false, sort: "heap" }, f.ctx);
  const rows = f.stdout.text().trim().split("\n").map((l) => l.split(/\s+/));
  assert.deepEqual(rows[0], ["HOST", "PID", "PPID", "NAME", "*", "VERSION", "HEAP", "PATH"]);
  assert.deepEqual(rows.slice(1).map((r) => [r[0], r[1], r[6]]), [
    ["web-2", "40", "9MB"],
    ["web-1", "10", "5MB"],
    ["web-1", "20", "1MB"],
  ]);
  assert.deepEqual(fleet.calls.get("web-1")!.filter((c) => c.method === "memStats").map((c) => c.request), [{ pid: 10 }, { pid: 20 }]);
  assert.match(f.stderr.text(), /--sort heap: 1 process without a gops agent or pprof endpoint left out\n2\/2 hosts ok\n$/);
});

test("ps --module: ListProcesses then GetBuildInfo per Go process; HOST PID NAME MODULE VERSION VIA", async () => {
  const buildInfo = (deps: { path: string; version: string }[]) => async () =>
    ({ pid: 0, exe: "", buildInfo: { goVersion: "go1.19", path: "", main: { path: "example.com/app", version: "(devel)", sum: "" }, deps: deps.map((d) => ({ ...d, sum: "" })), settings: [] } }) as never;
  const fleet = fakeFleet({
    "web-1": { listProcesses: async () => listing("web-1", [proc(10, "app")]), getBuildInfo: buildInfo([{ path: "golang.org/x/net", version: "v0.7.0" }]) },
    "web-2": { listProcesses: async () => listing("web-2", [proc(20, "app")]), getBuildInfo: buildInfo([{ path: "golang.org/x/net", version: "v0.17.0" }]) },
  });
  const f = fakeContext({}, { fleet });
  await runPs({ allProcesses: false, module: parseModuleQuery("golang.org/x/net@<v0.17.0") }, f.ctx);
  assert.deepEqual(f.stdout.text().trim().split("\n").map((l) => l.split(/\s+/)), [
    ["HOST", "PID", "NAME", "MODULE", "VERSION", "VIA"],
    ["web-1", "10", "app", "golang.org/x/net", "v0.7.0", "dependency"],
  ]);
});

test("stack --summary across hosts: fleet-wide groups with per-host counts", async () => {
  const dump = (n: number) =>
    Array.from({ length: n }, (_, i) => `goroutine ${i + 1} [chan receive]:\nmain.wait()\n\t/src/main.go:10 +0x1\ncreated by main.main\n\t/src/main.go:5 +0x2\n`).join("\n");
  const fleet = fakeFleet({
    a: { stack: () => streamOf([{ chunk: Buffer.from(dump(3)) }]) },
    b: { stack: () => streamOf([{ chunk: Buffer.from(dump(2)) }]) },
  });
  const f = fakeContext({}, { fleet });
  await runStack({ pid: 5, summary: true }, f.ctx);
  assert.match(f.stdout.text(), /^5 goroutines in 1 group\n\n5 goroutines \| chan receive 5\n  hosts: a 3, b 2\n    main\.wait\n/);
  const j = fakeContext({}, { fleet, json: true });
  await runStack({ pid: 5, summary: true }, j.ctx);
  const lines = j.stdout.text().trim().split("\n").map((l) => JSON.parse(l) as Record<string, { goroutines: number; hosts?: string[] }>);
  assert.equal(lines.length, 3);
  assert.deepEqual(lines.at(-1)!.merged, { ...lines.at(-1)!.merged, pid: 5, hosts: ["a", "b"], goroutines: 5 });
});

test("pprof-heap across hosts: one file per host in -o DIR; --merge saves and reports the merged profile", async () => {
  const cwd = await mkdtemp(join(tmpdir(), "gopsctl-across-"));
  dirs.push(cwd);
  const bytes = encodeProfile(heapProfile);
  const stream = (host: string) => () =>
    streamOf<StreamProfileResponse>([
      { payload: { $case: "metadata", value: { pid: 4132, kind: CaptureKind.CAPTURE_KIND_HEAP_PROFILE, expectedDurationMs: 0, fileExtension: ".pprof.gz", host } } },
      { payload: { $case: "chunk", value: bytes } },
    ]);
  const broken = () => streamOf<StreamProfileResponse>([], new ClientError("/p", Status.UNAVAILABLE, "gopsd at x is unreachable"));
  const fleet = fakeFleet({ "web-1": { streamProfile: stream("web-1") }, "web-2": { streamProfile: stream("web-2") }, "web-3": { streamProfile: broken } });
  const f = fakeContext({}, { fleet, cwd });
  const opts = { pid: 4132, output: "heap", top: 5, sampleIndex: "inuse_space", flame: undefined, merge: true };
  await assert.rejects(runHeap(opts, f.ctx), (e) => e instanceof HostsFailedError && e.code === Status.UNAVAILABLE);
  const files = (await readdir(join(cwd, "heap"))).sort();
  assert.deepEqual(files, ["merged-heap-20261126-110257.pprof.gz", "web-1-4132-heap-20261126-110257.pprof.gz", "web-2-4132-heap-20261126-110257.pprof.gz"]);
  const merged = decodeProfile(await readFile(join(cwd, "heap", files[0]!)));
  assert.ok(gunzipSync(await readFile(join(cwd, "heap", files[1]!))).length > 0);
  const one = topFunctions(heapProfile, { sampleIndex: "inuse_space" });
  const both = topFunctions(merged, { sampleIndex: "inuse_space" });
  assert.equal(both.total, 2 * one.total, "values summed over the two hosts that answered");
  const out = f.stdout.text();
  assert.match(out, /heap\/web-1-4132-heap-20261126-110257\.pprof\.gz\n/);
  assert.match(out, /heap\/merged-heap-20261126-110257\.pprof\.gz\n/);
  assert.equal(out.match(/flat%/g)?.length, 1, "one merged table, not one per host");
  assert.match(out, /main\.keep/);
  assert.match(f.stderr.text(), /2\/3 hosts ok; web-3: UNAVAILABLE after/);
});

test("pprof-heap --merge -o /absolute/dir: the merged profile goes into that directory, like the hosts' files", async () => {
  const cwd = await mkdtemp(join(tmpdir(), "gopsctl-across-"));
  const out = await mkdtemp(join(tmpdir(), "gopsctl-out-"));
  dirs.push(cwd, out);
  const stream = () =>
    streamOf<StreamProfileResponse>([
      { payload: { $case: "metadata", value: { pid: 7, kind: CaptureKind.CAPTURE_KIND_HEAP_PROFILE, expectedDurationMs: 0, fileExtension: ".pprof.gz", host: "a" } } },
      { payload: { $case: "chunk", value: encodeProfile(heapProfile) } },
    ]);
  const f = fakeContext({}, { fleet: fakeFleet({ a: { streamProfile: stream }, b: { streamProfile: stream } }), cwd, json: true });
  await runHeap({ pid: 7, output: out, top: undefined, sampleIndex: undefined, flame: undefined, merge: true }, f.ctx);
  const merged = join(out, "merged-heap-20261126-110257.pprof.gz");
  assert.ok(decodeProfile(await readFile(merged)).sample.length > 0);
  assert.equal((JSON.parse(f.stdout.text().trim().split("\n").at(-1)!) as { merged: { path: string } }).merged.path, merged);
  assert.deepEqual(await readdir(cwd), [], "nothing written under the working directory");
});
