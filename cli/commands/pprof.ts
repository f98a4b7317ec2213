// `gopsctl pprof FILE [--top [N]] [--sample-index NAME] [--flame OUT.html]`: the top table and flame graph of a
// saved profile (from pprof-cpu, pprof-heap, go tool pprof -proto, net/http/pprof) with no gopsd and no Go.
// `gopsctl pprof diff BASE NEW [...]`: the same of NEW - BASE, as go tool pprof -diff_base BASE NEW shows it.
import { basename, resolve } from "node:path";
import { decodeProfile, diffProfiles, PROFILE_MAX_BYTES } from "../../analysis/index.js";
import { invalidArgument } from "../../common/errors.js";
import { defineCommand, type CommandContext } from "../command.js";
import { UsageError } from "../errors.js";
import { printJson } from "../output/index.js";
import type { ParsedArgv } from "../parse-argv.js";
import {
  buildProfileReport,
  DEFAULT_TOP,
  parseProfileReportFlags,
  printProfileReport,
  PROFILE_REPORT_FLAGS,
  profileReportJson,
  wantsReport,
  writeFlameGraph,
  type ProfileReportOptions,
} from "../profile-report.js";

export interface PprofOptions extends ProfileReportOptions {
  /** The profile file, as given (relative to the working directory); with `base`, the NEW profile of a diff. */
  file: string;
  /** `pprof diff BASE NEW`: the base profile's file. */
  base?: string;
}

export const spec = defineCommand({
  name: "pprof",
  args: "<file> | diff <base> <new>",
  summary: "show a saved profile without Go: --top [N] functions (the default), --flame FILE.html; diff two profiles",
  flags: PROFILE_REPORT_FLAGS,
  offline: "it reads a local file",
  details: [
    "Reads a pprof profile (gzip or not) from a file: pprof-cpu/pprof-heap's, or any Go program's; no gopsd is asked.",
    `--top [N]: the top N functions (default ${DEFAULT_TOP}), like go tool pprof -top; the default when --flame is not given.`,
    "--sample-index NAME: a sample type of the profile (heap: inuse_space, inuse_objects, alloc_space, alloc_objects;",
    "  CPU: cpu, samples) or its number; default the profile's own (inuse_space, cpu).",
    "--flame FILE.html: write an interactive flame graph (one self-contained HTML file).",
    "--json: {path, bytes, top, flame}.",
    "pprof diff BASE NEW: what grew (positive) and shrank (negative) from BASE to NEW, two profiles of one kind with the",
    "  same sample types, ranked like go tool pprof -diff_base BASE -top NEW (percentages of BASE's total); the flame",
    "  graph draws each stack by the size of its change, red where it grew, blue where it shrank.",
    "  --json: {base, new, top, flame}.",
    "examples:",
    "  gopsctl pprof 4132-cpu-20261126-110257.pprof.gz",
    "  gopsctl pprof heap.pprof.gz --top 20 --sample-index alloc_space --flame heap.html",
    "  gopsctl pprof diff heap-0900.pprof.gz heap-1000.pprof.gz --top 20 --flame growth.html",
  ],
  parse: parsePprof,
  defaultTimeoutMs: () => undefined,
  run,
});

function parsePprof(args: readonly string[], parsed: ParsedArgv): PprofOptions {
  const report = parseProfileReportFlags(parsed);
  const top = wantsReport(report) ? report.top : DEFAULT_TOP;
  // A profile saved as a file named "diff" is ./diff.
  if (args[0] === "diff") {
    const [, base, file] = args;
    if (base === undefined || file === undefined) throw new UsageError("pprof diff needs two profile files: BASE NEW");
    if (args.length > 3) throw new UsageError(`too many arguments: "${args[3]}"`);
    return { file, base, ...report, top };
  }
  const file = args[0];
  if (file === undefined) throw new UsageError("missing profile file");
  if (args.length > 1) throw new UsageError(`too many arguments: "${args[1]}"`);
  return { file, ...report, top };
}

export async function run(opts: PprofOptions, ctx: CommandContext): Promise<void> {
  if (opts.base !== undefined) return runDiff(opts, opts.base, ctx);
  const path = resolve(ctx.cwd, opts.file);
  const data = await readProfileFile(path, ctx.signal);
  const report = buildProfileReport(
    decodeProfile(data),
    { top: opts.top, sampleIndex: opts.sampleIndex, flame: opts.flame !== undefined },
    { what: "profile", file: basename(opts.file) },
  );
  const flamePath = await writeFlameGraph(report, opts, ctx);
  if (ctx.json) {
    await printJson(ctx, { path, bytes: data.length, ...profileReportJson(report, flamePath) });
    return;
  }
  await printProfileReport(report, opts, ctx);
}

/**
 * The file's bytes, refused unread when it is larger than any profile decodeProfile accepts could be (128 MiB as
 * protobuf; gzip adds at most a few bytes per 64 KiB block): a huge file is never read into memory.
 */
async function readProfileFile(path: string, signal: AbortSignal | undefined): Promise<Buffer> {
  const file = await process.getBuiltinModule("node:fs/promises").open(path, "r");
  try {
    const { size } = await file.stat();
    if (size > PROFILE_MAX_BYTES + (1 << 20)) {
      throw invalidArgument(`not a pprof profile: the file has more than ${PROFILE_MAX_BYTES >> 20} MiB (the limit for a profile)`);
    }
    return await file.readFile(signal ? { signal } : {});
  } finally {
    await file.close();
  }
}

async function runDiff(opts: PprofOptions, baseFile: string, ctx: CommandContext): Promise<void> {
  const basePath = resolve(ctx.cwd, baseFile);
  const newPath = resolve(ctx.cwd, opts.file);
  const diff = diffProfiles(decodeProfile(await readProfileFile(basePath, ctx.signal)), decodeProfile(await readProfileFile(newPath, ctx.signal)));
  const report = buildProfileReport(
    diff,
    { top: opts.top, sampleIndex: opts.sampleIndex, flame: opts.flame !== undefined, diff: true },
    { what: "profile diff", file: `${basename(opts.file)} - ${basename(baseFile)}` },
  );
  const flamePath = await writeFlameGraph(report, opts, ctx);
  if (ctx.json) {
    await printJson(ctx, { base: basePath, new: newPath, ...profileReportJson(report, flamePath) });
    return;
  }
  await printProfileReport(report, opts, ctx);
}
