// `go tool pprof -top` in TypeScript: per-function flat and cumulative values of one sample index, with
// pprof's node dropping (cum <= 0.5% of the total), ordering (flat desc, then name) and unit selection.
import type { Profile } from "pprof-format";
import { invalidArgument } from "../common/errors.js";
import { callPath, isDiffBaseSample, locationFrames, resolveSampleIndex, sampleTypes } from "./profile.js";
import { convert, percentage, reportUnit, scaledLabel, unitFamily } from "./units.js";

export interface TopOptions {
  /** Sample type name or index (see resolveSampleIndex); default inuse_space for heap, cpu for CPU. */
  sampleIndex?: string | number;
  /** Rows to keep (pprof's -nodecount); default all. */
  limit?: number;
  /** Drop functions whose |cum| is at most this fraction of the total (pprof's -nodefraction); default 0.005. */
  nodeFraction?: number;
}

export interface TopRow {
  name: string;
  /** Value of the samples whose leaf frame is this function. */
  flat: number;
  flatPercent: number;
  /** Running total of flatPercent down to this row. */
  sumPercent: number;
  /** Value of the samples with this function anywhere on the stack (once per sample). */
  cum: number;
  cumPercent: number;
  /** "inline" when every call to it was inlined, "partial-inline" when some were, else "". */
  inline: "" | "inline" | "partial-inline";
}

export interface TopResult {
  rows: TopRow[];
  /** Sum of |value| over all samples; in a diff (profile-diff.ts), over the base's samples only, as pprof takes it. */
  total: number;
  /** Unit of the values, as the profile names it (nanoseconds, bytes, count). */
  unit: string;
  /** Sample type reported (cpu, inuse_space, alloc_objects, ...). */
  sampleType: string;
  /** The unit every value is printed in (pprof picks one per report: s, ms, kB, MB, count, ...). */
  displayUnit: string;
  /** Functions left after dropping those below `cutoff`. */
  nodeCount: number;
  /** Functions dropped because |cum| < cutoff. */
  dropped: number;
  /** The node fraction of the sum of the functions' flat values (in a diff: the net change): what drops a function. */
  cutoff: number;
  /**
   * The cutoff pprof's "Dropped N nodes (cum <= X)" line names: the node fraction of `total`, not `cutoff` (in a
   * diff, of the base's total; otherwise they differ when samples without locations add to the total only).
   */
  reportedCutoff: number;
  /** Sum of flat over `rows`. */
  shownFlat: number;
  /** The profile's duration (0 when it has none). */
  durationNanos: number;
}

interface Node {
  name: string;
  flat: number;
  cum: number;
}

const DEFAULT_NODE_FRACTION = 0.005;
/** pprof's -edgefraction: edges lighter than this fraction of the total are dropped before labels are made. */
const EDGE_FRACTION = 0.001;

/**
 * "(inline)" / "(partial-inline)" as pprof derives them: from the in-edges of each shown function in the graph
 * pprof rebuilds over the shown functions only (-nodefraction and -nodecount): an edge joins a function to the
 * nearest shown caller on the stack, skipping the rest; it is inlined when the callee is not the outermost line
 * of its location (an edge is inlined only if every sample's is); edges lighter than the edge cutoff are dropped.
 * A function none of whose callers is shown has no label, even if it was inlined.
 */
function inlineStates(
  profile: Profile,
  frames: ReturnType<typeof locationFrames>,
  index: number,
  shown: ReadonlySet<string>,
  edgeCutoff: number,
): Map<string, { inline: boolean; noinline: boolean }> {
  const edges = new Map<string, { callee: string; weight: number; inline: boolean }>();
  for (const sample of profile.sample) {
    const w = Number(sample.value[index]);
    if (w === 0) continue;
    const seen = new Set<string>();
    let parent: string | undefined;
    for (const { name, inlined } of callPath(frames, sample.locationId)) {
      if (!shown.has(name)) continue;
      if (parent !== undefined && parent !== name) {
        const key = `${parent}\0${name}`;
        if (!seen.has(key)) {
          seen.add(key);
          const edge = edges.get(key) ?? { callee: name, weight: 0, inline: true };
          edge.weight += w;
          edge.inline &&= inlined;
          edges.set(key, edge);
        }
      }
      parent = name;
    }
  }
  const states = new Map<string, { inline: boolean; noinline: boolean }>();
  for (const edge of edges.values()) {
    if (Math.abs(edge.weight) < edgeCutoff) continue;
    const state = states.get(edge.callee) ?? { inline: false, noinline: false };
    if (edge.inline) state.inline = true;
    else state.noinline = true;
    states.set(edge.callee, state);
  }
  return states;
}

export function topFunctions(profile: Profile, opts: TopOptions = {}): TopResult {
  const index = resolveSampleIndex(profile, opts.sampleIndex);
  const type = sampleTypes(profile)[index]!;
  const nodeFraction = opts.nodeFraction ?? DEFAULT_NODE_FRACTION;
  if (!(nodeFraction >= 0 && nodeFraction <= 1)) throw invalidArgument(`node fraction must be in [0, 1], got ${nodeFraction}`);
  if (opts.limit !== undefined && !(Number.isInteger(opts.limit) && opts.limit > 0)) {
    throw invalidArgument(`top limit must be a positive integer, got ${opts.limit}`);
  }

  const frames = locationFrames(profile);
  const nodes = new Map<string, Node>();
  let total = 0;
  let baseTotal = 0;
  /**
   * Sum of every function's flat (signed: in a diff, the net change), which pprof's node and edge cutoffs are
   * fractions of: the samples that have a leaf function, unlike `total`, which counts samples without locations.
   */
  let flatSum = 0;
  for (const sample of profile.sample) {
    const w = Number(sample.value[index]);
    total += Math.abs(w);
    if (isDiffBaseSample(profile, sample)) baseTotal += Math.abs(w);
    if (w === 0) continue;
    const calls = callPath(frames, sample.locationId);
    const seenNodes = new Set<string>();
    for (const { name } of calls) {
      let node = nodes.get(name);
      if (!node) nodes.set(name, (node = { name, flat: 0, cum: 0 }));
      if (!seenNodes.has(name)) {
        seenNodes.add(name);
        node.cum += w;
      }
    }
    const leaf = calls.at(-1);
    if (leaf !== undefined) {
      nodes.get(leaf.name)!.flat += w;
      flatSum += w;
    }
  }

  // pprof's computeTotal: in a diff, percentages are of the base's total.
  if (baseTotal > 0) total = baseTotal;
  // pprof's newTrimmedGraph: the cutoffs are fractions of the sum of the nodes' flat values (signed: in a diff, the
  // net change); its reportLabels names a fraction of the report's total instead (see TopResult.reportedCutoff).
  const cutoff = Math.abs(Math.trunc(flatSum * nodeFraction));
  const reportedCutoff = Math.abs(Math.trunc(total * nodeFraction));
  // pprof's graph has no node whose flat and cum are both 0 (graph.selectNodesForGraph: in a diff, a function whose
  // growth and shrinkage cancel out); it keeps |cum| >= cutoff (graph.getNodesAboveCumCutoff), though its "Dropped"
  // line says "cum <= cutoff".
  const graphNodes = [...nodes.values()].filter((n) => n.flat !== 0 || n.cum !== 0);
  const kept = graphNodes.filter((n) => Math.abs(n.cum) >= cutoff);
  kept.sort(
    (a, b) =>
      Math.abs(b.flat) - Math.abs(a.flat) ||
      (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) ||
      Math.abs(b.cum) - Math.abs(a.cum),
  );
  const shown = opts.limit === undefined ? kept : kept.slice(0, opts.limit);

  const inlineOf = inlineStates(profile, frames, index, new Set(shown.map((n) => n.name)), Math.abs(Math.trunc(flatSum * EDGE_FRACTION)));

  const pct = (v: number) => (total === 0 ? 0 : (Math.abs(v) / total) * 100);
  let sum = 0;
  const rows: TopRow[] = shown.map((n) => {
    sum += n.flat;
    const state = inlineOf.get(n.name);
    return {
      name: n.name,
      flat: n.flat,
      flatPercent: pct(n.flat),
      sumPercent: pct(sum),
      cum: n.cum,
      cumPercent: pct(n.cum),
      inline: state?.inline ? (state.noinline ? "partial-inline" : "inline") : "",
    };
  });

  let minValue = 0;
  for (const n of shown) {
    const v = Math.abs(n.flat) || Math.abs(n.cum);
    if (v > 0 && (minValue === 0 || v < minValue)) minValue = v;
  }
  return {
    rows,
    total,
    unit: type.unit,
    sampleType: type.type,
    displayUnit: reportUnit(minValue, total, type.unit),
    nodeCount: kept.length,
    dropped: graphNodes.length - kept.length,
    cutoff,
    reportedCutoff,
    shownFlat: sum,
    durationNanos: Number(profile.durationNanos),
  };
}

/** Renders a TopResult like `go tool pprof -top`: header lines, then the flat/flat%/sum%/cum/cum% table. */
export function formatTop(result: TopResult): string {
  const value = (v: number) => scaledLabel(v, result.unit, result.displayUnit);
  const lines = [`Type: ${result.sampleType}`];
  if (result.durationNanos > 0) {
    // As pprof words it: the ratio to the duration only for time samples, else a trailing space; the
    // percentage keeps its padding, e.g. "(  100%)".
    let ratio = "";
    if (unitFamily(result.unit) === "time") {
      const totalNanos = convert(result.total, result.unit, "ns");
      if (totalNanos !== 0) ratio = `(${percentage(totalNanos, result.durationNanos)})`;
    }
    lines.push(`Duration: ${formatDuration(result.durationNanos)}, Total samples = ${value(result.total)} ${ratio}`);
  }
  lines.push(
    `Showing nodes accounting for ${value(result.shownFlat)}, ${percentage(result.shownFlat, result.total).trim()} of ${value(result.total)} total`,
  );
  if (result.dropped > 0) {
    lines.push(`Dropped ${result.dropped} node${result.dropped > 1 ? "s" : ""} (cum <= ${value(result.reportedCutoff)})`);
  }
  if (result.rows.length < result.nodeCount) lines.push(`Showing top ${result.rows.length} nodes out of ${result.nodeCount}`);
  lines.push(`${"flat".padStart(10)} ${"flat".padStart(5)}% ${"sum".padStart(5)}% ${"cum".padStart(10)} ${"cum".padStart(5)}%`);
  let sum = 0;
  for (const row of result.rows) {
    sum += row.flat;
    const inline = row.inline === "" ? "" : ` (${row.inline})`;
    const flat = `${value(row.flat).padStart(10)} ${percentage(row.flat, result.total)}`;
    const cum = `${value(row.cum).padStart(10)} ${percentage(row.cum, result.total)}`;
    lines.push(`${flat} ${percentage(sum, result.total)} ${cum}  ${row.name}${inline}`);
  }
  return lines.join("\n") + "\n";
}

/** 2.11s, 30s, 1m30s (pprof prints Go durations rounded to 10 ms). */
function formatDuration(nanos: number): string {
  const hundredths = Math.round(nanos / 1e7);
  const seconds = hundredths / 100;
  if (seconds < 60) return `${Number(seconds.toFixed(2))}s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes}m${Number((seconds - minutes * 60).toFixed(2))}s`;
}
