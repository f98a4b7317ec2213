// gopsctl's public API (the package entry "gopsctl"): what an ops tool needs to reach gopsd on one host or a fleet.
// The in-process backend that needs no gopsd is its own entry, "gopsctl/local" (client/local.ts), so this one loads
// none of gopsd's code. Everything else in client/ is internal; in-repo code may import it by path.

// One gopsd.
/** Opens a gRPC channel to one gopsd ("host:port", "[v6]:port" or "unix:/path"). */
export { connect, type ConnectOptions } from "./connect.js";
/** TLS settings and PEM material (contents or a file path). */
export type { PemSource, TlsOptions } from "./tls-credentials.js";
/** A bearer token, or a function asked before every call. */
export type { TokenSource } from "./bearer-middleware.js";
/** Reads a token from an owner-only file. */
export { readTokenFile } from "./token-file.js";
/** The calls one host answers; a handle adds `target` and `close()`. */
export type { Diagnostics, DiagnosticsHandle } from "../common/diagnostics.js";

// A fleet.
/** Opens the fleet file's selected hosts as one Fleet. */
export { openFleet, type Fleet, type FleetCallOptions, type HostSample, type OpenFleetOptions } from "./fleet/fleet.js";
/** Per-host answers and the one-line summary of a fleet call. */
export { summarize, type HostError, type HostResult } from "./fleet/fan-out.js";
/** The fleet file. */
export { InventoryError, loadInventory, type FleetHost, type Inventory } from "./fleet/inventory.js";
/** Which hosts run a Go module (at a version bound), from ListProcesses answers with build info. */
export { ModuleQueryError, findModule, parseModuleQuery, type ModuleMatch } from "./fleet/modules.js";

// Errors: GopsError (local backend, domain), ClientError (from gopsd), both carrying a gRPC Status.
/** A domain error with its gRPC status. */
export { GopsError, Status } from "../common/errors.js";
/** A failed call to gopsd: `code` (Status) and `details`. */
export { ClientError } from "nice-grpc";
/** A failed call to gopsd with its ErrorInfo (`reason`, `metadata`, RetryInfo's `retryDelayMs`); reasonOf: the stable reason of any failure. */
export { GopsdCallError, reasonOf } from "./status-details.js";
/** Unusable TLS material or token. */
export { CredentialsError } from "./credentials-error.js";

// The messages an ops tool reads.
/** Answers of the Diagnostics calls; field docs in proto/gops/v1/diagnostics.proto. */
export {
  AgentState,
  ProfileKind,
  type BuildInfo,
  type CaptureMetadata,
  type GetProcessResponse,
  type ListProcessesResponse,
  type MemStatsResponse,
  type Process,
  type StackResponse,
  type StatsResponse,
  type VersionResponse,
  type ProcessStats,
} from "../proto/index.js";
