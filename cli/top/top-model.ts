// The state behind `gopsctl top`, pure: the latest sample of each host, the goroutine count each process had when
// first seen (for the +/- since start), the rows sorted by a key with outliers marked, and their table / JSON.
// The terminal and the streams are elsewhere (top-screen.ts, commands/top.ts).
import { findOutliers, type OutlierMetric } from "../../common/outliers.js";
import { AgentKind, type ProcessStats, type WatchStatsResponse } from "../../proto/index.js";
import { renderTable } from "../output/index.js";
import { formatBytes } from "../progress.js";

export const SORT_KEYS = ["cpu", "rss", "heap", "goroutines", "pause"] as const;
export type TopSort = (typeof SORT_KEYS)[number];
/** The single keys that change the sort on a terminal. */
export const SORT_BY_KEY: Readonly<Record<string, TopSort>> = { c: "cpu", m: "rss", h: "heap", g: "goroutines", p: "pause" };

/** The marks next to a value: outlier, stale (last known value), unknown. */
export const MARK = { outlier: "!", stale: "~", unknown: "-" } as const;

export interface TopRow {
  host: string;
  stats: ProcessStats;
  /** Goroutines now minus when first seen; undefined while either is unknown. */
  goroutinesDelta: number | undefined;
  outlier: OutlierMetric[];
}

const sortValue: Readonly<Record<TopSort, (s: ProcessStats) => number>> = {
  cpu: (s) => s.cpuPercent,
  rss: (s) => s.rssBytes,
  heap: (s) => s.heapInUseBytes,
  goroutines: (s) => s.goroutines,
  pause: (s) => s.gcPauseNs,
};

const known = (s: ProcessStats, field: string) => !s.unknownFields.includes(field);

export class TopModel {
  private readonly latest = new Map<string, WatchStatsResponse>();
  /** First known goroutine count by host|pid|start. */
  private readonly firstGoroutines = new Map<string, number>();
  /** Why a host is not shown (its stream failed), by host. */
  readonly hostErrors = new Map<string, string>();

  /** Takes a host's sample (the newest replaces the previous one of that host). `host` is the fleet name, or the sample's. */
  update(host: string, sample: WatchStatsResponse): void {
    this.latest.set(host, sample);
    this.hostErrors.delete(host);
    const seen = new Set<string>();
    for (const s of sample.processes) {
      const key = `${host}|${s.pid}|${s.startTimeUnixMs}`;
      seen.add(key);
      if (!this.firstGoroutines.has(key) && known(s, "goroutines") && !s.staleFields.includes("goroutines")) this.firstGoroutines.set(key, s.goroutines);
    }
    for (const key of this.firstGoroutines.keys()) if (key.startsWith(`${host}|`) && !seen.has(key)) this.firstGoroutines.delete(key);
  }

  hostFailed(host: string, why: string): void {
    this.latest.delete(host);
    this.hostErrors.set(host, why);
  }

  /** Every process of every host, outliers marked, sorted by key (largest first; then host, pid). */
  rows(sort: TopSort): TopRow[] {
    const rows: TopRow[] = [];
    for (const [host, sample] of this.latest) {
      for (const s of sample.processes) {
        const first = this.firstGoroutines.get(`${host}|${s.pid}|${s.startTimeUnixMs}`);
        rows.push({ host, stats: s, goroutinesDelta: first !== undefined && known(s, "goroutines") ? s.goroutines - first : undefined, outlier: [] });
      }
    }
    const marks = findOutliers(
      rows.map(({ stats: s }) => ({
        group: s.modulePath,
        values: {
          ...(known(s, "goroutines") ? { goroutines: s.goroutines } : {}),
          ...(known(s, "heap_in_use_bytes") ? { heap: s.heapInUseBytes } : {}),
          ...(known(s, "gc_pause_ns") ? { pause: s.gcPauseNs } : {}),
        },
      })),
    );
    rows.forEach((r, i) => (r.outlier = marks[i]!));
    const value = sortValue[sort];
    return rows.sort((a, b) => value(b.stats) - value(a.stats) || a.host.localeCompare(b.host) || a.stats.pid - b.stats.pid);
  }
}

/** A value with its marks: "-" when unknown, "~" after a stale one, "!" after an outlier. */
function cell(s: ProcessStats, field: string, text: string, outlier = false): string {
  if (!known(s, field)) return MARK.unknown;
  return `${text}${s.staleFields.includes(field) ? MARK.stale : ""}${outlier ? MARK.outlier : ""}`;
}

export function formatPause(ns: number): string {
  if (ns === 0) return "0";
  if (ns < 1_000_000) return `${Math.round(ns / 1000)}µs`;
  if (ns < 1_000_000_000) return `${Number((ns / 1_000_000).toFixed(1))}ms`;
  return `${Number((ns / 1e9).toFixed(2))}s`;
}

const signed = (n: number) => (n > 0 ? `+${n}` : String(n));

/** The table (header first) of rows; a HOST column when `withHost`. Written through the shared table renderer. */
export function renderTopTable(rows: readonly TopRow[], withHost: boolean): string {
  const header = ["PID", "NAME", "CPU%", "RSS", "THR", "GOROUTINES", "+/-", "HEAP", "OBJECTS", "GC", "PAUSE", "GC%", "GOGC", "PROCS", "VIA"];
  const body = rows.map(({ host, stats: s, goroutinesDelta, outlier }) => {
    const o = (m: OutlierMetric) => outlier.includes(m);
    const cells = [
      String(s.pid),
      s.name,
      cell(s, "cpu_percent", s.cpuPercent.toFixed(1)),
      formatBytes(s.rssBytes),
      String(s.threads),
      cell(s, "goroutines", String(s.goroutines), o("goroutines")),
      goroutinesDelta === undefined ? MARK.unknown : signed(goroutinesDelta),
      cell(s, "heap_in_use_bytes", formatBytes(s.heapInUseBytes), o("heap")),
      cell(s, "heap_objects", String(s.heapObjects)),
      cell(s, "gc_cycles", String(s.gcCycles)),
      cell(s, "gc_pause_ns", formatPause(s.gcPauseNs), o("pause")),
      cell(s, "gc_cpu_fraction", (s.gcCpuFraction * 100).toFixed(2)),
      cell(s, "gogc", s.gogc < 0 ? "off" : String(s.gogc)),
      cell(s, "gomaxprocs", String(s.gomaxprocs)),
      backendName(s.backend),
    ];
    return withHost ? [host, ...cells] : cells;
  });
  return renderTable(body, withHost ? ["HOST", ...header] : header);
}

function backendName(kind: AgentKind): string {
  if (kind === AgentKind.AGENT_KIND_GOPS_AGENT) return "agent";
  if (kind === AgentKind.AGENT_KIND_HTTP_PPROF) return "pprof";
  return "-";
}

/** One process in the NDJSON line of an interval: every field, plus host, the delta and `outlier`. */
export function rowJson(r: TopRow) {
  return {
    host: r.host,
    ...r.stats,
    backend: backendName(r.stats.backend),
    goroutinesDelta: r.goroutinesDelta ?? null,
    outlier: r.outlier,
  };
}

export function parseSort(text: string): TopSort | undefined {
  return (SORT_KEYS as readonly string[]).includes(text) ? (text as TopSort) : undefined;
}
