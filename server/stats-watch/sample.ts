// Pure parts of WatchStats: what one reading of a process holds, and how a subscriber's sample is made from the
// latest reading and that subscriber's previous one (CPU % and GC deltas are per subscriber: two watchers with
// different intervals each get "over my interval"). No I/O here.
import { AgentKind, type MemStats, type ProcessStats } from "../../proto/index.js";

/** What /proc says about one process at one moment. */
export interface ProcReading {
  pid: number;
  /** Start time in clock ticks after boot: with the pid, names the process (pids are reused). */
  starttime: number;
  name: string;
  modulePath: string;
  backend: AgentKind;
  /** utime + stime, clock ticks. */
  cpuTicks: number;
  rssBytes: number;
  threads: number;
  startTimeUnixMs: number;
  /** GOGC from the process's environment (100 when unset); undefined when the environment is unreadable or GOGC unparsable. */
  gogcEnv: number | undefined;
  /** GOGC set through this gopsd since the process started, if any. */
  gogcSet: number | undefined;
  // What the metrics exporter labels and exports beside the fields above (WatchStats does not use them).
  /** Executable path as the kernel reports it. */
  exe?: string;
  /** Go version from the build info, e.g. "go1.19.8". */
  goVersion?: string;
  /** Virtual memory size, bytes. */
  vsizeBytes?: number;
  /** The container's name (else its id) and the pod, when the process runs in one gopsd recognises. */
  container?: string;
  pod?: string;
  podNamespace?: string;
}

/** The runtime values an agent or endpoint reports (all cumulative values as the runtime keeps them). */
export interface AgentValues {
  goroutines: number;
  gomaxprocs: number;
  heapInUseBytes: number;
  heapObjects: number;
  numGc: number;
  gcPauseTotalNs: number;
  gcCpuFraction: number;
  enableGc: boolean;
}
export type AgentField = keyof AgentValues;

/**
 * Everything a read of the runtime returned, beyond the WatchStats values: the full MemStats, the OS thread count
 * and, where the backend serves it (expvar, heap?debug=1), the ring of recent GC pauses. The metrics exporter
 * exports these; WatchStats ignores them.
 */
export interface RuntimeReading {
  memStats: MemStats;
  /** MemStats fields (proto names) the backend cannot tell (left at zero). */
  memUnknown: readonly string[];
  /** Threads the runtime created (the threadcreate profile's count); undefined when not told. */
  osThreads: number | undefined;
  /** runtime.MemStats.PauseNs: 256 pause durations (ns), the latest at (NumGC+255)%256; undefined when not served. */
  pauseNs: readonly number[] | undefined;
}

/** One answer of a backend: the values it gave and the fields it cannot tell. */
export interface AgentReading {
  values: Partial<AgentValues>;
  unknown: readonly AgentField[];
  runtime?: RuntimeReading;
}

/** The state of one process in the sampler after a round: proc fresh, agent values fresh or carried over. */
export interface ProcessEntry {
  proc: ProcReading;
  /** When /proc was read, ms (monotonic clock of the sampler). */
  at: number;
  /** Last known agent values (fresh ones overwrite). */
  agent: Partial<AgentValues>;
  /** Agent fields the backend cannot tell. */
  unknown: ReadonlySet<AgentField>;
  /** Agent fields not read in this round (their value is the last known). */
  stale: ReadonlySet<AgentField>;
  /** Why fields are stale or unknown. */
  detail: string;
  /** The latest full runtime reading, and when it was read (sampler ms); carried over like `agent`. */
  runtime?: RuntimeReading;
  runtimeAt?: number;
}

export const AGENT_FIELDS: readonly AgentField[] = [
  "goroutines",
  "gomaxprocs",
  "heapInUseBytes",
  "heapObjects",
  "numGc",
  "gcPauseTotalNs",
  "gcCpuFraction",
  "enableGc",
];

/** Proto field names of ProcessStats that each agent field feeds (for unknown_fields / stale_fields). */
const PROTO_NAMES: Readonly<Record<AgentField, readonly string[]>> = {
  goroutines: ["goroutines"],
  gomaxprocs: ["gomaxprocs"],
  heapInUseBytes: ["heap_in_use_bytes"],
  heapObjects: ["heap_objects"],
  numGc: ["num_gc", "gc_cycles"],
  gcPauseTotalNs: ["gc_pause_total_ns", "gc_pause_ns"],
  gcCpuFraction: ["gc_cpu_fraction"],
  enableGc: [],
};

/** What a subscriber remembers of a process from the sample it last got (the base of its deltas). */
export interface Baseline {
  at: number;
  cpuTicks: number;
  /** Only set from fresh agent values. */
  numGc?: number;
  gcPauseTotalNs?: number;
}

export const processKey = (p: Pick<ProcReading, "pid" | "starttime">) => `${p.pid}:${p.starttime}`;

/** Parses GOGC as the Go runtime does: "off" → -1, an integer → itself, unset/empty → 100; else undefined. */
export function parseGogc(value: string | undefined): number | undefined {
  if (value === undefined || value === "") return 100;
  if (value === "off") return -1;
  if (!/^-?\d{1,10}$/.test(value)) return undefined;
  const n = Number(value);
  return n < 0 ? -1 : n;
}

/** The GOGC of a process and how it is known; undefined when it is not. */
function gogcOf(e: ProcessEntry): { gogc: number; source: string } | undefined {
  if (e.agent.enableGc === false && !e.unknown.has("enableGc")) return { gogc: -1, source: "off" };
  if (e.proc.gogcSet !== undefined) return { gogc: e.proc.gogcSet, source: "set" };
  if (e.proc.gogcEnv !== undefined) return { gogc: e.proc.gogcEnv, source: "env" };
  return undefined;
}

/**
 * The ProcessStats a subscriber gets for entry, given its baseline for that process (undefined the first time);
 * also returns the baseline to keep for next time.
 */
export function toProcessStats(e: ProcessEntry, base: Baseline | undefined, clockTicks: number): { stats: ProcessStats; baseline: Baseline } {
  const unknown = new Set<string>();
  const stale = new Set<string>();
  for (const f of e.unknown) for (const n of PROTO_NAMES[f]) unknown.add(n);
  for (const f of e.stale) for (const n of PROTO_NAMES[f]) if (!unknown.has(n)) stale.add(n);
  const a = e.agent;
  const baseline: Baseline = { at: e.at, cpuTicks: e.proc.cpuTicks };

  let cpuPercent = 0;
  const seconds = base ? (e.at - base.at) / 1000 : 0;
  if (base && seconds > 0) cpuPercent = Math.max(0, ((e.proc.cpuTicks - base.cpuTicks) / clockTicks / seconds) * 100);
  else unknown.add("cpu_percent");

  const fresh = (f: AgentField) => a[f] !== undefined && !e.stale.has(f) && !e.unknown.has(f);
  let gcCycles = 0;
  let gcPauseNs = 0;
  if (fresh("numGc")) {
    baseline.numGc = a.numGc!;
    if (base?.numGc !== undefined) gcCycles = Math.max(0, a.numGc! - base.numGc);
    else if (!e.unknown.has("numGc")) unknown.add("gc_cycles");
  } else if (base?.numGc !== undefined) baseline.numGc = base.numGc;
  if (fresh("gcPauseTotalNs")) {
    baseline.gcPauseTotalNs = a.gcPauseTotalNs!;
    if (base?.gcPauseTotalNs !== undefined) gcPauseNs = Math.max(0, a.gcPauseTotalNs! - base.gcPauseTotalNs);
    else if (!e.unknown.has("gcPauseTotalNs")) unknown.add("gc_pause_ns");
  } else if (base?.gcPauseTotalNs !== undefined) baseline.gcPauseTotalNs = base.gcPauseTotalNs;

  // Never read (no backend, or stale from the first round): unknown rather than a made-up zero.
  for (const f of AGENT_FIELDS) {
    if (a[f] === undefined) for (const n of PROTO_NAMES[f]) (stale.delete(n), unknown.add(n));
  }
  const gogc = gogcOf(e);
  if (gogc === undefined) unknown.add("gogc");

  const stats: ProcessStats = {
    pid: e.proc.pid,
    name: e.proc.name,
    modulePath: e.proc.modulePath,
    backend: e.proc.backend,
    cpuPercent,
    rssBytes: e.proc.rssBytes,
    threads: e.proc.threads,
    goroutines: a.goroutines ?? 0,
    heapInUseBytes: a.heapInUseBytes ?? 0,
    heapObjects: a.heapObjects ?? 0,
    gcCycles,
    gcPauseNs,
    numGc: a.numGc ?? 0,
    gcPauseTotalNs: a.gcPauseTotalNs ?? 0,
    gcCpuFraction: a.gcCpuFraction ?? 0,
    gogc: gogc?.gogc ?? 0,
    gogcSource: gogc?.source ?? "",
    gomaxprocs: a.gomaxprocs ?? 0,
    startTimeUnixMs: e.proc.startTimeUnixMs,
    unknownFields: [...unknown].sort(),
    staleFields: [...stale].sort(),
    detail: e.detail,
  };
  return { stats, baseline };
}

export const NO_BACKEND = AgentKind.AGENT_KIND_UNSPECIFIED;
