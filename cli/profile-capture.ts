// pprof-cpu and pprof-heap: save the agent's profile, then, with --top / --flame, report on it like
// `go tool pprof` would, without a Go toolchain. Across hosts: one file per host, written as it streams, and with
// --merge one merged profile (saved too) for --top and --flame.
import { join, resolve } from "node:path";
import { ProfileKind } from "../proto/index.js";
import { decodeProfile, encodeProfile, mergeProfiles, type Profile } from "../analysis/index.js";
import { defineCommand, type Command, type CommandContext } from "./command.js";
import {
  afterSaving,
  hostCapturePlace,
  OUTPUT_FLAG,
  parseCaptureArgs,
  printOpenHint,
  printSavedCapture,
  saveCapture,
  saveHostCapture,
  type ToolCaptureKindSpec,
  type CaptureOptions,
} from "./capture.js";
import { mergedCaptureName, writeFileAtomically } from "./capture-file.js";
import { UsageError } from "./errors.js";
import { isAcrossHosts } from "./hosts.js";
import { printJson, printJsonLine, write } from "./output/index.js";
import { flagValue } from "./parse-argv.js";
import {
  buildProfileReport,
  formatProfileReport,
  parseProfileReportFlags,
  printProfileReport,
  PROFILE_REPORT_FLAGS,
  profileReportJson,
  SAMPLE_INDEXES,
  wantsReport,
  writeFlameGraph,
  type ProfileReport,
  type ProfileReportOptions,
} from "./profile-report.js";
import { answeredInHostOrder, eachHost, finishAcross, hostHeading } from "./run-command.js";

export interface ProfileCaptureOptions extends CaptureOptions, ProfileReportOptions {
  /** --merge (across hosts): merge the hosts' profiles into one, saved and reported on. */
  merge: boolean;
}

/** The two live profiles: what they are called and which profile gopsd is asked for. */
const PROFILES = {
  cpu: { what: "CPU profile", profileKind: ProfileKind.PROFILE_KIND_CPU },
  heap: { what: "heap profile", profileKind: ProfileKind.PROFILE_KIND_HEAP },
} as const;

/**
 * The pprof-cpu or pprof-heap command: its help, flags and run, differing only in the profile's kind. Its own
 * runner: across hosts --merge combines the hosts' profiles into one more file and report.
 */
export function profileCaptureSpec(name: string, summary: string, kind: "cpu" | "heap"): Command<ProfileCaptureOptions> {
  const indexes = SAMPLE_INDEXES[kind];
  const { what, profileKind } = PROFILES[kind];
  const capture: ToolCaptureKindSpec = {
    kind,
    what,
    defaultExtension: ".pprof.gz",
    goTool: "pprof",
    start: (diagnostics, pid, signal) => diagnostics.streamProfile({ pid, kind: profileKind }, { signal }),
  };
  return defineCommand({
    name,
    args: "<pid> [-o FILE]",
    summary,
    flags: [OUTPUT_FLAG, { name: "merge", help: "across hosts: also merge the hosts' profiles into one (saved, and what --top and --flame show)" }, ...PROFILE_REPORT_FLAGS],
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
      "Across hosts (--hosts, -l, --all; the pid applies on every host): one file per host, written as it streams,",
      `  <host>-<pid>-${kind}-<date>-<time>.pprof.gz in the working directory or in -o DIR (created if missing);`,
      "  --top prints each host's table under a `==> host <==` line. --merge also merges the hosts' profiles (values",
      `  summed per stack) into merged-${kind}-<date>-<time>.pprof.gz, which --top and --flame then show (--flame`,
      "  across hosts needs --merge). NDJSON: each host's {pid, kind, path, bytes[, top]}, then {merged: {...}}.",
      `  e.g. gopsctl ${name} 4132 -l role=web -o ${kind}/ --merge --top`,
    ],
    parse: (args, parsed) => {
      const merge = parsed.given.has("merge");
      const across = isAcrossHosts(parsed);
      if (merge && !across) throw new UsageError("--merge merges the profiles of several hosts: select them with --hosts, -l or --all");
      const report = parseProfileReportFlags(parsed, indexes);
      if (across && !merge && report.flame !== undefined) {
        throw new UsageError("--flame across hosts draws one graph of the merged profiles: add --merge");
      }
      return { ...parseCaptureArgs(args, flagValue(parsed, "output")), ...report, merge };
    },
    // A capture takes as long as it takes (a CPU profile 30 s); bound it with --timeout if wanted.
    defaultTimeoutMs: () => undefined,
    run: (opts, ctx) => runProfileCapture(capture, opts, ctx),
  });
}

async function runProfileCapture(kind: ToolCaptureKindSpec, opts: ProfileCaptureOptions, ctx: CommandContext): Promise<void> {
  if (ctx.fleet !== undefined) return runAcross(kind, opts, ctx);
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
  await printOpenHint(kind, saved, ctx);
}

/** What a host's capture leaves for printing (its bytes are not kept unless --merge needs the profile). */
interface HostCapture {
  display: string;
  path: string;
  bytes: number;
  /** --top without --merge: this host's table. */
  report?: ProfileReport;
  /** --merge: the decoded profile. */
  profile?: Profile;
}

async function runAcross(kind: ToolCaptureKindSpec, opts: ProfileCaptureOptions, ctx: CommandContext): Promise<void> {
  const fleet = ctx.fleet!;
  const place = await hostCapturePlace(opts.output, ctx);
  const perHostTop = !opts.merge && opts.top !== undefined;
  const settled = await eachHost(
    ctx,
    fleet.run(async (client, where): Promise<HostCapture> => {
      const saved = await saveHostCapture(kind, client, opts.pid, where, place);
      const capture: HostCapture = { display: saved.display, path: saved.path, bytes: saved.bytes };
      if (!opts.merge && !perHostTop) return capture;
      try {
        const profile = decodeProfile(saved.data);
        if (opts.merge) capture.profile = profile;
        else capture.report = buildProfileReport(profile, { top: opts.top, sampleIndex: opts.sampleIndex, flame: false }, { what: kind.what, pid: opts.pid, host: where.host });
      } catch (err) {
        throw afterSaving(saved, err);
      }
      return capture;
    }),
    {
      json: (c) => ({ pid: opts.pid, kind: kind.kind, path: c.path, bytes: c.bytes, ...(c.report !== undefined ? profileReportJson(c.report, undefined) : {}) }),
      text: (c, host) => (c.report !== undefined ? `${hostHeading(host)}${c.display}\n${formatProfileReport(c.report, undefined)}\n` : `${c.display}\n`),
    },
  );
  const answered = answeredInHostOrder(fleet, settled);
  if (opts.merge && answered.length > 0) {
    const merged = mergeProfiles(answered.map((a) => a.value.profile!));
    const display = join(place.dir, mergedCaptureName(kind.kind, place.now));
    const path = resolve(ctx.cwd, display);
    const bytes = await writeFileAtomically(path, encodeProfile(merged), ctx.signal);
    const hosts = answered.map((a) => a.host);
    const report = wantsReport(opts)
      ? buildProfileReport(
          merged,
          { top: opts.top, sampleIndex: opts.sampleIndex, flame: opts.flame !== undefined },
          { what: `${kind.what} merged from ${hosts.length} ${hosts.length === 1 ? "host" : "hosts"}`, pid: opts.pid },
        )
      : undefined;
    const flamePath = report !== undefined ? await writeFlameGraph(report, opts, ctx) : undefined;
    if (ctx.json) {
      await printJsonLine(ctx, {
        merged: { pid: opts.pid, kind: kind.kind, hosts, path, bytes, ...(report !== undefined ? profileReportJson(report, flamePath) : {}) },
      });
    } else {
      await write(ctx.stdout, `${display}\n`, ctx.signal);
      if (report !== undefined) await printProfileReport(report, opts, ctx);
    }
  }
  if (!ctx.json && answered.length > 0) {
    await write(ctx.stderr, `view them with: go tool ${kind.goTool} FILE (one per host${opts.merge ? ", and the merged one" : ""})\n`, ctx.signal);
  }
  await finishAcross(ctx, settled);
}
