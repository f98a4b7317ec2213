// pprof-cpu and pprof-heap: save the agent's profile, then, with --top / --flame, report on it like
// `go tool pprof` would, without a Go toolchain.
import { decodeProfile } from "../analysis/index.js";
import type { CommandContext, CommandSpec } from "./command.js";
import {
  afterSaving,
  parseCaptureArgs,
  printSavedCapture,
  saveCapture,
  shellQuote,
  type CaptureKindSpec,
  type CaptureOptions,
} from "./capture.js";
import { printJson, write } from "./output/index.js";
import {
  buildProfileReport,
  parseProfileReportFlags,
  printProfileReport,
  PROFILE_REPORT_FLAGS,
  profileReportJson,
  SAMPLE_INDEXES,
  wantsReport,
  writeFlameGraph,
  type ProfileReportOptions,
} from "./profile-report.js";

export interface ProfileCaptureOptions extends CaptureOptions, ProfileReportOptions {}

export function profileCaptureSpec(
  name: string,
  summary: string,
  kind: "cpu" | "heap",
  run: (opts: ProfileCaptureOptions, ctx: CommandContext) => Promise<void>,
): CommandSpec<ProfileCaptureOptions> {
  const indexes = SAMPLE_INDEXES[kind];
  return {
    name,
    args: "<pid> [-o FILE]",
    summary,
    flags: ["output", ...PROFILE_REPORT_FLAGS],
    details: [
      "Saves the profile as the agent wrote it (gzip pprof, for go tool pprof) to -o FILE or <pid>-" + kind + "-<date>-<time>.pprof.gz.",
      "--top [N]: then print the top N functions (default 10): flat, flat%, sum%, cum, cum%, like go tool pprof -top",
      "  (a number right after --top is N: write the pid first, or --top=N).",
      `--sample-index NAME: ${indexes.join(", ")} (default ${indexes[0]}).`,
      "--flame FILE.html: then write an interactive flame graph (click to zoom, search, tooltips; no network needed).",
      "--json: {pid, kind, path, bytes} and, when asked, top (rows with flat, cum and percentages) and flame (its path).",
      "A progress bar runs on stderr when it is a terminal; Ctrl-C stops the capture and leaves no file (exit 130).",
      "examples:",
      `  gopsctl ${name} 4132 --top --flame ${kind}.html`,
      `  gopsctl ${name} 4132 -o ${kind}.pprof.gz --top 20${kind === "heap" ? " --sample-index alloc_space" : ""}`,
      `  gopsctl pprof ${kind}.pprof.gz --top     (the same table later, from the saved file)`,
    ],
    parse: (args, options, parsed) => ({ ...parseCaptureArgs(args, options.output), ...parseProfileReportFlags(parsed, indexes) }),
    // A capture takes as long as it takes (a CPU profile 30 s); bound it with --timeout if wanted.
    defaultTimeoutMs: () => undefined,
    run,
  };
}

export async function runProfileCapture(kind: CaptureKindSpec, opts: ProfileCaptureOptions, ctx: CommandContext): Promise<void> {
  const saved = await saveCapture(kind, opts, ctx);
  if (!wantsReport(opts)) {
    await printSavedCapture(kind, saved, ctx);
    return;
  }
  if (!ctx.json) await write(ctx.stdout, `${saved.display}\n`, ctx.signal);
  let report;
  try {
    report = buildProfileReport(
      decodeProfile(saved.data),
      { top: opts.top, sampleIndex: opts.sampleIndex, flame: opts.flame !== undefined },
      { what: kind.what, pid: saved.pid, host: saved.metadata.host },
    );
  } catch (err) {
    throw afterSaving(saved, err);
  }
  const flamePath = await writeFlameGraph(report, opts, ctx);
  if (ctx.json) {
    await printJson(ctx, { pid: saved.pid, kind: kind.kind, path: saved.path, bytes: saved.bytes, ...profileReportJson(report, flamePath) });
    return;
  }
  await printProfileReport(report, opts, ctx);
  await write(ctx.stderr, `view it with: go tool ${kind.goTool} ${shellQuote(saved.display)}\n`, ctx.signal);
}
