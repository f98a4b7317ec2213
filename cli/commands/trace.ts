// `gopsctl trace <pid> [-o FILE]`: a 5 s runtime execution trace, saved to a file for `go tool trace`.
import { runCapture, captureSpec, type CaptureKindSpec, type CaptureOptions } from "../capture.js";
import type { CommandContext } from "../command.js";

const kind: CaptureKindSpec = {
  kind: "trace",
  what: "execution trace",
  defaultExtension: ".trace",
  goTool: "trace",
  start: (diagnostics, pid, signal) => diagnostics.streamTrace({ pid }, { signal }),
};

export const spec = captureSpec("trace", "capture a 5s execution trace into a file (go tool trace)", run);

export function run(opts: CaptureOptions, ctx: CommandContext): Promise<void> {
  return runCapture(kind, opts, ctx);
}
