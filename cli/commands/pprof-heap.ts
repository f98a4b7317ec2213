// `gopsctl pprof-heap <pid> [-o FILE] [--top [N]] [--sample-index NAME] [--flame FILE.html]`: a heap profile,
// saved to a file for `go tool pprof`, and reported on without Go when asked.
import { profileCaptureSpec } from "../profile-capture.js";

export const spec = profileCaptureSpec("pprof-heap", "capture a heap profile into a file; --top [N], --flame FILE.html show it", "heap");
export const run = spec.run;
