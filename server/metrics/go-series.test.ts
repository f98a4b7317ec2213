import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AgentKind, MemStats } from "../../proto/index.js";
import type { ProcessEntry, RuntimeReading } from "../stats-watch/index.js";
import { MEMSTATS_FAMILIES, PROCESS_SERIES_FAMILIES, pauseQuantiles, processSeries } from "./go-series.js";

const mem = MemStats.create({
  alloc: 1001,
  totalAlloc: 1002,
  sys: 1003,
  lookups: 1004,
  mallocs: 1005,
  frees: 1006,
  heapAlloc: 1007,
  heapSys: 1008,
  heapIdle: 1009,
  heapInUse: 1010,
  heapReleased: 1011,
  heapObjects: 1012,
  stackInUse: 1013,
  stackSys: 1014,
  mspanInUse: 1015,
  mspanSys: 1016,
  mcacheInUse: 1017,
  mcacheSys: 1018,
  buckHashSys: 1019,
  otherSys: 1020,
  gcSys: 1021,
  nextGc: 1022,
  lastGcUnixMs: 1_700_000_000_123,
  gcPauseTotalNs: 4_500_000,
  numGc: 3,
  gcCpuFraction: 0.25,
});

function entry(over: Partial<ProcessEntry> = {}, runtime: Partial<RuntimeReading> = {}): ProcessEntry {
  return {
    proc: {
      pid: 4242,
      starttime: 7,
      name: "api",
      modulePath: "example.com/api",
      backend: AgentKind.AGENT_KIND_GOPS_AGENT,
      cpuTicks: 250,
      rssBytes: 5 << 20,
      threads: 9,
      startTimeUnixMs: 1_700_000_000_500,
      gogcEnv: 100,
      gogcSet: undefined,
      exe: "/srv/api",
      goVersion: "go1.22.1",
      vsizeBytes: 1 << 30,
      container: "api-7f9",
      pod: "api-7f9-x2",
      podNamespace: "shop",
    },
    at: 10_000,
    agent: { goroutines: 31 },
    unknown: new Set(),
    stale: new Set(),
    detail: "",
    runtime: { memStats: mem, memUnknown: [], osThreads: 12, pauseNs: undefined, ...runtime },
    runtimeAt: 10_000,
    ...over,
  };
}

const opts = { clockTicks: 100, nowMs: 10_000, maxAgeMs: 60_000 };

describe("processSeries", () => {
  it("maps a fresh reading to the Go client's series, with pid/exe/module/container/pod labels", () => {
    const s = processSeries(entry(), { open: 17, max: 1024 }, opts);
    assert.deepEqual(s.labels, { pid: "4242", exe: "/srv/api", module: "example.com/api", container: "api-7f9", pod: "api-7f9-x2", namespace: "shop" });
    assert.equal(s.goVersion, "go1.22.1");
    assert.equal(s.runtime, "fresh");
    const v = Object.fromEntries(s.values);
    assert.equal(v.go_goroutines, 31);
    assert.equal(v.go_threads, 12);
    assert.equal(v.go_info, 1);
    assert.equal(v.go_memstats_alloc_bytes, 1001);
    assert.equal(v.go_memstats_alloc_bytes_total, 1002);
    assert.equal(v.go_memstats_sys_bytes, 1003);
    assert.equal(v.go_memstats_lookups_total, 1004);
    assert.equal(v.go_memstats_mallocs_total, 1005);
    assert.equal(v.go_memstats_frees_total, 1006);
    assert.equal(v.go_memstats_heap_alloc_bytes, 1007);
    assert.equal(v.go_memstats_heap_sys_bytes, 1008);
    assert.equal(v.go_memstats_heap_idle_bytes, 1009);
    assert.equal(v.go_memstats_heap_inuse_bytes, 1010);
    assert.equal(v.go_memstats_heap_released_bytes, 1011);
    assert.equal(v.go_memstats_heap_objects, 1012);
    assert.equal(v.go_memstats_stack_inuse_bytes, 1013);
    assert.equal(v.go_memstats_stack_sys_bytes, 1014);
    assert.equal(v.go_memstats_mspan_inuse_bytes, 1015);
    assert.equal(v.go_memstats_mspan_sys_bytes, 1016);
    assert.equal(v.go_memstats_mcache_inuse_bytes, 1017);
    assert.equal(v.go_memstats_mcache_sys_bytes, 1018);
    assert.equal(v.go_memstats_buck_hash_sys_bytes, 1019);
    assert.equal(v.go_memstats_other_sys_bytes, 1020);
    assert.equal(v.go_memstats_gc_sys_bytes, 1021);
    assert.equal(v.go_memstats_next_gc_bytes, 1022);
    assert.equal(v.go_memstats_gc_cpu_fraction, 0.25);
    assert.equal(v.go_memstats_last_gc_time_seconds, 1_700_000_000.123);
    assert.equal(v.process_cpu_seconds_total, 2.5);
    assert.equal(v.process_resident_memory_bytes, 5 << 20);
    assert.equal(v.process_virtual_memory_bytes, 1 << 30);
    assert.equal(v.process_open_fds, 17);
    assert.equal(v.process_max_fds, 1024);
    assert.equal(v.process_start_time_seconds, 1_700_000_000.5);
    // A gops agent has no pause ring: count and sum, no quantiles.
    assert.deepEqual(s.gcDuration, { count: 3, sum: 0.0045 });
    // Every family the exposition lists but the summary has a value here.
    for (const f of PROCESS_SERIES_FAMILIES) if (f.type !== "summary") assert.ok(s.values.has(f.name), f.name);
  });

  it("has the client's names, types and HELP texts", () => {
    const byName = new Map(PROCESS_SERIES_FAMILIES.map((f) => [f.name, f]));
    assert.equal(byName.get("go_goroutines")!.help, "Number of goroutines that currently exist.");
    assert.equal(byName.get("go_threads")!.help, "Number of OS threads created.");
    assert.equal(byName.get("go_gc_duration_seconds")!.type, "summary");
    assert.equal(byName.get("go_memstats_alloc_bytes_total")!.type, "counter");
    assert.equal(byName.get("go_memstats_alloc_bytes")!.type, "gauge");
    assert.equal(byName.get("process_cpu_seconds_total")!.help, "Total user and system CPU time spent in seconds.");
    for (const f of PROCESS_SERIES_FAMILIES) assert.equal(f.name.endsWith("_total"), f.type === "counter", f.name);
    assert.equal(MEMSTATS_FAMILIES.length, 23);
  });

  it("leaves out what the backend cannot tell (heap?debug=1 without expvar, Stats without threads)", () => {
    const s = processSeries(entry({}, { memUnknown: ["gc_pause_total_ns", "last_gc_unix_ms", "lookups"], osThreads: undefined }), {}, opts);
    assert.equal(s.values.has("go_memstats_last_gc_time_seconds"), false);
    assert.equal(s.values.has("go_memstats_lookups_total"), false);
    assert.equal(s.values.has("go_threads"), false);
    assert.equal(s.values.has("process_open_fds"), false);
    assert.equal(s.gcDuration, undefined);
    assert.equal(s.values.get("go_memstats_heap_alloc_bytes"), 1007);
  });

  it("exports the pause quantiles when the ring is served", () => {
    const ring = new Array<number>(256).fill(0);
    ring[0] = 300_000;
    ring[1] = 100_000;
    ring[2] = 200_000;
    const s = processSeries(entry({}, { pauseNs: ring }), {}, opts);
    assert.deepEqual(s.gcDuration?.quantiles, [
      [0, 0.0001],
      [0.25, 0.0001],
      [0.5, 0.0002],
      [0.75, 0.0003],
      [1, 0.0003],
    ]);
  });

  it("drops the runtime series of a reading older than maxAge, keeps /proc's and go_info", () => {
    const s = processSeries(entry({ runtimeAt: 10_000 - 60_001 }), {}, opts);
    assert.equal(s.runtime, "stale");
    assert.equal(s.values.has("go_goroutines"), false);
    assert.equal(s.values.has("go_memstats_alloc_bytes"), false);
    assert.equal(s.gcDuration, undefined);
    assert.equal(s.values.get("go_info"), 1);
    assert.equal(s.values.get("process_resident_memory_bytes"), 5 << 20);
  });

  it("a process without a backend has /proc series only; without container, no container labels; exe falls back to the name", () => {
    const e = entry({ runtime: undefined, runtimeAt: undefined, agent: {} });
    e.proc = { ...e.proc, exe: "", container: undefined, pod: undefined, podNamespace: undefined };
    const s = processSeries(e, {}, opts);
    assert.equal(s.runtime, "none");
    assert.deepEqual(s.labels, { pid: "4242", exe: "api", module: "example.com/api" });
    assert.deepEqual([...s.values.keys()].filter((k) => k.startsWith("go_")), ["go_info"]);
  });
});

describe("pauseQuantiles", () => {
  it("takes the last min(NumGC, 256) pauses of the ring, as debug.ReadGCStats", () => {
    assert.deepEqual(pauseQuantiles(new Array(256).fill(5), 0), [
      [0, 0],
      [0.25, 0],
      [0.5, 0],
      [0.75, 0],
      [1, 0],
    ]);
    // 300 GCs: the ring has wrapped; every slot is a recent pause. Slots 0..255 hold 1..256 ms.
    const ring = Array.from({ length: 256 }, (_, i) => (i + 1) * 1e6);
    const q = pauseQuantiles(ring, 300);
    assert.deepEqual(
      q.map(([k]) => k),
      [0, 0.25, 0.5, 0.75, 1],
    );
    assert.deepEqual(
      q.map(([, v]) => v),
      [0.001, 0.065, 0.129, 0.193, 0.256],
    );
    // 2 GCs: only slots 0 and 1 count (the rest of the ring is stale zeros).
    const two = new Array(256).fill(9e9);
    two[0] = 4e6;
    two[1] = 2e6;
    assert.deepEqual(
      pauseQuantiles(two, 2).map(([, v]) => v),
      [0.002, 0.002, 0.004, 0.004, 0.004],
    );
  });
});
