// `gopsctl pprof-cpu <pid> [-o FILE] [--duration DUR] [--top [N]] [--flame FILE.html]`: a CPU profile (30 s, or
// --duration where the backend allows one), saved to a file for
// `go tool pprof`, and reported on without Go when asked.
import { profileCaptureSpec } from "../profile-capture.js";

export const spec = profileCaptureSpec("pprof-cpu", "capture a CPU profile (30s, or --duration) into a file; --top [N], --flame FILE.html show it", "cpu");
export const run = spec.run;
