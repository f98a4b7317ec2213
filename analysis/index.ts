// Profiles, traces and goroutine dumps turned into something people can read without a Go toolchain.
// Pure functions over bytes and text: the CLI does the I/O.
export { decodeProfile, encodeProfile, sampleTypes, resolveSampleIndex, Profile, PROFILE_MAX_BYTES, type SampleType } from "./profile.js";
export { topFunctions, formatTop, type TopOptions, type TopResult, type TopRow } from "./top-functions.js";
export { mergeProfiles } from "./merge-profiles.js";
export { diffProfiles, profileKind } from "./profile-diff.js";
export { renderFlameGraph, flameTree, type FlameGraphOptions, type FlameTree } from "./flame-graph.js";
export {
  summarizeStacks,
  mergeStackSummaries,
  formatStackSummary,
  type StackGroup,
  type FleetStackGroup,
  type StackFrame,
  type StateCount,
  type HostCount,
  type FormatStackSummaryOptions,
} from "./stack-summary.js";
export { describeTrace, type TraceDescription, type DescribeTraceOptions } from "./trace-summary.js";
export { findOutliers, isOutlier, median, OUTLIER_METRICS, MIN_GROUP, Z_THRESHOLD, RELATIVE, FLOORS, type OutlierInput, type OutlierMetric } from "../common/outliers.js";
