// pprof-cpu and pprof-heap: save the agent's profile, then, with --top / --flame, report on it like
// `go tool pprof` would, without a Go toolchain. pprof-cpu takes --duration (net/http/pprof endpoints); pprof-heap
// takes --kind for the other sampled profiles a net/http/pprof endpoint serves (allocs, block, mutex, goroutine,
// threadcreate). Across hosts: one file per host, written as it streams, and with
// --merge one merged profile (saved too) for --top and --flame.
import { join, resolve } from "node:path";
import { ProfileKind } from "../proto/index.js";
import { decodeProfile, encodeProfile, mergeProfiles, type Profile } from "../analysis/index.js";
import { defineCommand, type Command, type CommandContext } from "./command.js";
import {
  afterSaving,
  durationFlag,
  parseCaptureDuration,
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
import { flagValue, type FlagSpec } from "./parse-argv.js";
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
  /** Which profile (pprof-heap --kind; pprof-cpu: cpu); absent = the command's own (cpu or heap). */
  profile?: ProfileName;
}

/**
 * The live profiles: what they are called, which profile gopsd is asked for and their sample index names. A gops
 * agent serves cpu and heap; the others need a net/http/pprof endpoint (gopsd says so otherwise).
 */
const PROFILES = {
  cpu: { what: "CPU profile", profileKind: ProfileKind.PROFILE_KIND_CPU, indexes: SAMPLE_INDEXES.cpu },
  heap: { what: "heap profile", profileKind: ProfileKind.PROFILE_KIND_HEAP, indexes: SAMPLE_INDEXES.heap },
  allocs: { what: "allocs profile", profileKind: ProfileKind.PROFILE_KIND_ALLOCS, indexes: SAMPLE_INDEXES.heap },
  block: { what: "block profile", profileKind: ProfileKind.PROFILE_KIND_BLOCK, indexes: ["contentions", "delay"] },
  mutex: { what: "mutex profile", profileKind: ProfileKind.PROFILE_KIND_MUTEX, indexes: ["contentions", "delay"] },
  goroutine: { what: "goroutine profile", profileKind: ProfileKind.PROFILE_KIND_GOROUTINE, indexes: ["goroutine"] },
  threadcreate: { what: "threadcreate profile", profileKind: ProfileKind.PROFILE_KIND_THREADCREATE, indexes: ["threadcreate"] },
} as const satisfies Record<string, { what: string; profileKind: ProfileKind; indexes: readonly string[] }>;

export type ProfileName = keyof typeof PROFILES;

/** pprof-heap --kind: the heap profile (default) or another sampled profile of net/http/pprof. */
const HEAP_KINDS = ["heap", "allocs", "block", "mutex", "goroutine", "threadcreate"] as const satisfies readonly ProfileName[];

/** The capture of one profile; `durationSeconds` (CPU only) reaches gopsd as duration_seconds (0 = its default). */
function profileCapture(profile: ProfileName): ToolCaptureKindSpec {
  const { what, profileKind } = PROFILES[profile];
  return {
    kind: profile,
    what,
    defaultExtension: ".pprof.gz",
    goTool: "pprof",
    start: (diagnostics, pid, signal, durationSeconds) =>
      diagnostics.streamProfile({ pid, kind: profileKind, ...(durationSeconds !== undefined ? { durationSeconds } : {}) }, { signal }),
  };
}

/**
 * The pprof-cpu or pprof-heap command: its help, flags and run, differing only in the profile's kind. Its own
 * runner: across hosts --merge combines the hosts' profiles into one more file and report.
 */
export function profileCaptureSpec(name: string, summary: string, kind: "cpu" | "heap"): Command<ProfileCaptureOptions> {
  const indexes = PROFILES[kind].indexes;
  const ownFlags: FlagSpec[] =
    kind === "cpu"
      ? [durationFlag("30s")]
      : [{ name: "kind", value: "KIND", help: `which profile: ${HEAP_KINDS.join(", ")} (default heap; the others need a net/http/pprof endpoint)` }];
  const ownDetails =
    kind === "cpu"
      ? [
          "--duration DUR: profile for DUR (whole seconds, 1s to 10m: 5s, 2m, or a number of seconds). A",
          "  net/http/pprof endpoint (ps: ~) honours it; a gops agent (ps: *) always profiles 30s and refuses",
          "  other durations (FAILED_PRECONDITION, one line, exit 4).",
        ]
      : [
          `--kind KIND: ${HEAP_KINDS.join(", ")} (default heap). A gops agent (ps: *) serves`,
          "  heap only; the others come from a net/http/pprof endpoint (ps: ~). The file is named after the kind:",
          "  <pid>-<kind>-<date>-<time>.pprof.gz. --sample-index: heap, allocs: inuse_space, inuse_objects,",
          "  alloc_space, alloc_objects; block, mutex: contentions, delay; goroutine: goroutine; threadcreate:",
          "  threadcreate (default: the profile's own, as go tool pprof picks it).",
        ];
  return defineCommand({
    name,
    args: kind === "cpu" ? "<pid> [-o FILE] [--duration DUR]" : "<pid> [-o FILE] [--kind KIND]",
    summary,
    flags: [
      OUTPUT_FLAG,
      ...ownFlags,
      { name: "merge", help: "across hosts: also merge the hosts' profiles into one (saved, and what --top and --flame show)" },
      ...PROFILE_REPORT_FLAGS,
    ],
    details: [
      "Saves the profile as the agent wrote it (gzip pprof, for go tool pprof) to -o FILE or <pid>-" + kind + "-<date>-<time>.pprof.gz.",
      ...ownDetails,
      "--top [N]: then print the top N functions (default 10): flat, flat%, sum%, cum, cum%, like go tool pprof -top",
      "  (a number right after --top is N: write the pid first, or --top=N).",
      ...(kind === "cpu" ? [`--sample-index NAME: ${indexes.join(", ")} (default ${indexes[0]}).`] : []),
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
      const profile = kind === "cpu" ? "cpu" : parseHeapKind(flagValue(parsed, "kind"));
      const report = parseProfileReportFlags(parsed, PROFILES[profile].indexes);
      if (across && !merge && report.flame !== undefined) {
        throw new UsageError("--flame across hosts draws one graph of the merged profiles: add --merge");
      }
      const durationSeconds = kind === "cpu" ? parseCaptureDuration(flagValue(parsed, "duration")) : undefined;
      return {
        ...parseCaptureArgs(args, flagValue(parsed, "output")),
        ...report,
        merge,
        ...(profile !== kind ? { profile } : {}),
        ...(durationSeconds !== undefined ? { durationSeconds } : {}),
      };
    },
    // A capture takes as long as it takes (a CPU profile 30 s); bound it with --timeout if wanted.
    defaultTimeoutMs: () => undefined,
    run: (opts, ctx) => runProfileCapture(profileCapture(opts.profile ?? kind), opts, ctx),
  });
}

function parseHeapKind(text: string | undefined): ProfileName {
  if (text === undefined) return "heap";
  if (!(HEAP_KINDS as readonly string[]).includes(text)) throw new UsageError(`invalid --kind "${text}" (want one of: ${HEAP_KINDS.join(", ")})`);
  return text as ProfileName;
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
      const saved = await saveHostCapture(kind, client, opts.pid, where, place, opts.durationSeconds);
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
