// Reads the google.rpc.Status details gopsd sends with a failed call (grpc-status-details-bin: ErrorInfo, RetryInfo)
// into the error the client library throws, so a program switches on a stable reason instead of English text.
// nice-grpc-common, not nice-grpc: the CLI imports reasonOf for every exit code, and nice-grpc would load the gRPC transport.
import { ClientError, type CallOptions, type ClientMiddleware, type ClientMiddlewareCall, type Metadata } from "nice-grpc-common";
import { isGopsError } from "../common/errors.js";
import { STATUS_DETAILS_KEY, decodeStatusDetails, type ErrorDetails } from "../common/status-details.js";

/** A failed call to gopsd with its ErrorInfo: `reason` (docs/ERRORS.md), `domain`, `metadata`, RetryInfo's delay. */
export class GopsdCallError extends ClientError implements ErrorDetails {
  readonly reason: string;
  readonly domain: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly retryDelayMs?: number;
  constructor(e: ClientError, d: ErrorDetails) {
    super(e.path, e.code, e.details);
    this.reason = d.reason;
    this.domain = d.domain;
    this.metadata = d.metadata;
    if (d.retryDelayMs !== undefined) this.retryDelayMs = d.retryDelayMs;
  }
}

/** The stable reason of a failure: a domain error's (in-process), or the ErrorInfo gopsd sent; else undefined. */
export function reasonOf(e: unknown): string | undefined {
  if (isGopsError(e) || e instanceof GopsdCallError) return e.reason;
  return undefined;
}

/** Turns a ClientError whose trailer holds status details into a GopsdCallError. */
export function statusDetailsMiddleware(): ClientMiddleware {
  return async function* statusDetails<Req, Res>(call: ClientMiddlewareCall<Req, Res>, options: CallOptions) {
    let trailer: Metadata | undefined;
    try {
      return yield* call.next(call.request, {
        ...options,
        onTrailer(t) {
          trailer = t;
          options.onTrailer?.(t);
        },
      });
    } catch (e) {
      const bytes = e instanceof ClientError ? trailer?.get(STATUS_DETAILS_KEY) : undefined;
      const details = bytes instanceof Uint8Array ? decodeStatusDetails(bytes) : undefined;
      throw details !== undefined ? new GopsdCallError(e as ClientError, details) : e;
    }
  };
}
