// `gopsctl pprof-cpu <pid> [-o FILE] [--top [N]] [--flame FILE.html]`: a 30 s CPU profile, saved to a file for
// `go tool pprof`, and reported on without Go when asked.
import { ProfileKind } from "../../proto/index.js";
import type { CaptureKindSpec } from "../capture.js";
import type { CommandContext } from "../command.js";
import { profileCaptureSpec, runProfileCapture, type ProfileCaptureOptions } from "../profile-capture.js";

const kind: CaptureKindSpec = {
  kind: "cpu",
  what: "CPU profile",
  defaultExtension: ".pprof.gz",
  goTool: "pprof",
  start: (diagnostics, pid, signal) => diagnostics.streamProfile({ pid, kind: ProfileKind.PROFILE_KIND_CPU }, { signal }),
};

export const spec = profileCaptureSpec("pprof-cpu", "capture a 30s CPU profile into a file; --top [N], --flame FILE.html show it", "cpu", run);

export function run(opts: ProfileCaptureOptions, ctx: CommandContext): Promise<void> {
  return runProfileCapture(kind, opts, ctx);
}
