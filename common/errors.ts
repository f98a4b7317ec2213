// Domain errors, and the one table that maps each to its gRPC status code and its stable reason (the
// google.rpc.ErrorInfo reason gopsd sends in grpc-status-details-bin, domain "gopsd"): this file is the one place
// where a failure becomes a status. Messages are one line and say what to do next. docs/ERRORS.md is generated
// from ERROR_TABLE (scripts/errors-doc.ts; a test fails when it is stale).
import { Status } from "nice-grpc-common";
import { formatDurationMs } from "./duration.js";
import { escapeLine } from "./escape-text.js";

export { Status };

/** The ErrorInfo domain of every error gopsd sends. */
export const ERROR_DOMAIN = "gopsd";

/** One row of the error table: one kind of domain error. */
export interface ErrorKind {
  /** The gRPC status code. */
  readonly code: Status;
  /** ErrorInfo.reason: UPPER_SNAKE_CASE, stable across releases (programs switch on it). */
  readonly reason: string;
  /** When set, the status carries a RetryInfo with this delay (a call may override it with what it knows). */
  readonly retryDelayMs?: number;
  /** ErrorInfo.metadata keys errors of this kind carry. */
  readonly metadata?: readonly string[];
  /** What happened and what to do, for docs/ERRORS.md. */
  readonly doc: string;
}

const row = (code: Status, reason: string, doc: string, extra: Pick<ErrorKind, "retryDelayMs" | "metadata"> = {}): ErrorKind => ({ code, reason, doc, ...extra });

/**
 * The error table: one row per domain error. To add an error, add a row here (and its constructor below), then
 * run `npm run docs:errors`. A reason, once released, is never renamed or reused for something else.
 */
export const ERROR_TABLE = {
  // The request.
  invalidArgument: row(Status.INVALID_ARGUMENT, "INVALID_ARGUMENT", "The request is malformed or out of range (a pid, a duration, a profile kind, an interval): fix the call."),
  // The process.
  processNotFound: row(Status.NOT_FOUND, "PROCESS_NOT_FOUND", "No process with that pid on the host (it may have exited).", { metadata: ["pid"] }),
  notGo: row(Status.FAILED_PRECONDITION, "NOT_GO", "The process is not a Go program (no Go build info, or no executable: a kernel thread or a zombie).", { metadata: ["pid"] }),
  osPermission: row(
    Status.FAILED_PRECONDITION,
    "OS_PERMISSION",
    "gopsd itself lacks the operating-system rights (uid, capabilities) to read the process or reach its agent: not the caller's permission (see above).",
    { metadata: ["pid"] },
  ),
  // The backend (a gops agent or a net/http/pprof endpoint).
  noAgent: row(Status.FAILED_PRECONDITION, "NO_AGENT", "The Go process has neither a usable gops agent nor a net/http/pprof endpoint gopsd can reach.", { metadata: ["pid"] }),
  notSupported: row(Status.FAILED_PRECONDITION, "NOT_SUPPORTED", "The process's backend cannot do this at all (e.g. a gops agent serves no mutex profile; net/http/pprof cannot run the GC).", { metadata: ["pid"] }),
  fixedDuration: row(Status.FAILED_PRECONDITION, "FIXED_DURATION", "A gops agent profiles the CPU and traces for a fixed time: ask for that duration (metadata `seconds`) or leave the duration out.", { metadata: ["pid", "seconds"] }),
  captureBusy: row(Status.RESOURCE_EXHAUSTED, "CAPTURE_BUSY", "Another capture (CPU profile, trace) is running or queued for this process: retry when it has finished (RetryInfo: about when).", { metadata: ["pid"], retryDelayMs: 1000 }),
  agentBusy: row(Status.RESOURCE_EXHAUSTED, "AGENT_BUSY", "The call waited its limit for its turn at the process's agent (calls to one agent run one at a time): retry later.", { metadata: ["pid"], retryDelayMs: 1000 }),
  agentUnavailable: row(Status.UNAVAILABLE, "AGENT_UNAVAILABLE", "The process's gops agent could not be reached (refused, reset, gone): retry, or list the processes again.", { retryDelayMs: 1000 }),
  agentTimeout: row(Status.DEADLINE_EXCEEDED, "AGENT_TIMEOUT", "The gops agent did not finish within gopsd's limit; gopsd closed the connection (the agent may be wedged)."),
  agentReplyTooLarge: row(Status.RESOURCE_EXHAUSTED, "AGENT_REPLY_TOO_LARGE", "The gops agent sent more bytes than gopsd accepts for this call (metadata `limit`, bytes).", { metadata: ["limit"] }),
  agentProtocol: row(Status.INTERNAL, "AGENT_PROTOCOL", "The gops agent's reply does not follow the gops wire protocol."),
  endpointUnavailable: row(Status.UNAVAILABLE, "ENDPOINT_UNAVAILABLE", "The process's net/http/pprof endpoint could not be reached: retry.", { retryDelayMs: 1000 }),
  endpointTimeout: row(Status.DEADLINE_EXCEEDED, "ENDPOINT_TIMEOUT", "The net/http/pprof endpoint did not finish within gopsd's limit."),
  endpointReplyTooLarge: row(Status.RESOURCE_EXHAUSTED, "ENDPOINT_REPLY_TOO_LARGE", "The net/http/pprof endpoint sent more bytes than gopsd accepts for this call (metadata `limit`, bytes).", { metadata: ["limit"] }),
  endpointRefused: row(Status.FAILED_PRECONDITION, "ENDPOINT_REFUSED", "The net/http/pprof endpoint answered with an HTTP error (metadata `http_status`).", { metadata: ["http_status"] }),
  endpointProtocol: row(Status.INTERNAL, "ENDPOINT_PROTOCOL", "The net/http/pprof endpoint's reply is not what net/http/pprof sends."),
  // The call itself.
  cancelled: row(Status.CANCELLED, "CANCELLED", "The call was cancelled (by the client, or gopsd is shutting down)."),
  internal: row(Status.INTERNAL, "INTERNAL", "A bug in gopsd (logged with its stack by gopsd)."),
  // Security: the caller's credentials and rights, and abuse limits.
  tokenMissing: row(Status.UNAUTHENTICATED, "TOKEN_MISSING", "The call carries no bearer token (metadata 'authorization: Bearer <jwt>')."),
  tokenInvalid: row(Status.UNAUTHENTICATED, "TOKEN_INVALID", "The bearer token cannot be accepted (malformed, bad signature, expired, unknown key); the message says which."),
  scopeMissing: row(Status.PERMISSION_DENIED, "SCOPE_MISSING", "The token is valid but lacks the scope this method needs (metadata `scope`).", { metadata: ["scope"] }),
  hostNotAllowed: row(Status.PERMISSION_DENIED, "HOST_NOT_ALLOWED", "The token's hosts claim does not name this gopsd's host (metadata `host`).", { metadata: ["host"] }),
  methodDenied: row(Status.PERMISSION_DENIED, "METHOD_DENIED", "gopsd has no access rule for the method, so it refuses it (default deny)."),
  limitReached: row(Status.RESOURCE_EXHAUSTED, "LIMIT_REACHED", "An abuse limit was hit (metadata `limit`: rate, concurrent_calls, concurrent_streams, watch_streams, watch_streams_per_subject or unauthenticated_calls): retry after RetryInfo's delay.", {
    metadata: ["limit"],
    retryDelayMs: 1000,
  }),
  // Incident capture (server/capture/): the store gopsd keeps captures in.
  captureNotFound: row(Status.NOT_FOUND, "CAPTURE_NOT_FOUND", "No capture with that id in this gopsd's store (ids belong to one host; list them with `gopsctl captures`)."),
  noCaptureStore: row(Status.FAILED_PRECONDITION, "NO_CAPTURE_STORE", "This gopsd keeps no captures (no `capture.dir`), or gopsctl ran without `--host`."),
} as const satisfies Record<string, ErrorKind>;

export type ErrorKindName = keyof typeof ERROR_TABLE;

/** What a domain error adds to its message: ErrorInfo metadata, a retry delay other than its row's. */
export interface ErrorFacts {
  cause?: unknown;
  metadata?: Readonly<Record<string, string | number>>;
  retryDelayMs?: number;
}

/**
 * A failure with its gRPC status and, for a domain error, its reason. The message is one line with control characters
 * escaped (docs/ARCHITECTURE.md rule 12): it often quotes what a target controls (a port-file path, an exe path, an
 * agent's reply), and it is shown to an operator's terminal and written to logs.
 *
 * `kind` is a row of ERROR_TABLE (a domain error: its code and reason come from the table), or a bare Status for an
 * error the client library makes itself (an SSH tunnel, a closed fleet), which never crosses the wire; its reason
 * is then the status name.
 */
export class GopsError extends Error {
  override readonly name = "GopsError";
  readonly code: Status;
  readonly reason: string;
  readonly metadata: Readonly<Record<string, string>>;
  /** RetryInfo's delay; undefined when a retry is not expected to help. */
  readonly retryDelayMs: number | undefined;
  constructor(kind: ErrorKind | Status, message: string, facts: ErrorFacts = {}) {
    super(escapeLine(message), facts.cause !== undefined ? { cause: facts.cause } : undefined);
    const row = typeof kind === "number" ? undefined : kind;
    this.code = row ? row.code : (kind as Status);
    this.reason = row ? row.reason : (Status[kind as Status] ?? "UNKNOWN");
    this.metadata = Object.fromEntries(Object.entries(facts.metadata ?? {}).map(([k, v]) => [k, String(v)]));
    this.retryDelayMs = facts.retryDelayMs ?? row?.retryDelayMs;
  }
}

export const isGopsError = (e: unknown): e is GopsError => e instanceof GopsError;

const T = ERROR_TABLE;

export const invalidArgument = (msg: string) => new GopsError(T.invalidArgument, msg);
export const processNotFound = (pid: number) =>
  new GopsError(T.processNotFound, `no process with pid ${pid} on this host (list them with 'gopsctl ps')`, { metadata: { pid } });
export const notGo = (pid: number, why: string) => new GopsError(T.notGo, `pid ${pid} is not a Go program (${why})`, { metadata: { pid } });
/** gopsd's own lack of OS rights (not the caller's): see ERROR_TABLE.osPermission. */
export const permissionDenied = (what: string, pid?: number) =>
  new GopsError(T.osPermission, `${what}: permission denied (run gopsd as root or as the process's user)`, pid !== undefined ? { metadata: { pid } } : {});
/** gopsd's own lack of OS rights, with the message saying exactly which rights. */
export const osPermission = (message: string, pid?: number) => new GopsError(T.osPermission, message, pid !== undefined ? { metadata: { pid } } : {});
export const agentUnavailable = (addr: string, why: string) => new GopsError(T.agentUnavailable, `gops agent at ${addr} is unreachable: ${why}`);
export const agentDeadline = (addr: string, what: string, ms: number) =>
  new GopsError(
    T.agentTimeout,
    `gops agent at ${addr} did not finish ${what} within ${formatDurationMs(ms)}; the connection was closed (the agent may be wedged or busy)`,
  );
/** Another capture holds the process; `retryDelayMs`: when it is expected to end, if known. */
export const busy = (pid: number, what: string, retryDelayMs?: number) =>
  new GopsError(T.captureBusy, `pid ${pid} is busy: ${what}; retry when it has finished`, { metadata: { pid }, ...(retryDelayMs !== undefined ? { retryDelayMs } : {}) });
/** The call waited its limit for its turn at the process's agent. */
export const agentBusy = (pid: number, what: string) => new GopsError(T.agentBusy, `pid ${pid} is busy: ${what}; retry when it has finished`, { metadata: { pid } });
export const agentReplyTooLarge = (addr: string, what: string, maxBytes: number) =>
  new GopsError(
    T.agentReplyTooLarge,
    `gops agent at ${addr} sent more than ${maxBytes} bytes for ${what}; the connection was closed (raise the limit if this is expected)`,
    { metadata: { limit: maxBytes } },
  );
export const cancelled = (what: string) => new GopsError(T.cancelled, `${what} was cancelled`);
export const agentProtocol = (addr: string, why: string) => new GopsError(T.agentProtocol, `gops agent at ${addr} sent an unexpected reply: ${why}`);

// The security layer's statuses. Reasons are fixed, one line, and never echo a token, key or signature.
/** No credentials at all. */
export const noToken = (reason: string) => new GopsError(T.tokenMissing, reason);
/** Invalid credentials ("token expired"). */
export const unauthenticated = (reason: string) => new GopsError(T.tokenInvalid, reason);
/** A valid token without the scope a method needs. */
export const scopeMissing = (scope: string) => new GopsError(T.scopeMissing, `token lacks scope ${scope}`, { metadata: { scope } });
/** A valid token whose hosts claim does not name this host. */
export const hostNotAllowed = (host: string) => new GopsError(T.hostNotAllowed, `token is not valid for host ${host}`, { metadata: { host } });
/** A method no access rule covers (default deny). */
export const forbidden = (reason: string) => new GopsError(T.methodDenied, reason);
/** An abuse limit was hit (`limit`: which one); `retryDelayMs`: when a call may pass again, if known. */
export const limitExceeded = (reason: string, limit: "rate" | "concurrent_calls" | "concurrent_streams" | "watch_streams" | "watch_streams_per_subject" | "unauthenticated_calls", retryDelayMs?: number) =>
  new GopsError(T.limitReached, reason, { metadata: { limit }, ...(retryDelayMs !== undefined ? { retryDelayMs } : {}) });

// The net/http/pprof backend (a Go program that serves /debug/pprof/ instead of embedding the gops agent).
const endpoint = (addr: string) => `net/http/pprof endpoint at ${addr}`;
export const endpointUnavailable = (addr: string, why: string) => new GopsError(T.endpointUnavailable, `${endpoint(addr)} is unreachable: ${why}`);
export const endpointDeadline = (addr: string, what: string, ms: number) =>
  new GopsError(T.endpointTimeout, `${endpoint(addr)} did not finish ${what} within ${formatDurationMs(ms)}; the request was stopped`);
export const endpointReplyTooLarge = (addr: string, what: string, maxBytes: number) =>
  new GopsError(T.endpointReplyTooLarge, `${endpoint(addr)} sent more than ${maxBytes} bytes for ${what}; the request was stopped`, {
    metadata: { limit: maxBytes },
  });
/** The endpoint answered with an HTTP error (`text`: its first line, already made printable). */
export const endpointRefused = (addr: string, what: string, status: number, text: string) =>
  new GopsError(T.endpointRefused, `${endpoint(addr)} refused ${what}: HTTP ${status}${text ? ` ${text}` : ""}`, { metadata: { http_status: status } });
export const endpointProtocol = (addr: string, why: string) => new GopsError(T.endpointProtocol, `${endpoint(addr)} sent an unexpected reply: ${why}`);
/** What a backend cannot do at all, e.g. net/http/pprof has no endpoint that runs the GC. */
export const notSupportedBy = (pid: number, backend: string, why: string) =>
  new GopsError(T.notSupported, `pid ${pid} ${backend}, which ${why}`, { metadata: { pid } });
/** A gops agent captures for a fixed time (`what`: "profiles the CPU", "traces"); another duration was asked for. */
export const fixedDuration = (pid: number, backend: string, what: string, seconds: number) =>
  new GopsError(T.fixedDuration, `pid ${pid} ${backend}, which ${what} for a fixed ${seconds}s: ask for ${seconds}s or leave the duration out`, {
    metadata: { pid, seconds },
  });
/** Neither backend is usable: the gops agent's reason and the HTTP endpoint's reason. */
export const noBackend = (pid: number, agentWhy: string, httpWhy: string) =>
  new GopsError(
    T.noAgent,
    `pid ${pid} has no usable gops agent: ${agentWhy}; and no net/http/pprof endpoint: ${httpWhy} (the program must call agent.Listen from github.com/google/gops/agent, or serve net/http/pprof on a port gopsd can reach on loopback or that gopsd's config declares)`,
    { metadata: { pid } },
  );
/** An unexpected failure (a bug): INTERNAL with the original message. */
export const internalError = (message: string, cause?: unknown) => new GopsError(T.internal, `internal error: ${message}`, { cause });

// Incident capture (server/capture/): the store gopsd keeps captures in.
export const captureNotFound = (id: string) =>
  new GopsError(T.captureNotFound, `no capture "${id}" on this host (list them with 'gopsctl captures')`);
/** This gopsd keeps no captures (no capture.dir), or gopsctl runs without one (no --host). */
export const noCaptureStore = (why: string) => new GopsError(T.noCaptureStore, `no capture store: ${why}`);
