// google.rpc.Status details, as gRPC carries them in the grpc-status-details-bin trailer: an ErrorInfo (reason,
// domain, metadata) and, where a retry makes sense, a RetryInfo. gopsd encodes them from a GopsError
// (server/error-middleware.ts); the client library decodes them into the error it throws (client/status-details.ts).
import { Any, Duration, ErrorInfo, RetryInfo, RpcStatus } from "../proto/index.js";
import { ERROR_DOMAIN, type Status } from "./errors.js";

/** The binary trailer a gRPC status's details travel in. */
export const STATUS_DETAILS_KEY = "grpc-status-details-bin";

const TYPE_PREFIX = "type.googleapis.com/";
const ERROR_INFO_TYPE = `${TYPE_PREFIX}google.rpc.ErrorInfo`;
const RETRY_INFO_TYPE = `${TYPE_PREFIX}google.rpc.RetryInfo`;

/** What the details say about a failure. */
export interface ErrorDetails {
  reason: string;
  domain: string;
  metadata: Readonly<Record<string, string>>;
  /** RetryInfo's delay, when the status has one. */
  retryDelayMs?: number;
}

/** The google.rpc.Status of a failure, serialized for grpc-status-details-bin. */
export function encodeStatusDetails(code: Status, message: string, d: Omit<ErrorDetails, "domain">): Uint8Array {
  const details: Any[] = [
    { typeUrl: ERROR_INFO_TYPE, value: Buffer.from(ErrorInfo.encode({ reason: d.reason, domain: ERROR_DOMAIN, metadata: { ...d.metadata } }).finish()) },
  ];
  if (d.retryDelayMs !== undefined) {
    const ms = Math.max(0, Math.round(d.retryDelayMs));
    const retryDelay: Duration = { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 };
    details.push({ typeUrl: RETRY_INFO_TYPE, value: Buffer.from(RetryInfo.encode({ retryDelay }).finish()) });
  }
  return RpcStatus.encode({ code, message, details }).finish();
}

/**
 * The ErrorInfo (and RetryInfo) of a serialized google.rpc.Status; undefined when the bytes are not one or hold no
 * ErrorInfo (a server other than gopsd, or a proxy's own status).
 */
export function decodeStatusDetails(bytes: Uint8Array): ErrorDetails | undefined {
  let status: RpcStatus;
  try {
    status = RpcStatus.decode(bytes);
  } catch {
    return undefined;
  }
  let info: ErrorDetails | undefined;
  let retryDelayMs: number | undefined;
  for (const any of status.details) {
    try {
      if (any.typeUrl === ERROR_INFO_TYPE && info === undefined) {
        const e = ErrorInfo.decode(any.value);
        info = { reason: e.reason, domain: e.domain, metadata: e.metadata };
      } else if (any.typeUrl === RETRY_INFO_TYPE && retryDelayMs === undefined) {
        const d = RetryInfo.decode(any.value).retryDelay;
        if (d !== undefined) retryDelayMs = d.seconds * 1000 + Math.round(d.nanos / 1_000_000);
      }
    } catch {
      // A detail that does not decode is skipped, like one of an unknown type.
    }
  }
  if (info === undefined) return undefined;
  return retryDelayMs !== undefined ? { ...info, retryDelayMs } : info;
}
