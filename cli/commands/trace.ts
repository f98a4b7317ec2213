// `gopsctl trace <pid> [-o FILE]`: a 5 s runtime execution trace, saved to a file for `go tool trace`, with a
// one-line summary (size, trace format, length, the command that opens it).
import { describeTrace } from "../../analysis/index.js";
import {
  afterSaving,
  parseCaptureArgs,
  runSummarizedCapture,
  type CaptureKindSpec,
  type CaptureOptions,
  type SavedCapture,
} from "../capture.js";
import type { CommandContext, CommandSpec } from "../command.js";

const kind: CaptureKindSpec = {
  kind: "trace",
  what: "execution trace",
  defaultExtension: ".trace",
  start: (diagnostics, pid, signal) => diagnostics.streamTrace({ pid }, { signal }),
};

export const spec: CommandSpec<CaptureOptions> = {
  name: "trace",
  args: "<pid> [-o FILE]",
  summary: "capture a 5s execution trace into a file (go tool trace)",
  flags: ["output"],
  details: [
    "Saves the trace as the agent wrote it to -o FILE or <pid>-trace-<date>-<time>.trace and prints one line:",
    "  size, trace format, length and the command that opens it (go tool trace, on any machine with Go).",
    "--json: {pid, kind, path, bytes, goVersion, durationMs, openCommand, line}.",
    "A progress bar runs on stderr when it is a terminal; Ctrl-C stops the capture and leaves no file (exit 130).",
    "Across hosts (the pid applies on every host): one file per host, <host>-<pid>-trace-<date>-<time>.trace, in the",
    "  working directory or in -o DIR (created if missing), and each host's line as its trace arrives.",
  ],
  parse: (args, options) => parseCaptureArgs(args, options.output),
  // A capture takes as long as it takes; bound it with --timeout if wanted.
  defaultTimeoutMs: () => undefined,
  run,
};

export function run(opts: CaptureOptions, ctx: CommandContext): Promise<void> {
  return runSummarizedCapture(kind, opts, ctx, described);
}

/** The one-line summary and the JSON of a saved trace (only these are kept, not the trace's bytes). */
function described(saved: SavedCapture): { line: string; json: unknown } {
  try {
    const durationMs = saved.metadata.expectedDurationMs;
    const { file: _file, ...fields } = describeTrace(saved.data, { file: saved.display, ...(durationMs > 0 ? { durationMs } : {}) });
    return { line: fields.line, json: { pid: saved.pid, kind: kind.kind, path: saved.path, ...fields } };
  } catch (err) {
    throw afterSaving(saved, err);
  }
}
