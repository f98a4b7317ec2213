// `gopsctl trace <pid> [-o FILE]`: a 5 s runtime execution trace, saved to a file for `go tool trace`, with a
// one-line summary (size, trace format, length, the command that opens it).
import { describeTrace } from "../../analysis/index.js";
import { afterSaving, OUTPUT_FLAG, parseCaptureArgs, summarizedCapture, type CaptureKindSpec, type SavedCapture } from "../capture.js";
import { defineCommand } from "../command.js";
import { flagValue } from "../parse-argv.js";

const kind: CaptureKindSpec = {
  kind: "trace",
  what: "execution trace",
  defaultExtension: ".trace",
  start: (diagnostics, pid, signal) => diagnostics.streamTrace({ pid }, { signal }),
};

export const spec = defineCommand({
  name: "trace",
  args: "<pid> [-o FILE]",
  summary: "capture a 5s execution trace into a file (go tool trace)",
  flags: [OUTPUT_FLAG],
  details: [
    "Saves the trace as the agent wrote it to -o FILE or <pid>-trace-<date>-<time>.trace and prints one line:",
    "  size, trace format, length and the command that opens it (go tool trace, on any machine with Go).",
    "--json: {pid, kind, path, bytes, goVersion, durationMs, openCommand, line}.",
    "A progress bar runs on stderr when it is a terminal; Ctrl-C stops the capture and leaves no file (exit 130).",
    "Across hosts (the pid applies on every host): one file per host, <host>-<pid>-trace-<date>-<time>.trace, in the",
    "  working directory or in -o DIR (created if missing), and each host's line as its trace arrives.",
  ],
  parse: (args, parsed) => parseCaptureArgs(args, flagValue(parsed, "output")),
  // A capture takes as long as it takes; bound it with --timeout if wanted.
  defaultTimeoutMs: () => undefined,
  ...summarizedCapture(kind, described),
});
export const run = spec.run;

/** The one-line summary and the JSON of a saved trace. */
function described(saved: SavedCapture): { line: string; json: unknown } {
  try {
    const durationMs = saved.metadata.expectedDurationMs;
    const { file: _file, ...fields } = describeTrace(saved.data, { file: saved.display, ...(durationMs > 0 ? { durationMs } : {}) });
    return { line: fields.line, json: { pid: saved.pid, kind: kind.kind, path: saved.path, ...fields } };
  } catch (err) {
    throw afterSaving(saved, err);
  }
}
