// Domain errors. Each carries the gRPC status it maps to: this file is the one place where a failure
// becomes a status code. Messages are one line and say what to do next.
import { Status } from "nice-grpc-common";
import { formatDurationMs } from "./duration.js";
import { escapeLine } from "./escape-text.js";

export { Status };

/**
 * A failure with its gRPC status. The message is one line with control characters escaped (docs/ARCHITECTURE.md rule 12): it
 * often quotes what a target controls (a port-file path, an exe path, an agent's reply), and it is shown to
 * an operator's terminal and written to logs.
 */
export class GopsError extends Error {
  override readonly name = "GopsError";
  constructor(
    readonly code: Status,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(escapeLine(message), options);
  }
}

export const isGopsError = (e: unknown): e is GopsError => e instanceof GopsError;

export const invalidArgument = (msg: string) => new GopsError(Status.INVALID_ARGUMENT, msg);
export const processNotFound = (pid: number) =>
  new GopsError(Status.NOT_FOUND, `no process with pid ${pid} on this host (list them with 'gopsctl ps')`);
export const notGo = (pid: number, why: string) =>
  new GopsError(Status.FAILED_PRECONDITION, `pid ${pid} is not a Go program (${why})`);
export const permissionDenied = (what: string) =>
  new GopsError(Status.PERMISSION_DENIED, `${what}: permission denied (run gopsd as root or as the process's user)`);
export const agentUnavailable = (addr: string, why: string) =>
  new GopsError(Status.UNAVAILABLE, `gops agent at ${addr} is unreachable: ${why}`);
export const agentDeadline = (addr: string, what: string, ms: number) =>
  new GopsError(
    Status.DEADLINE_EXCEEDED,
    `gops agent at ${addr} did not finish ${what} within ${formatDurationMs(ms)}; the connection was closed (the agent may be wedged or busy)`,
  );
export const busy = (pid: number, what: string) =>
  new GopsError(Status.RESOURCE_EXHAUSTED, `pid ${pid} is busy: ${what}; retry when it has finished`);
export const agentReplyTooLarge = (addr: string, what: string, maxBytes: number) =>
  new GopsError(
    Status.RESOURCE_EXHAUSTED,
    `gops agent at ${addr} sent more than ${maxBytes} bytes for ${what}; the connection was closed (raise the limit if this is expected)`,
  );
export const cancelled = (what: string) => new GopsError(Status.CANCELLED, `${what} was cancelled`);
export const agentProtocol = (addr: string, why: string) =>
  new GopsError(Status.INTERNAL, `gops agent at ${addr} sent an unexpected reply: ${why}`);


// The security layer's statuses. Reasons are fixed, one line, and never echo a token, key or signature.
/** Missing or invalid credentials ("token expired"). */
export const unauthenticated = (reason: string) => new GopsError(Status.UNAUTHENTICATED, reason);
/** A valid token that may not do this (missing scope, other host). */
export const forbidden = (reason: string) => new GopsError(Status.PERMISSION_DENIED, reason);
/** An abuse limit was hit (rate, concurrency, streams). */
export const limitExceeded = (reason: string) => new GopsError(Status.RESOURCE_EXHAUSTED, reason);

// The net/http/pprof backend (a Go program that serves /debug/pprof/ instead of embedding the gops agent).
const endpoint = (addr: string) => `net/http/pprof endpoint at ${addr}`;
export const endpointUnavailable = (addr: string, why: string) =>
  new GopsError(Status.UNAVAILABLE, `${endpoint(addr)} is unreachable: ${why}`);
export const endpointDeadline = (addr: string, what: string, ms: number) =>
  new GopsError(
    Status.DEADLINE_EXCEEDED,
    `${endpoint(addr)} did not finish ${what} within ${formatDurationMs(ms)}; the request was stopped`,
  );
export const endpointReplyTooLarge = (addr: string, what: string, maxBytes: number) =>
  new GopsError(
    Status.RESOURCE_EXHAUSTED,
    `${endpoint(addr)} sent more than ${maxBytes} bytes for ${what}; the request was stopped`,
  );
/** The endpoint answered with an HTTP error (`text`: its first line, already made printable). */
export const endpointRefused = (addr: string, what: string, status: number, text: string) =>
  new GopsError(Status.FAILED_PRECONDITION, `${endpoint(addr)} refused ${what}: HTTP ${status}${text ? ` ${text}` : ""}`);
export const endpointProtocol = (addr: string, why: string) =>
  new GopsError(Status.INTERNAL, `${endpoint(addr)} sent an unexpected reply: ${why}`);
/** What a backend cannot do at all, e.g. net/http/pprof has no endpoint that runs the GC. */
export const notSupportedBy = (pid: number, backend: string, why: string) =>
  new GopsError(Status.FAILED_PRECONDITION, `pid ${pid} ${backend}, which ${why}`);
/** Neither backend is usable: the gops agent's reason and the HTTP endpoint's reason. */
export const noBackend = (pid: number, agentWhy: string, httpWhy: string) =>
  new GopsError(
    Status.FAILED_PRECONDITION,
    `pid ${pid} has no usable gops agent: ${agentWhy}; and no net/http/pprof endpoint: ${httpWhy} (the program must call agent.Listen from github.com/google/gops/agent, or serve net/http/pprof on a port gopsd can reach on loopback or that gopsd's config declares)`,
  );

// Incident capture (server/capture/): the store gopsd keeps captures in.
export const captureNotFound = (id: string) =>
  new GopsError(Status.NOT_FOUND, `no capture "${id}" on this host (list them with 'gopsctl captures')`);
/** This gopsd keeps no captures (no capture.dir), or gopsctl runs without one (no --host). */
export const noCaptureStore = (why: string) => new GopsError(Status.FAILED_PRECONDITION, `no capture store: ${why}`);
