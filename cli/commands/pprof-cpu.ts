// `gopsctl pprof-cpu <pid> [-o FILE]`: a 30 s CPU profile, saved to a file for `go tool pprof`.
import { ProfileKind } from "../../proto/index.js";
import { runCapture, captureSpec, type CaptureKindSpec, type CaptureOptions } from "../capture.js";
import type { CommandContext } from "../command.js";

const kind: CaptureKindSpec = {
  kind: "cpu",
  what: "CPU profile",
  defaultExtension: ".pprof.gz",
  goTool: "pprof",
  start: (diagnostics, pid, signal) => diagnostics.streamProfile({ pid, kind: ProfileKind.PROFILE_KIND_CPU }, { signal }),
};

export const spec = captureSpec("pprof-cpu", "capture a 30s CPU profile into a file (go tool pprof)", run);

export function run(opts: CaptureOptions, ctx: CommandContext): Promise<void> {
  return runCapture(kind, opts, ctx);
}
