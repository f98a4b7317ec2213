// Capture rules: when gopsd takes the evidence from a Go program by itself. One text form for the flag
// (`--capture-rule 'goroutines>300'`) and the config file (a string, or a mapping whose fields are the same
// key=value options). Pure: parsing and matching only.
//
//   RULE    := METRIC '>' COND { ' ' KEY '=' VALUE }
//   METRIC  := goroutines | heap | rss | cpu | threads | gc-pause | gc-cpu
//   COND    := VALUE            above a value:           goroutines>300, heap>512MiB, rss>2GiB, cpu>90, threads>200,
//                                                         gc-pause>50ms (in the sampling interval), gc-cpu>25%
//            | N '%avg'         above N% of its own moving average (after a warm-up): goroutines>150%avg
//            | 'outlier'        an outlier among the processes of the same module by `gopsctl top`'s rule
//                               (goroutines, heap and gc-pause only): heap>outlier
//   KEY     := name (default: the condition text) | module | exe | container | pod (selectors: exact, or a glob
//              where * stands for any characters) | capture (a comma list of heap, cpu, trace, or none; default heap;
//              goroutine stacks and memstats are always taken) | warmup (samples before an average counts,
//              default 5) | window (samples in the average, default 30) | min (and at least this value, for %avg)
import { parseDurationMs } from "../../common/duration.js";
import type { OutlierMetric } from "../../common/outliers.js";

export const METRICS = ["goroutines", "heap", "rss", "cpu", "threads", "gc-pause", "gc-cpu"] as const;
export type Metric = (typeof METRICS)[number];
export const EXTRAS = ["heap", "cpu", "trace"] as const;
export type Extra = (typeof EXTRAS)[number];

export type Condition =
  | { kind: "above"; value: number }
  | { kind: "aboveAverage"; percent: number; warmup: number; window: number; min: number }
  | { kind: "outlier" };

export interface Selectors {
  module?: string;
  exe?: string;
  container?: string;
  pod?: string;
}

export interface CaptureRule {
  /** Names the rule in manifests, audit lines ("trigger") and listings. */
  name: string;
  metric: Metric;
  condition: Condition;
  selectors: Selectors;
  /** What is taken besides goroutine stacks and memstats. */
  extras: readonly Extra[];
  /** The rule as written (for messages). */
  text: string;
}

export const DEFAULT_WARMUP = 5;
export const DEFAULT_WINDOW = 30;

/** The outlier rule of analysis/outliers.ts covers these metrics. */
export const OUTLIER_OF: Partial<Record<Metric, OutlierMetric>> = { goroutines: "goroutines", heap: "heap", "gc-pause": "pause" };

const BYTE_UNITS: Record<string, number> = { "": 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** A threshold in the metric's unit: bytes (heap, rss), nanoseconds (gc-pause), a fraction (gc-cpu), else a number. */
export function parseValue(metric: Metric, text: string): number {
  const bad = (want: string): never => {
    throw new Error(`"${text}" is not ${want}`);
  };
  switch (metric) {
    case "heap":
    case "rss": {
      const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?$/i.exec(text) ?? /^(\d+(?:\.\d+)?)()b?$/i.exec(text);
      if (!m) return bad("a size such as 512MiB, 2GiB or 300000000");
      return Math.round(Number(m[1]) * BYTE_UNITS[m[2]!.toLowerCase()]!);
    }
    case "gc-pause": {
      const ms = parseDurationMs(text);
      if (ms === undefined || !(ms >= 0) || /^-/.test(text)) return bad("a duration such as 50ms");
      return Math.round(ms * 1e6);
    }
    case "gc-cpu": {
      const m = /^(\d+(?:\.\d+)?)(%?)$/.exec(text);
      if (!m) return bad("a fraction such as 0.25 or a percentage such as 25%");
      const v = m[2] === "%" ? Number(m[1]) / 100 : Number(m[1]);
      if (v > 1) return bad("a fraction from 0 to 1 (or 0% to 100%)");
      return v;
    }
    default: {
      if (!/^\d+(?:\.\d+)?$/.test(text)) return bad(metric === "cpu" ? "a percentage of one core such as 90" : "a number");
      if (metric !== "cpu" && !/^\d+$/.test(text)) return bad("a whole number");
      return Number(text);
    }
  }
}

const count = (key: string, text: string, min: number, max: number): number => {
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) throw new Error(`${key}=${text}: want a whole number from ${min} to ${max}`);
  return Number(text);
};

/** Parses one rule; throws an Error with a one-line message naming what is wrong. */
export function parseRule(text: string): CaptureRule {
  const words = text.trim().split(/\s+/).filter(Boolean);
  const head = words.shift();
  const fail = (why: string): never => {
    throw new Error(`capture rule "${text.trim()}": ${why}`);
  };
  if (head === undefined) return fail("empty rule");
  const m = /^([a-z-]+)>(.+)$/.exec(head);
  if (!m) return fail(`want METRIC>VALUE, METRIC>N%avg or METRIC>outlier first, e.g. goroutines>300`);
  const metric = m[1] as Metric;
  if (!METRICS.includes(metric)) fail(`unknown metric "${m[1]}" (use ${METRICS.join(", ")})`);
  const options = new Map<string, string>();
  for (const w of words) {
    const kv = /^([a-z]+)=(.+)$/.exec(w);
    if (!kv) fail(`"${w}" is not KEY=VALUE`);
    if (options.has(kv![1]!)) fail(`${kv![1]} given twice`);
    options.set(kv![1]!, kv![2]!);
  }
  const known = ["name", "module", "exe", "container", "pod", "capture", "warmup", "window", "min"];
  for (const k of options.keys()) if (!known.includes(k)) fail(`unknown key "${k}" (use ${known.join(", ")})`);

  let condition: Condition;
  const cond = m[2]!;
  try {
    const avg = /^(\d+)%avg$/.exec(cond);
    if (cond === "outlier") {
      if (OUTLIER_OF[metric] === undefined) throw new Error(`outlier applies to ${Object.keys(OUTLIER_OF).join(", ")} only`);
      condition = { kind: "outlier" };
    } else if (avg) {
      const percent = Number(avg[1]);
      if (percent <= 100) throw new Error(`${percent}%avg: want more than 100% of the average`);
      condition = {
        kind: "aboveAverage",
        percent,
        warmup: count("warmup", options.get("warmup") ?? String(DEFAULT_WARMUP), 1, 10_000),
        window: count("window", options.get("window") ?? String(DEFAULT_WINDOW), 1, 10_000),
        min: options.has("min") ? parseValue(metric, options.get("min")!) : 0,
      };
    } else {
      condition = { kind: "above", value: parseValue(metric, cond) };
    }
    if (condition.kind !== "aboveAverage") {
      for (const k of ["warmup", "window", "min"]) if (options.has(k)) throw new Error(`${k}= applies to N%avg conditions only`);
    }
  } catch (e) {
    return fail((e as Error).message);
  }

  const selectors: Selectors = {};
  for (const k of ["module", "exe", "container", "pod"] as const) {
    const s = options.get(k);
    if (s !== undefined) selectors[k] = s;
  }
  if (selectors.exe !== undefined && !selectors.exe.startsWith("/")) fail(`exe=${selectors.exe}: want an absolute path`);
  let extras: Extra[] = ["heap"];
  const capture = options.get("capture");
  if (capture !== undefined) {
    const list = capture.split(",").filter(Boolean);
    if (list.length === 1 && list[0] === "none") extras = [];
    else {
      for (const x of list) if (!(EXTRAS as readonly string[]).includes(x)) fail(`capture=${capture}: use a comma list of ${EXTRAS.join(", ")}, or none`);
      extras = [...new Set(list as Extra[])];
    }
  }
  const name = options.get("name") ?? head;
  if (!/^[A-Za-z0-9][A-Za-z0-9._%>:-]{0,63}$/.test(name)) fail(`name "${name}": letters, digits and . _ % > : - only, 64 at most`);
  return { name, metric, condition, selectors, extras, text: words.length > 0 ? `${head} ${words.join(" ")}` : head };
}

/** A rule from the config file: its text, or a mapping {when, name?, module?, ...} with the same keys. */
export function ruleFromConfig(entry: unknown): CaptureRule {
  if (typeof entry === "string") return parseRule(entry);
  if (typeof entry !== "object" || entry === null || Array.isArray(entry)) throw new Error("a capture rule is a string or a mapping with `when`");
  const o = entry as Record<string, unknown>;
  if (typeof o.when !== "string") throw new Error("a capture rule mapping needs `when`, e.g. when: goroutines>300");
  const parts = [o.when];
  for (const [k, v] of Object.entries(o)) {
    if (k === "when") continue;
    const value = Array.isArray(v) ? v.join(",") : v;
    if (typeof value !== "string" && typeof value !== "number") throw new Error(`capture rule key ${k}: want a string, number or list`);
    if (/\s/.test(String(value))) throw new Error(`capture rule key ${k}: "${value}" has white space`);
    parts.push(`${k}=${value}`);
  }
  return parseRule(parts.join(" "));
}

/** Whether one of values matches a selector: exactly, or as a glob where each * stands for any run of characters. */
export function selectorMatches(selector: string | undefined, ...values: (string | undefined)[]): boolean {
  if (selector === undefined) return true;
  const re = globOf(selector);
  return values.some((v) => v !== undefined && v !== "" && (re !== undefined ? re.test(v) : v === selector));
}

/** Compiled globs by selector text (a rule set has a handful; evaluated for every process of every sample). */
const GLOBS = new Map<string, RegExp | undefined>();
function globOf(selector: string): RegExp | undefined {
  if (GLOBS.has(selector)) return GLOBS.get(selector);
  const re = selector.includes("*") ? new RegExp(`^${selector.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`, "s") : undefined;
  if (GLOBS.size < 1024) GLOBS.set(selector, re);
  return re;
}
