// Which processes of a program stand out from their siblings: the robust rule `gopsctl top` marks and capture
// rules (`METRIC>outlier`, server/capture/) fire on. In common/ because both the CLI and gopsd use it.
//
// Processes are grouped by program (the main module path). Within a group, for each metric (goroutines, heap in
// use, GC pause in the last interval) with at least MIN_GROUP known values:
//   median m, MAD = median(|x - m|), robust z = 0.6745 * (x - m) / MAD      (Iglewicz & Hoaglin's modified z-score)
//   a value is an outlier when z > 3.5 (about 5 MADs above the median)
// When MAD = 0 (more than half the values are equal, e.g. idle replicas with the same goroutine count) z is not
// defined; then a value is an outlier when it is more than RELATIVE (50%) above the median.
// In both cases it must also exceed the median by the metric's floor (10 goroutines, 4 MiB of heap, 1 ms of pause),
// so that 5 goroutines beside 4 or one GC beside none is not news. Only values ABOVE the median are marked: top
// looks for the replica that does too much (leaks, bloats, pauses); a quiet one is not a problem to chase.
// Pure: no I/O, no clock.

export type OutlierMetric = "goroutines" | "heap" | "pause";
export const OUTLIER_METRICS: readonly OutlierMetric[] = ["goroutines", "heap", "pause"];

/** Fewest processes of a program for the rule to apply. */
export const MIN_GROUP = 3;
/** Robust z above which a value is an outlier. */
export const Z_THRESHOLD = 3.5;
/** With MAD = 0: how far above the median (as a share of it) is an outlier. */
export const RELATIVE = 0.5;
/** How much above the median a value must be, per metric, to be marked at all. */
export const FLOORS: Readonly<Record<OutlierMetric, number>> = { goroutines: 10, heap: 4 << 20, pause: 1_000_000 };

export interface OutlierInput {
  /** The program (main module path); "" = unknown, never compared. */
  group: string;
  /** undefined = not known (stale values may be passed: they are the best known). */
  values: Partial<Record<OutlierMetric, number>>;
}

/** For each input, the metrics on which it is an outlier (in OUTLIER_METRICS order; empty for most). */
export function findOutliers(items: readonly OutlierInput[]): OutlierMetric[][] {
  const result: OutlierMetric[][] = items.map(() => []);
  const groups = new Map<string, number[]>();
  items.forEach((it, i) => {
    if (it.group === "") return;
    const g = groups.get(it.group);
    if (g) g.push(i);
    else groups.set(it.group, [i]);
  });
  for (const members of groups.values()) {
    if (members.length < MIN_GROUP) continue;
    for (const metric of OUTLIER_METRICS) {
      const known = members.filter((i) => Number.isFinite(items[i]!.values[metric]));
      if (known.length < MIN_GROUP) continue;
      const xs = known.map((i) => items[i]!.values[metric]!);
      const spread = spreadOf(xs);
      for (const [k, i] of known.entries()) if (outlierBy(xs[k]!, spread, metric)) result[i]!.push(metric);
    }
  }
  return result;
}

/** Whether x (one of xs) is an outlier of xs for metric, by the rule above. */
export function isOutlier(x: number, xs: readonly number[], metric: OutlierMetric): boolean {
  return outlierBy(x, spreadOf(xs), metric);
}

/** For each of xs, whether it is an outlier of xs for metric (the group's median and MAD computed once). */
export function outlierFlags(xs: readonly number[], metric: OutlierMetric): boolean[] {
  const spread = spreadOf(xs);
  return xs.map((x) => outlierBy(x, spread, metric));
}

/** The median and MAD of a group's values (computed once per group and metric). */
function spreadOf(xs: readonly number[]): { m: number; mad: number } {
  const m = median(xs);
  return { m, mad: median(xs.map((v) => Math.abs(v - m))) };
}

function outlierBy(x: number, { m, mad }: { m: number; mad: number }, metric: OutlierMetric): boolean {
  if (x - m < FLOORS[metric]) return false;
  if (mad > 0) return (0.6745 * (x - m)) / mad > Z_THRESHOLD;
  return x > m * (1 + RELATIVE);
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
