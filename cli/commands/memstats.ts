// `gopsctl memstats <pid>`: the agent's runtime.MemStats (its own text; typed fields + raw in JSON); across hosts,
// one table row per host with the main fields. A backend that cannot tell some fields (a net/http/pprof endpoint
// without expvar) names them in unknownFields: the text is then written from the typed fields in gops' layout, with
// `unknown` for those, never a made-up 0.
import type { MemStats, MemStatsResponse } from "../../proto/index.js";
import { parseOnlyPid } from "../arguments.js";
import { defineCommand } from "../command.js";
import { formatGoDuration } from "../duration.js";
import { renderTable, withNewline } from "../output/index.js";
import { formatBytes } from "../progress.js";

export const spec = defineCommand({
  name: "memstats",
  args: "<pid>",
  summary: "print memory allocation statistics",
  details: [
    "A gops agent's text as it wrote it. From a net/http/pprof endpoint (ps: ~): the same lines, from expvar's",
    "  /debug/vars when served, else from the MemStats block of heap?debug=1; fields it cannot tell read `unknown`.",
    "--json: {pid, stats, raw, unknownKeys, unknownFields}: unknownFields lists the stats fields (proto names, e.g.",
    "  gc_pause_total_ns) the backend could not tell (their value in stats is 0); [] from a gops agent.",
    "Across hosts (the pid applies on every host): HOST HEAP-ALLOC HEAP-INUSE HEAP-OBJECTS SYS TOTAL-ALLOC NUM-GC",
    "  NEXT-GC GC-PAUSE-TOTAL, one row per host (unknown where the backend could not tell).",
  ],
  parse: (args) => ({ pid: parseOnlyPid(args) }),
  call: (d, opts, { signal }) => d.memStats({ pid: opts.pid }, { signal }),
  render: {
    text: (res) => (res.unknownFields !== undefined && res.stats !== undefined ? memstatsText(res.stats, new Set(res.unknownFields.names)) : withNewline(res.raw)),
    json: (res, opts) => ({
      pid: opts.pid,
      stats: res.stats ?? null,
      raw: res.raw,
      unknownKeys: res.unknownKeys,
      unknownFields: res.unknownFields?.names ?? [],
    }),
    across: { kind: "table", table: memstatsTable },
  },
});
export const run = spec.run;

const UNKNOWN = "unknown";

/** A size as gops prints it: "512 bytes", "134.91KB (138152 bytes)". */
export function gopsBytes(n: number): string {
  if (n < 1024) return `${n} bytes`;
  const units = ["KB", "MB", "GB", "TB", "PB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(2)}${units[i]} (${n} bytes)`;
}

type Format = "B" | "N" | ((s: MemStats) => string);

/** gops' memstats lines in its order: key, the proto field that says whether it is known, and the value. */
const LINES: readonly [key: string, field: string, value: keyof MemStats, format: Format][] = [
  ["alloc", "alloc", "alloc", "B"],
  ["total-alloc", "total_alloc", "totalAlloc", "B"],
  ["sys", "sys", "sys", "B"],
  ["lookups", "lookups", "lookups", "N"],
  ["mallocs", "mallocs", "mallocs", "N"],
  ["frees", "frees", "frees", "N"],
  ["heap-alloc", "heap_alloc", "heapAlloc", "B"],
  ["heap-sys", "heap_sys", "heapSys", "B"],
  ["heap-idle", "heap_idle", "heapIdle", "B"],
  ["heap-in-use", "heap_in_use", "heapInUse", "B"],
  ["heap-released", "heap_released", "heapReleased", "B"],
  ["heap-objects", "heap_objects", "heapObjects", "N"],
  ["stack-in-use", "stack_in_use", "stackInUse", "B"],
  ["stack-sys", "stack_sys", "stackSys", "B"],
  ["mspan-in-use", "mspan_in_use", "mspanInUse", "B"],
  ["mspan-sys", "mspan_sys", "mspanSys", "B"],
  ["mcache-in-use", "mcache_in_use", "mcacheInUse", "B"],
  ["mcache-sys", "mcache_sys", "mcacheSys", "B"],
  ["buck-hash-sys", "buck_hash_sys", "buckHashSys", "B"],
  ["other-sys", "other_sys", "otherSys", "B"],
  ["gc-sys", "gc_sys", "gcSys", "B"],
  ["next-gc", "next_gc", "nextGc", (s) => `when heap-alloc >= ${gopsBytes(s.nextGc)}`],
  ["last-gc", "last_gc", "lastGc", (s) => (s.lastGc !== "" ? s.lastGc : "-")],
  ["gc-pause-total", "gc_pause_total_ns", "gcPauseTotalNs", (s) => formatGoDuration(s.gcPauseTotalNs / 1e6)],
  ["gc-pause", "gc_pause_ns", "gcPauseNs", "N"],
  ["gc-pause-end", "gc_pause_end_unix_ms", "gcPauseEndUnixMs", (s) => String(BigInt(s.gcPauseEndUnixMs) * 1_000_000n)],
  ["num-gc", "num_gc", "numGc", "N"],
  ["num-forced-gc", "num_forced_gc", "numForcedGc", "N"],
  ["gc-cpu-fraction", "gc_cpu_fraction", "gcCpuFraction", "N"],
  ["enable-gc", "enable_gc", "enableGc", "N"],
  ["debug-gc", "debug_gc", "debugGc", "N"],
];

/** gops' memstats text from the typed fields; the fields in `unknown` (proto names) read `unknown`. */
export function memstatsText(stats: MemStats, unknown: ReadonlySet<string>): string {
  return LINES.map(([key, field, value, format]) => {
    if (unknown.has(field)) return `${key}: ${UNKNOWN}\n`;
    const v = stats[value];
    const text = typeof format === "function" ? format(stats) : format === "B" ? gopsBytes(Number(v)) : String(v);
    return `${key}: ${text}\n`;
  }).join("");
}

function memstatsTable(rows: readonly { host: string; value: MemStatsResponse }[]): string {
  return renderTable(
    rows.map(({ host, value }) => {
      const s = value.stats;
      if (s === undefined) return [host, "-", "-", "-", "-", "-", "-", "-", "-"];
      const unknown = new Set(value.unknownFields?.names ?? []);
      const cell = (field: string, text: string) => (unknown.has(field) ? UNKNOWN : text);
      return [
        host,
        cell("heap_alloc", formatBytes(s.heapAlloc)),
        cell("heap_in_use", formatBytes(s.heapInUse)),
        cell("heap_objects", String(s.heapObjects)),
        cell("sys", formatBytes(s.sys)),
        cell("total_alloc", formatBytes(s.totalAlloc)),
        cell("num_gc", String(s.numGc)),
        cell("next_gc", formatBytes(s.nextGc)),
        cell("gc_pause_total_ns", formatGoDuration(s.gcPauseTotalNs / 1e6)),
      ];
    }),
    ["HOST", "HEAP-ALLOC", "HEAP-INUSE", "HEAP-OBJECTS", "SYS", "TOTAL-ALLOC", "NUM-GC", "NEXT-GC", "GC-PAUSE-TOTAL"],
  );
}
