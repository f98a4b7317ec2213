// `gopsctl trace <pid> [-o FILE] [--duration DUR]`: a runtime execution trace (5 s, or --duration where the backend
// allows one), saved to a file for `go tool trace`, with a
// one-line summary (size, trace format, length, the command that opens it).
import { describeTrace } from "../../analysis/index.js";
import { afterSaving, durationFlag, OUTPUT_FLAG, parseCaptureArgs, parseCaptureDuration, summarizedCapture, type CaptureKindSpec, type SavedCapture } from "../capture.js";
import { defineCommand } from "../command.js";
import { flagValue } from "../parse-argv.js";

const kind: CaptureKindSpec = {
  kind: "trace",
  what: "execution trace",
  defaultExtension: ".trace",
  start: (diagnostics, pid, signal, durationSeconds) => diagnostics.streamTrace({ pid, ...(durationSeconds !== undefined ? { durationSeconds } : {}) }, { signal }),
};

export const spec = defineCommand({
  name: "trace",
  args: "<pid> [-o FILE] [--duration DUR]",
  summary: "capture an execution trace (5s, or --duration) into a file (go tool trace)",
  flags: [OUTPUT_FLAG, durationFlag("5s")],
  details: [
    "Saves the trace as the agent wrote it to -o FILE or <pid>-trace-<date>-<time>.trace and prints one line:",
    "  size, trace format, length and the command that opens it (go tool trace, on any machine with Go).",
    "--json: {pid, kind, path, bytes, goVersion, durationMs, openCommand, line}.",
    "--duration DUR: trace for DUR (whole seconds, 1s to 10m: 2s, 1m30s, or a number of seconds). A",
    "  net/http/pprof endpoint (ps: ~) honours it; a gops agent (ps: *) always traces 5s and refuses other",
    "  durations (FAILED_PRECONDITION, one line, exit 4).",
    "A progress bar runs on stderr when it is a terminal; Ctrl-C leaves no file (exit 130). A gops agent cannot be",
    "  stopped: it traces to the end of its 5s, and calls to that process until then are refused (busy, exit 7)",
    "  with the time left.",
    "Across hosts (the pid applies on every host): one file per host, <host>-<pid>-trace-<date>-<time>.trace, in the",
    "  working directory or in -o DIR (created if missing), and each host's line as its trace arrives.",
  ],
  parse: (args, parsed) => {
    const durationSeconds = parseCaptureDuration(flagValue(parsed, "duration"));
    return { ...parseCaptureArgs(args, flagValue(parsed, "output")), ...(durationSeconds !== undefined ? { durationSeconds } : {}) };
  },
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
