// How gopsd reaches one process: the gops agent (port file + wire protocol) or a net/http/pprof endpoint.
// host-diagnostics.ts chooses one per call; both answer in the same messages, so callers never need to know
// which one served them (audit lines name it).
import type {
  AgentKind,
  ForceGCResponse,
  MemStatsResponse,
  ProfileKind,
  SetGCPercentResponse,
  StatsResponse,
  StreamProfileResponse,
  VersionResponse,
} from "../proto/index.js";

export type BackendName = "gops-agent" | "http-pprof";

/**
 * A MemStats answer plus, where the backend serves it (expvar, heap?debug=1), runtime.MemStats.PauseNs: 256 pause
 * durations in ns, the latest at (NumGC+255)%256. The ring is not part of the MemStats RPC (the metrics exporter
 * reads it; host-diagnostics.ts leaves it out of the RPC's answer).
 */
export type BackendMemStats = MemStatsResponse & { pauseNs?: readonly number[] };

export interface BackendCallOptions {
  signal?: AbortSignal;
}

/** One process's diagnostics through one backend (the pid is bound when the backend is chosen). */
export interface DiagnosticBackend {
  readonly name: BackendName;
  readonly kind: AgentKind;
  stack(o: BackendCallOptions): AsyncIterable<Buffer>;
  memStats(o: BackendCallOptions): Promise<BackendMemStats>;
  stats(o: BackendCallOptions): Promise<StatsResponse>;
  version(o: BackendCallOptions): Promise<VersionResponse>;
  forceGC(o: BackendCallOptions): Promise<ForceGCResponse>;
  setGCPercent(percent: number, o: BackendCallOptions): Promise<SetGCPercentResponse>;
  /** `durationSeconds`: undefined = the backend's default; already range-checked. */
  profile(kind: ProfileKind, durationSeconds: number | undefined, o: BackendCallOptions): AsyncIterable<StreamProfileResponse>;
  trace(durationSeconds: number | undefined, o: BackendCallOptions): AsyncIterable<StreamProfileResponse>;
  binary(o: BackendCallOptions): AsyncIterable<StreamProfileResponse>;
}
