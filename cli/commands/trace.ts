// `gopsctl trace <pid> [-o FILE]`: a 5 s runtime execution trace, saved to a file for `go tool trace`, with a
// one-line summary (size, trace format, length, the command that opens it).
import { describeTrace } from "../../analysis/index.js";
import { afterSaving, parseCaptureArgs, saveCapture, type CaptureKindSpec, type CaptureOptions } from "../capture.js";
import type { CommandContext, CommandSpec } from "../command.js";
import { printJson, write } from "../output/index.js";

const kind: CaptureKindSpec = {
  kind: "trace",
  what: "execution trace",
  defaultExtension: ".trace",
  goTool: "trace",
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
  ],
  parse: (args, options) => parseCaptureArgs(args, options.output),
  // A capture takes as long as it takes; bound it with --timeout if wanted.
  defaultTimeoutMs: () => undefined,
  run,
};

export async function run(opts: CaptureOptions, ctx: CommandContext): Promise<void> {
  const saved = await saveCapture(kind, opts, ctx);
  let described;
  try {
    const durationMs = saved.metadata.expectedDurationMs;
    described = describeTrace(saved.data, { file: saved.display, ...(durationMs > 0 ? { durationMs } : {}) });
  } catch (err) {
    throw afterSaving(saved, err);
  }
  if (ctx.json) {
    const { file: _file, ...fields } = described;
    await printJson(ctx, { pid: saved.pid, kind: kind.kind, path: saved.path, ...fields });
    return;
  }
  await write(ctx.stdout, `${described.line}\n`, ctx.signal);
}
