// Server middleware that turns whatever a handler throws into a typed gRPC status with a one-line message.
// Domain errors already carry their status (errors.ts); anything else is a bug and becomes INTERNAL.
import { isAbortError } from "abort-controller-x";
import { ServerError, Status, type CallContext, type ServerMiddlewareCall } from "nice-grpc";
import { isGopsError } from "../common/errors.js";

export function toServerError(e: unknown): ServerError {
  if (e instanceof ServerError) return e;
  if (isGopsError(e)) return new ServerError(e.code, oneLine(e.message));
  if (isAbortError(e)) return new ServerError(Status.CANCELLED, "the call was cancelled");
  const msg = e instanceof Error ? e.message : String(e);
  return new ServerError(Status.INTERNAL, `internal error: ${oneLine(msg)}`);
}

const oneLine = (s: string) => s.replace(/\s*\n\s*/g, "; ");

/** `onInternal` sees the original error of every INTERNAL status (a bug) for the log. */
export function errorMiddleware(onInternal: (method: string, e: unknown) => void) {
  return async function* errors<Req, Res>(call: ServerMiddlewareCall<Req, Res>, context: CallContext) {
    try {
      return yield* call.next(call.request, context);
    } catch (e) {
      const se = toServerError(e);
      if (se.code === Status.INTERNAL && !isGopsError(e)) onInternal(call.method.path, e);
      throw se;
    }
  };
}
