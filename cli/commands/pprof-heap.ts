// `gopsctl pprof-heap <pid> [-o FILE]`: a heap profile, saved to a file for `go tool pprof`.
import { ProfileKind } from "../../proto/index.js";
import { runCapture, captureSpec, type CaptureKindSpec, type CaptureOptions } from "../capture.js";
import type { CommandContext } from "../command.js";

const kind: CaptureKindSpec = {
  kind: "heap",
  what: "heap profile",
  defaultExtension: ".pprof.gz",
  goTool: "pprof",
  start: (diagnostics, pid, signal) => diagnostics.streamProfile({ pid, kind: ProfileKind.PROFILE_KIND_HEAP }, { signal }),
};

export const spec = captureSpec("pprof-heap", "capture a heap profile into a file (go tool pprof)", run);

export function run(opts: CaptureOptions, ctx: CommandContext): Promise<void> {
  return runCapture(kind, opts, ctx);
}
