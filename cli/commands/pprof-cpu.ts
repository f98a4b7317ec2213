// `gopsctl pprof-cpu <pid> [-o FILE] [--top [N]] [--flame FILE.html]`: a 30 s CPU profile, saved to a file for
// `go tool pprof`, and reported on without Go when asked.
import { profileCaptureSpec } from "../profile-capture.js";

export const spec = profileCaptureSpec("pprof-cpu", "capture a 30s CPU profile into a file; --top [N], --flame FILE.html show it", "cpu");
export const run = spec.run;
