// Which processes a set of capture rules fires on, sample by sample of the shared sampler (WatchStats). Pure: the
// evaluator keeps each rule's moving-average history per process and forgets processes that left; what to do
// about a firing (cooldown, rate limit, one capture at a time) is the engine's business.
import { median, MIN_GROUP, outlierFlags } from "../../common/outliers.js";
import type { ProcessStats } from "../../proto/index.js";
import { OUTLIER_OF, selectorMatches, type CaptureRule, type Metric } from "./rules.js";

/** What selectors other than module match against (from the process listing, not from the sample). */
export interface ProcessIdentity {
  exe: string;
  /** Container name and id ("" when none). */
  container: { name: string; id: string };
  /** Pod name and "namespace/name" ("" when none). */
  pod: { name: string; namespace: string };
}

export interface Firing {
  rule: CaptureRule;
  /** The process's sample that fired the rule. */
  sample: ProcessStats;
  /** "pid:startTimeUnixMs": names the process across pid reuse. */
  processKey: string;
  value: number;
  /** Why, in one line: "goroutines 412 > 300". */
  reason: string;
}

/** The proto fields each metric is read from (a stale or unknown one is never judged). */
const FIELDS: Readonly<Record<Metric, { field: string; of: (p: ProcessStats) => number }>> = {
  goroutines: { field: "goroutines", of: (p) => p.goroutines },
  heap: { field: "heap_in_use_bytes", of: (p) => p.heapInUseBytes },
  rss: { field: "rss_bytes", of: (p) => p.rssBytes },
  cpu: { field: "cpu_percent", of: (p) => p.cpuPercent },
  threads: { field: "threads", of: (p) => p.threads },
  "gc-pause": { field: "gc_pause_ns", of: (p) => p.gcPauseNs },
  "gc-cpu": { field: "gc_cpu_fraction", of: (p) => p.gcCpuFraction },
};

/** The metric's value in a sample; undefined when the sample does not know it fresh. */
export function metricValue(p: ProcessStats, metric: Metric): number | undefined {
  const { field, of } = FIELDS[metric];
  if (p.unknownFields.includes(field) || p.staleFields.includes(field)) return undefined;
  const v = of(p);
  return Number.isFinite(v) ? v : undefined;
}

interface OutlierGroup {
  values: number[];
  keys: string[];
  outliers: Set<string>;
  median: number;
}

export const processKeyOf = (p: Pick<ProcessStats, "pid" | "startTimeUnixMs">) => `${p.pid}:${p.startTimeUnixMs}`;

/** A value as a rule names it: 512MiB, 50ms, 25%, 412. */
export function formatMetric(metric: Metric, v: number): string {
  if (metric === "heap" || metric === "rss") {
    for (const [unit, size] of [["GiB", 1024 ** 3], ["MiB", 1024 ** 2], ["KiB", 1024]] as const) if (v >= size) return `${+(v / size).toFixed(1)}${unit}`;
    return `${v}B`;
  }
  if (metric === "gc-pause") return `${+(v / 1e6).toFixed(3)}ms`;
  if (metric === "gc-cpu") return `${+(v * 100).toFixed(2)}%`;
  if (metric === "cpu") return `${+v.toFixed(1)}%`;
  return String(v);
}

export class RuleEvaluator {
  /** Per rule (by index), per process key, the metric's recent values (oldest first). */
  private readonly history: Map<string, number[]>[];

  constructor(readonly rules: readonly CaptureRule[]) {
    this.history = rules.map(() => new Map());
  }

  /** Whether any rule selects by exe, container or pod (then the engine must know processes' identities). */
  needsIdentity(): boolean {
    return this.rules.some((r) => r.selectors.exe !== undefined || r.selectors.container !== undefined || r.selectors.pod !== undefined);
  }

  /** The firings of one sample of every process; identityOf gives what exe/container/pod selectors match. */
  evaluate(msg: { processes: readonly ProcessStats[] }, identityOf: (p: ProcessStats) => ProcessIdentity | undefined = () => undefined): Firing[] {
    const firings: Firing[] = [];
    // Each process's key once per sample (every rule needs it).
    const keyOf = new Map(msg.processes.map((p) => [p, processKeyOf(p)] as const));
    const present = new Set(keyOf.values());
    this.rules.forEach((rule, i) => {
      const history = this.history[i]!;
      for (const key of history.keys()) if (!present.has(key)) history.delete(key);
      const selected = msg.processes.filter((p) => selects(rule, p, identityOf));
      // Outlier groups: the rule's selected processes by module, with fresh values; each group judged once.
      const groups = new Map<string, OutlierGroup>();
      if (rule.condition.kind === "outlier") {
        for (const p of selected) {
          const v = metricValue(p, rule.metric);
          if (v === undefined || p.modulePath === "") continue;
          const g = groups.get(p.modulePath) ?? { values: [], keys: [], outliers: new Set<string>(), median: 0 };
          g.values.push(v);
          g.keys.push(keyOf.get(p)!);
          groups.set(p.modulePath, g);
        }
        for (const g of groups.values()) {
          if (g.values.length < MIN_GROUP) continue;
          g.median = median(g.values);
          outlierFlags(g.values, OUTLIER_OF[rule.metric]!).forEach((out, k) => out && g.outliers.add(g.keys[k]!));
        }
      }
      for (const p of selected) {
        const v = metricValue(p, rule.metric);
        if (v === undefined) continue;
        const key = keyOf.get(p)!;
        const reason = this.judge(rule, v, p, history, key, groups);
        if (reason !== undefined) firings.push({ rule, sample: p, processKey: key, value: v, reason });
      }
    });
    return firings;
  }

  private judge(rule: CaptureRule, v: number, p: ProcessStats, history: Map<string, number[]>, key: string, groups: Map<string, OutlierGroup>): string | undefined {
    const c = rule.condition;
    const shown = (x: number) => formatMetric(rule.metric, x);
    switch (c.kind) {
      case "above":
        return v > c.value ? `${rule.metric} ${shown(v)} > ${shown(c.value)}` : undefined;
      case "aboveAverage": {
        const past = history.get(key) ?? [];
        let reason: string | undefined;
        if (past.length >= c.warmup) {
          const avg = past.reduce((a, b) => a + b, 0) / past.length;
          if (v > (avg * c.percent) / 100 && v > c.min) {
            reason = `${rule.metric} ${shown(v)} > ${c.percent}% of its average ${shown(avg)} over ${past.length} samples`;
          }
        }
        past.push(v);
        if (past.length > c.window) past.shift();
        history.set(key, past);
        return reason;
      }
      case "outlier": {
        const g = groups.get(p.modulePath);
        if (g === undefined || !g.outliers.has(key)) return undefined;
        return `${rule.metric} ${shown(v)} is an outlier among ${g.values.length} processes of ${p.modulePath} (median ${shown(g.median)})`;
      }
    }
  }
}

function selects(rule: CaptureRule, p: ProcessStats, identityOf: (p: ProcessStats) => ProcessIdentity | undefined): boolean {
  const s = rule.selectors;
  if (!selectorMatches(s.module, p.modulePath)) return false;
  if (s.exe === undefined && s.container === undefined && s.pod === undefined) return true;
  const id = identityOf(p);
  if (id === undefined) return false;
  return (
    selectorMatches(s.exe, id.exe) &&
    selectorMatches(s.container, id.container.name, id.container.id) &&
    selectorMatches(s.pod, id.pod.name, id.pod.namespace === "" ? "" : `${id.pod.namespace}/${id.pod.name}`)
  );
}
