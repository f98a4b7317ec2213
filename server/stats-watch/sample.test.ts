import assert from "node:assert/strict";
import { test } from "node:test";
import { AgentKind } from "../../proto/index.js";
import { agentReading } from "../watch-stats.js";
import { AGENT_FIELDS, parseGogc, toProcessStats, type ProcessEntry, type ProcReading } from "./sample.js";

const proc: ProcReading = {
  pid: 9,
  starttime: 90,
  name: "api",
  modulePath: "example.com/api",
  backend: AgentKind.AGENT_KIND_GOPS_AGENT,
  cpuTicks: 150,
  rssBytes: 4096,
  threads: 7,
  startTimeUnixMs: 5,
  gogcEnv: 100,
  gogcSet: undefined,
};
const entry = (over: Partial<ProcessEntry> = {}): ProcessEntry => ({
  proc,
  at: 2000,
  agent: { goroutines: 12, gomaxprocs: 4, heapInUseBytes: 1 << 20, heapObjects: 50, numGc: 10, gcPauseTotalNs: 5000, gcCpuFraction: 0.5, enableGc: true },
  unknown: new Set(),
  stale: new Set(),
  detail: "",
  ...over,
});

test("GOGC as the runtime reads it", () => {
  assert.equal(parseGogc(undefined), 100);
  assert.equal(parseGogc(""), 100);
  assert.equal(parseGogc("off"), -1);
  assert.equal(parseGogc("50"), 50);
  assert.equal(parseGogc("-3"), -1);
  assert.equal(parseGogc("lots"), undefined);
});

test("CPU % and GC deltas against the subscriber's baseline; unknown the first time", () => {
  const first = toProcessStats(entry(), undefined, 100);
  assert.deepEqual(first.stats.unknownFields, ["cpu_percent", "gc_cycles", "gc_pause_ns"]);
  assert.deepEqual(first.baseline, { at: 2000, cpuTicks: 150, numGc: 10, gcPauseTotalNs: 5000 });
  const next = toProcessStats(
    entry({ at: 3000, proc: { ...proc, cpuTicks: 200 }, agent: { ...entry().agent, numGc: 13, gcPauseTotalNs: 8000 } }),
    first.baseline,
    100,
  );
  assert.equal(next.stats.cpuPercent, 50); // 50 ticks of 100 Hz in 1 s
  assert.equal(next.stats.gcCycles, 3);
  assert.equal(next.stats.gcPauseNs, 3000);
  assert.deepEqual(next.stats.unknownFields, []);
  assert.equal(next.stats.gogc, 100);
  assert.equal(next.stats.gogcSource, "env");
});

test("stale agent fields keep their values and the GC baseline; unknown ones are named; GOGC off and set", () => {
  const base = { at: 1000, cpuTicks: 100, numGc: 8, gcPauseTotalNs: 4000 };
  const stale = toProcessStats(entry({ stale: new Set(AGENT_FIELDS), detail: "busy" }), base, 100);
  assert.ok(stale.stats.staleFields.includes("goroutines") && stale.stats.staleFields.includes("gc_cycles"));
  assert.equal(stale.stats.goroutines, 12);
  assert.equal(stale.stats.gcCycles, 0);
  assert.equal(stale.baseline.numGc, 8, "a stale reading does not move the GC baseline");
  assert.equal(stale.stats.detail, "busy");
  const http = toProcessStats(entry({ unknown: new Set(["gomaxprocs"]) }), base, 100);
  assert.ok(http.stats.unknownFields.includes("gomaxprocs") && !http.stats.staleFields.includes("gomaxprocs"));
  const off = toProcessStats(entry({ agent: { ...entry().agent, enableGc: false } }), base, 100);
  assert.deepEqual([off.stats.gogc, off.stats.gogcSource], [-1, "off"]);
  const set = toProcessStats(entry({ proc: { ...proc, gogcSet: 30 } }), base, 100);
  assert.deepEqual([set.stats.gogc, set.stats.gogcSource], [30, "set"]);
  const none = toProcessStats(entry({ proc: { ...proc, gogcEnv: undefined }, agent: {} }), base, 100);
  assert.ok(none.stats.unknownFields.includes("gogc") && none.stats.unknownFields.includes("goroutines"));
});

test("a backend's unknown fields map onto the sampler's (HTTP pprof: no GOMAXPROCS, expvar-less memstats)", () => {
  const r = agentReading(
    { goroutines: 3, osThreads: 5, gomaxprocs: 0, numCpu: 0, raw: "", unknownFields: { names: ["gomaxprocs", "num_cpu"] } },
    { raw: "", unknownKeys: [], stats: { heapInUse: 10, heapObjects: 2, numGc: 1, gcPauseTotalNs: 0, gcCpuFraction: 0, enableGc: true } as never, unknownFields: { names: ["gc_pause_total_ns", "gc_cpu_fraction"] } },
  );
  assert.deepEqual([...r.unknown].sort(), ["gcCpuFraction", "gcPauseTotalNs", "gomaxprocs"]);
  assert.equal(r.values.goroutines, 3);
  assert.equal(r.values.heapInUseBytes, 10);
  // The full reading rides along for the metrics exporter: MemStats, unknown fields, thread count, pause ring.
  assert.equal(r.runtime?.memStats.heapInUse, 10);
  assert.deepEqual(r.runtime?.memUnknown, ["gc_pause_total_ns", "gc_cpu_fraction"]);
  assert.equal(r.runtime?.osThreads, 5);
  assert.equal(r.runtime?.pauseNs, undefined);
  const ring = new Array<number>(256).fill(7);
  const withRing = agentReading(
    { goroutines: 3, osThreads: 5, gomaxprocs: 2, numCpu: 2, raw: "" },
    { raw: "", unknownKeys: [], stats: { numGc: 1 } as never, pauseNs: ring },
  );
  assert.equal(withRing.runtime?.pauseNs, ring);
  const noThreads = agentReading({ goroutines: 3, osThreads: 0, gomaxprocs: 0, numCpu: 0, raw: "", unknownFields: { names: ["os_threads"] } }, { raw: "", unknownKeys: [], stats: { numGc: 1 } as never });
  assert.equal(noThreads.runtime?.osThreads, undefined);
});
