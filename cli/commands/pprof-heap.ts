// `gopsctl pprof-heap <pid> [-o FILE] [--top [N]] [--sample-index NAME] [--flame FILE.html]`: a heap profile,
// saved to a file for `go tool pprof`, and reported on without Go when asked.
import { ProfileKind } from "../../proto/index.js";
import type { CaptureKindSpec } from "../capture.js";
import type { CommandContext } from "../command.js";
import { profileCaptureSpec, runProfileCapture, type ProfileCaptureOptions } from "../profile-capture.js";

const kind: CaptureKindSpec = {
  kind: "heap",
  what: "heap profile",
  defaultExtension: ".pprof.gz",
  goTool: "pprof",
  start: (diagnostics, pid, signal) => diagnostics.streamProfile({ pid, kind: ProfileKind.PROFILE_KIND_HEAP }, { signal }),
};

export const spec = profileCaptureSpec("pprof-heap", "capture a heap profile into a file; --top [N], --flame FILE.html show it", "heap", run);

export function run(opts: ProfileCaptureOptions, ctx: CommandContext): Promise<void> {
  return runProfileCapture(kind, opts, ctx);
}
