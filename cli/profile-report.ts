// What `--top [N]`, `--sample-index` and `--flame FILE.html` make of a pprof profile, shared by pprof-cpu,
// pprof-heap and the offline `pprof FILE`: flag parsing, the pure report (top table, flame graph page) of one
// decoded profile, and writing it out. The pure part works on any Profile, e.g. one host's or a merged one.
import { resolve } from "node:path";
import {
  formatTop,
  renderFlameGraph,
  resolveSampleIndex,
  sampleTypes,
  topFunctions,
  type Profile,
  type TopResult,
} from "../analysis/index.js";
import type { CommandContext } from "./command.js";
import { writeFileAtomically } from "./capture-file.js";
import { UsageError } from "./errors.js";
import { write } from "./output/index.js";
import { flagValue, type FlagSpec, type ParsedArgv } from "./parse-argv.js";

export interface ProfileReportOptions {
  /** --top [N]: rows of the top table; undefined = no table. */
  top: number | undefined;
  /** --sample-index NAME; undefined = the profile's default (cpu, inuse_space). */
  sampleIndex: string | undefined;
  /** --flame FILE.html, as given (relative to the working directory). */
  flame: string | undefined;
}

export const PROFILE_REPORT_FLAGS: readonly FlagSpec[] = [
  { name: "top", value: "N", optionalValue: true, help: "print the top N functions (default 10) like go tool pprof -top" },
  { name: "sample-index", value: "NAME", help: "the value --top and --flame report: inuse_space (heap default), inuse_objects, alloc_space, alloc_objects; cpu (default), samples" },
  { name: "flame", value: "FILE.html", help: "write an interactive flame graph (one self-contained HTML file)" },
];
export const DEFAULT_TOP = 10;

/** The sample types a live capture has, so a wrong --sample-index fails before a 30 s capture, not after. */
export const SAMPLE_INDEXES = {
  cpu: ["cpu", "samples"],
  heap: ["inuse_space", "inuse_objects", "alloc_space", "alloc_objects"],
} as const;

/** Reads --top [N], --sample-index and --flame; `known` limits the sample index names (live captures). */
export function parseProfileReportFlags(parsed: Pick<ParsedArgv, "given" | "values">, known?: readonly string[]): ProfileReportOptions {
  let top: number | undefined;
  if (parsed.given.has("top")) {
    const text = flagValue(parsed, "top");
    top = text === undefined ? DEFAULT_TOP : /^\d+$/.test(text) ? Number(text) : NaN;
    if (!(Number.isSafeInteger(top) && top > 0)) throw new UsageError(`invalid --top "${text}" (want a positive number of rows)`);
  }
  const sampleIndex = flagValue(parsed, "sample-index");
  const flame = flagValue(parsed, "flame");
  if (sampleIndex !== undefined) {
    if (top === undefined && flame === undefined) throw new UsageError("--sample-index chooses what --top and --flame show: give one of them");
    if (known !== undefined && !known.includes(sampleIndex)) {
      throw new UsageError(`invalid --sample-index "${sampleIndex}" (want one of: ${known.join(", ")})`);
    }
  }
  return { top, sampleIndex, flame };
}

export function wantsReport(opts: ProfileReportOptions): boolean {
  return opts.top !== undefined || opts.flame !== undefined;
}

/** Where a profile came from, for the flame graph's title. */
export interface ProfileOrigin {
  /** "CPU profile", "heap profile", "profile". */
  what: string;
  pid?: number;
  host?: string;
  /** The file it was read from (offline). */
  file?: string;
}

export interface ProfileReport {
  /** The sample type reported (cpu, inuse_space, alloc_objects, ...). */
  sampleType: string;
  top?: TopResult;
  /** The flame graph page. */
  flameHtml?: string;
}

/** The top table and/or flame graph of one decoded profile, as `opts` asks. Pure. */
export function buildProfileReport(
  profile: Profile,
  opts: Omit<ProfileReportOptions, "flame"> & { flame: boolean; diff?: boolean },
  origin: ProfileOrigin,
): ProfileReport {
  const sampleType = sampleTypes(profile)[resolveSampleIndex(profile, opts.sampleIndex)]!.type;
  const report: ProfileReport = { sampleType };
  const sampleIndex = opts.sampleIndex !== undefined ? { sampleIndex: opts.sampleIndex } : {};
  if (opts.top !== undefined) report.top = topFunctions(profile, { ...sampleIndex, limit: opts.top });
  if (opts.flame) report.flameHtml = renderFlameGraph(profile, { ...sampleIndex, title: flameTitle(origin, sampleType), diff: opts.diff === true });
  return report;
}

/** e.g. "CPU profile of pid 4132 on web-1 (cpu)", "heap.pb.gz (alloc_space)". */
export function flameTitle(origin: ProfileOrigin, sampleType: string): string {
  let title = origin.file ?? origin.what;
  if (origin.pid !== undefined) title += ` of pid ${origin.pid}`;
  if (origin.host !== undefined && origin.host !== "") title += ` on ${origin.host}`;
  return `${title} (${sampleType})`;
}

/** The report as text: the top table, then where the flame graph went. */
export function formatProfileReport(report: ProfileReport, flameDisplay: string | undefined): string {
  let text = report.top !== undefined ? formatTop(report.top) : "";
  if (flameDisplay !== undefined) text += `flame graph: ${flameDisplay} (open it in a browser)\n`;
  return text;
}

/** The report's fields for --json: `top` (a TopResult) and `flame` (the page's absolute path). */
export function profileReportJson(report: ProfileReport, flamePath: string | undefined): Record<string, unknown> {
  return {
    ...(report.top !== undefined ? { top: report.top } : {}),
    ...(flamePath !== undefined ? { flame: flamePath } : {}),
  };
}

/** Writes the flame graph page (if any) to --flame's file; returns its absolute path. */
export async function writeFlameGraph(report: ProfileReport, opts: ProfileReportOptions, ctx: CommandContext): Promise<string | undefined> {
  if (opts.flame === undefined || report.flameHtml === undefined) return undefined;
  const path = resolve(ctx.cwd, opts.flame);
  await writeFileAtomically(path, Buffer.from(report.flameHtml, "utf8"), ctx.signal);
  return path;
}

/** Text mode: the report after whatever the command printed first. */
export async function printProfileReport(report: ProfileReport, opts: ProfileReportOptions, ctx: CommandContext): Promise<void> {
  await write(ctx.stdout, formatProfileReport(report, opts.flame), ctx.signal);
}
