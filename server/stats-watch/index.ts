// WatchStats: the per-host sampler (hub.ts) and the pure sample arithmetic (sample.ts).
export { StatsHub, MIN_INTERVAL_MS, MAX_INTERVAL_MS, DEFAULT_INTERVAL_MS, type HubState, type ReadFailure, type RoundEntries, type StatsHubDeps, type WatchOptions } from "./hub.js";
export {
  AGENT_FIELDS,
  NO_BACKEND,
  parseGogc,
  processKey,
  toProcessStats,
  type AgentField,
  type AgentReading,
  type AgentValues,
  type Baseline,
  type ProcessEntry,
  type ProcReading,
  type RuntimeReading,
} from "./sample.js";
