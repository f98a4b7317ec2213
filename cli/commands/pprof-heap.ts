// `gopsctl pprof-heap <pid> [-o FILE] [--kind KIND] [--top [N]] [--sample-index NAME] [--flame FILE.html]`: a heap
// profile (or, --kind, another sampled profile of net/http/pprof: allocs, block, mutex, goroutine, threadcreate),
// saved to a file for `go tool pprof`, and reported on without Go when asked.
import { profileCaptureSpec } from "../profile-capture.js";

export const spec = profileCaptureSpec("pprof-heap", "capture a heap profile (or --kind allocs|block|mutex|goroutine|threadcreate) into a file; --top, --flame show it", "heap");
export const run = spec.run;
