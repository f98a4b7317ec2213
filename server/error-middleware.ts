// Server middleware that turns whatever a handler throws into a typed gRPC status with a one-line message and its
// google.rpc.Status details (ErrorInfo with the error's reason, RetryInfo where a retry makes sense) in the
// grpc-status-details-bin trailer. Domain errors carry their code and reason (common/errors.ts, ERROR_TABLE);
// anything else is a bug and becomes INTERNAL.
import { isAbortError } from "abort-controller-x";
import { ServerError, Status, type CallContext, type ServerMiddlewareCall } from "nice-grpc";
import { cancelled, internalError, isGopsError, type GopsError } from "../common/errors.js";
import { STATUS_DETAILS_KEY, encodeStatusDetails } from "../common/status-details.js";

/** The domain error a thrown value stands for. */
export function toGopsError(e: unknown): GopsError {
  if (isGopsError(e)) return e;
  if (isAbortError(e)) return cancelled("the call");
  return internalError(oneLine(e instanceof Error ? e.message : String(e)), e);
}

/** The status of a thrown value: a ServerError thrown as such (nice-grpc's own) passes unchanged. */
export function toServerError(e: unknown): ServerError {
  if (e instanceof ServerError) return e;
  const g = toGopsError(e);
  return new ServerError(g.code, oneLine(g.message));
}

const oneLine = (s: string) => s.replace(/\s*\n\s*/g, "; ");

/** `onInternal` sees the original error of every INTERNAL status that is no domain error (a bug) for the log. */
export function errorMiddleware(onInternal: (method: string, e: unknown) => void) {
  return async function* errors<Req, Res>(call: ServerMiddlewareCall<Req, Res>, context: CallContext) {
    try {
      return yield* call.next(call.request, context);
    } catch (e) {
      if (e instanceof ServerError) throw e;
      const g = toGopsError(e);
      if (g.code === Status.INTERNAL && !isGopsError(e)) onInternal(call.method.path, e);
      const message = oneLine(g.message);
      context.trailer.set(STATUS_DETAILS_KEY, encodeStatusDetails(g.code, message, g));
      throw new ServerError(g.code, message);
    }
  };
}
