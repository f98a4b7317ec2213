// The series Prometheus' Go client exports for a Go program (its Go and process collectors: same names, types,
// units and HELP texts), made from what gopsd knows of one process: the sampler's entry (its /proc reading and the
// latest runtime reading through the gops agent or net/http/pprof endpoint) and the process's descriptor counts.
// Pure: no I/O, no clock.
//
// Facts taken from the client (prometheus/client_golang, read, not copied): go_memstats_lookups_total and
// go_memstats_gc_cpu_fraction are the series older clients exported (removed in v1.19, resp. only for Go < 1.17
// builds), kept here because dashboards still chart them; go_gc_duration_seconds is the summary debug.ReadGCStats
// feeds: count NumGC, sum PauseTotal, and quantiles 0, .25, .5, .75, 1 of the recent pauses (the PauseNs ring,
// sorted; the q-th of n is sorted[n*q], the last the maximum).
import type { MemStats } from "../../proto/index.js";
import type { ProcessEntry } from "../stats-watch/index.js";

export type FamilyType = "gauge" | "counter" | "summary";

export interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: FamilyType;
}

export type Labels = Readonly<Record<string, string>>;

/** A summary's value: count, sum, and the quantiles when known. */
export interface SummaryValue {
  readonly count: number;
  readonly sum: number;
  readonly quantiles?: ReadonlyArray<readonly [q: number, value: number]>;
}

/** The series of one process: its labels, and a value per family name (a summary's for go_gc_duration_seconds). */
export interface ProcessSeries {
  readonly labels: Labels;
  /** go_info's `version` label: the Go version of the build info. */
  readonly goVersion: string;
  readonly values: ReadonlyMap<string, number>;
  readonly gcDuration?: SummaryValue;
  /** Whether the Go runtime series were left out because the latest runtime reading is too old (or there is none). */
  readonly runtime: "fresh" | "stale" | "none";
}

/** What /proc/PID/fd and /proc/PID/limits said (undefined: unreadable). */
export interface FdCounts {
  readonly open?: number;
  readonly max?: number;
}

type MemField = { [K in keyof MemStats]: MemStats[K] extends number ? K : never }[keyof MemStats];

interface MemFamily extends Family {
  readonly field: MemField;
}

const mem = (name: string, type: FamilyType, field: MemField, help: string): MemFamily => ({ name: `go_memstats_${name}`, type, field, help });

/** The memstats series, in the client's order. */
export const MEMSTATS_FAMILIES: readonly MemFamily[] = [
  mem("alloc_bytes", "gauge", "alloc", "Number of bytes allocated in heap and currently in use. Equals to /memory/classes/heap/objects:bytes."),
  mem("alloc_bytes_total", "counter", "totalAlloc", "Total number of bytes allocated in heap until now, even if released already. Equals to /gc/heap/allocs:bytes."),
  mem("sys_bytes", "gauge", "sys", "Number of bytes obtained from system. Equals to /memory/classes/total:byte."),
  mem("lookups_total", "counter", "lookups", "Total number of pointer lookups."),
  mem(
    "mallocs_total",
    "counter",
    "mallocs",
    "Total number of heap objects allocated, both live and gc-ed. Semantically a counter version for go_memstats_heap_objects gauge. Equals to /gc/heap/allocs:objects + /gc/heap/tiny/allocs:objects.",
  ),
  mem("frees_total", "counter", "frees", "Total number of heap objects frees. Equals to /gc/heap/frees:objects + /gc/heap/tiny/allocs:objects."),
  mem(
    "heap_alloc_bytes",
    "gauge",
    "heapAlloc",
    "Number of heap bytes allocated and currently in use, same as go_memstats_alloc_bytes. Equals to /memory/classes/heap/objects:bytes.",
  ),
  mem(
    "heap_sys_bytes",
    "gauge",
    "heapSys",
    "Number of heap bytes obtained from system. Equals to /memory/classes/heap/objects:bytes + /memory/classes/heap/unused:bytes + /memory/classes/heap/released:bytes + /memory/classes/heap/free:bytes.",
  ),
  mem("heap_idle_bytes", "gauge", "heapIdle", "Number of heap bytes waiting to be used. Equals to /memory/classes/heap/released:bytes + /memory/classes/heap/free:bytes."),
  mem("heap_inuse_bytes", "gauge", "heapInUse", "Number of heap bytes that are in use. Equals to /memory/classes/heap/objects:bytes + /memory/classes/heap/unused:bytes"),
  mem("heap_released_bytes", "gauge", "heapReleased", "Number of heap bytes released to OS. Equals to /memory/classes/heap/released:bytes."),
  mem("heap_objects", "gauge", "heapObjects", "Number of currently allocated objects. Equals to /gc/heap/objects:objects."),
  mem(
    "stack_inuse_bytes",
    "gauge",
    "stackInUse",
    "Number of bytes obtained from system for stack allocator in non-CGO environments. Equals to /memory/classes/heap/stacks:bytes.",
  ),
  mem("stack_sys_bytes", "gauge", "stackSys", "Number of bytes obtained from system for stack allocator. Equals to /memory/classes/heap/stacks:bytes + /memory/classes/os-stacks:bytes."),
  mem("mspan_inuse_bytes", "gauge", "mspanInUse", "Number of bytes in use by mspan structures. Equals to /memory/classes/metadata/mspan/inuse:bytes."),
  mem(
    "mspan_sys_bytes",
    "gauge",
    "mspanSys",
    "Number of bytes used for mspan structures obtained from system. Equals to /memory/classes/metadata/mspan/inuse:bytes + /memory/classes/metadata/mspan/free:bytes.",
  ),
  mem("mcache_inuse_bytes", "gauge", "mcacheInUse", "Number of bytes in use by mcache structures. Equals to /memory/classes/metadata/mcache/inuse:bytes."),
  mem(
    "mcache_sys_bytes",
    "gauge",
    "mcacheSys",
    "Number of bytes used for mcache structures obtained from system. Equals to /memory/classes/metadata/mcache/inuse:bytes + /memory/classes/metadata/mcache/free:bytes.",
  ),
  mem("buck_hash_sys_bytes", "gauge", "buckHashSys", "Number of bytes used by the profiling bucket hash table. Equals to /memory/classes/profiling/buckets:bytes."),
  mem("gc_sys_bytes", "gauge", "gcSys", "Number of bytes used for garbage collection system metadata. Equals to /memory/classes/metadata/other:bytes."),
  mem("other_sys_bytes", "gauge", "otherSys", "Number of bytes used for other system allocations. Equals to /memory/classes/other:bytes."),
  mem("next_gc_bytes", "gauge", "nextGc", "Number of heap bytes when next garbage collection will take place. Equals to /gc/heap/goal:bytes."),
  mem("gc_cpu_fraction", "gauge", "gcCpuFraction", "The fraction of this program's available CPU time used by the GC since the program started."),
];

export const GO_GOROUTINES: Family = { name: "go_goroutines", type: "gauge", help: "Number of goroutines that currently exist." };
export const GO_THREADS: Family = { name: "go_threads", type: "gauge", help: "Number of OS threads created." };
export const GO_GC_DURATION: Family = {
  name: "go_gc_duration_seconds",
  type: "summary",
  help: "A summary of the wall-time pause (stop-the-world) duration in garbage collection cycles.",
};
export const GO_LAST_GC: Family = { name: "go_memstats_last_gc_time_seconds", type: "gauge", help: "Number of seconds since 1970 of last garbage collection." };
export const GO_INFO: Family = { name: "go_info", type: "gauge", help: "Information about the Go environment." };

export const PROCESS_FAMILIES: readonly Family[] = [
  { name: "process_cpu_seconds_total", type: "counter", help: "Total user and system CPU time spent in seconds." },
  { name: "process_open_fds", type: "gauge", help: "Number of open file descriptors." },
  { name: "process_max_fds", type: "gauge", help: "Maximum number of open file descriptors." },
  { name: "process_virtual_memory_bytes", type: "gauge", help: "Virtual memory size in bytes." },
  { name: "process_resident_memory_bytes", type: "gauge", help: "Resident memory size in bytes." },
  { name: "process_start_time_seconds", type: "gauge", help: "Start time of the process since unix epoch in seconds." },
];

/** Every per-process family, in exposition order (go_info's value is 1 with a `version` label of its own). */
export const PROCESS_SERIES_FAMILIES: readonly Family[] = [GO_GC_DURATION, GO_GOROUTINES, GO_INFO, ...MEMSTATS_FAMILIES, GO_LAST_GC, GO_THREADS, ...PROCESS_FAMILIES];

/** camelCase MemStats field → its proto name, as unknown-field lists spell it (heapInUse → heap_in_use). */
const protoName = (field: string) => field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** The labels of a process: pid, exe (else its name), module, and container/pod/namespace when known. */
export function processLabels(e: ProcessEntry): Labels {
  const p = e.proc;
  return {
    pid: String(p.pid),
    exe: p.exe || p.name,
    module: p.modulePath,
    ...(p.container ? { container: p.container } : {}),
    ...(p.pod ? { pod: p.pod } : {}),
    ...(p.podNamespace ? { namespace: p.podNamespace } : {}),
  };
}

/**
 * Quantiles 0, .25, .5, .75 and 1 of the last min(numGc, 256) pauses of the PauseNs ring (the latest at
 * (numGc+255)%256), in seconds, as debug.ReadGCStats computes PauseQuantiles.
 */
export function pauseQuantiles(pauseNs: readonly number[], numGc: number): Array<[number, number]> {
  const n = Math.min(numGc, pauseNs.length);
  const qs = [0, 0.25, 0.5, 0.75, 1];
  if (n === 0) return qs.map((q) => [q, 0]);
  const recent: number[] = [];
  for (let i = 0; i < n; i++) recent.push(pauseNs[(((numGc - 1 - i) % pauseNs.length) + pauseNs.length) % pauseNs.length]!);
  recent.sort((a, b) => a - b);
  const at = (i: number) => (i === 4 ? recent[n - 1]! : recent[Math.floor((n * i) / 4)]!);
  return qs.map((q, i) => [q, at(i) / 1e9]);
}

/**
 * The series of one process. Go runtime series need a runtime reading no older than `maxAgeMs` at `nowMs` (the
 * sampler's clock): an agent that stopped answering keeps its last values for a while, then its series go (the
 * /proc ones stay). go_info is known from the build info alone.
 */
export function processSeries(e: ProcessEntry, fds: FdCounts, opts: { clockTicks: number; nowMs: number; maxAgeMs: number }): ProcessSeries {
  const values = new Map<string, number>();
  const p = e.proc;
  if (p.goVersion) values.set(GO_INFO.name, 1);
  values.set("process_cpu_seconds_total", p.cpuTicks / opts.clockTicks);
  if (fds.open !== undefined) values.set("process_open_fds", fds.open);
  if (fds.max !== undefined) values.set("process_max_fds", fds.max);
  if (p.vsizeBytes !== undefined) values.set("process_virtual_memory_bytes", p.vsizeBytes);
  values.set("process_resident_memory_bytes", p.rssBytes);
  values.set("process_start_time_seconds", p.startTimeUnixMs / 1000);

  const r = e.runtime;
  let runtime: ProcessSeries["runtime"] = "none";
  let gcDuration: SummaryValue | undefined;
  if (r !== undefined && e.runtimeAt !== undefined) {
    runtime = opts.nowMs - e.runtimeAt <= opts.maxAgeMs ? "fresh" : "stale";
  }
  if (runtime === "fresh") {
    const unknown = new Set(r!.memUnknown);
    const m = r!.memStats;
    if (e.agent.goroutines !== undefined && !e.unknown.has("goroutines")) values.set(GO_GOROUTINES.name, e.agent.goroutines);
    if (r!.osThreads !== undefined) values.set(GO_THREADS.name, r!.osThreads);
    for (const f of MEMSTATS_FAMILIES) if (!unknown.has(protoName(f.field))) values.set(f.name, m[f.field]);
    if (!unknown.has("last_gc_unix_ms")) values.set(GO_LAST_GC.name, m.lastGcUnixMs / 1000);
    if (!unknown.has("num_gc") && !unknown.has("gc_pause_total_ns")) {
      gcDuration = {
        count: m.numGc,
        sum: m.gcPauseTotalNs / 1e9,
        ...(r!.pauseNs !== undefined ? { quantiles: pauseQuantiles(r!.pauseNs, m.numGc) } : {}),
      };
    }
  }
  return { labels: processLabels(e), goVersion: p.goVersion ?? "", values, runtime, ...(gcDuration ? { gcDuration } : {}) };
}
