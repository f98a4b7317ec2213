// Small pprof profiles for the CLI's unit tests, built with analysis/fake-profile.ts (the end-to-end tests
// use real ones from the Go fixtures).
import { fakeProfile } from "../analysis/fake-profile.testkit.js";

/** One 10 ms CPU sample, in nanoseconds. */
const ms = 1e7;
/** 100 CPU samples of 10 ms over 2 s, 80 of them in main.hotLoop. */
export const cpuProfile = fakeProfile({
  sampleTypes: [["samples", "count"], ["cpu", "nanoseconds"]],
  samples: [
    { stack: ["main.hotLoop", "main.main"], values: [80, 80 * ms] },
    { stack: ["runtime.mallocgc", "main.work", "main.main"], values: [15, 15 * ms] },
    { stack: ["main.work", "main.main"], values: [5, 5 * ms] },
  ],
  durationNanos: 2e9,
});
/** main.allocSite allocates most (alloc_space); main.keep holds most (inuse_space). */
export const heapProfile = fakeProfile({
  sampleTypes: [["alloc_objects", "count"], ["alloc_space", "bytes"], ["inuse_objects", "count"], ["inuse_space", "bytes"]],
  samples: [
    { stack: ["main.allocSite", "main.main"], values: [1000, 64 << 20, 10, 1 << 20] },
    { stack: ["main.keep", "main.main"], values: [10, 1 << 20, 10, 4 << 20] },
  ],
});

