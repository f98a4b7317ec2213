// Applies a Limiter per call, keyed by the authenticated subject, and frees the slot when the call ends however it
// ends. Calls to public methods (health checks, which carry no token) are not limited: they never reach an agent.
import type { CallContext, ServerMiddleware, ServerMiddlewareCall } from "nice-grpc";
import { isAnonymous, type AuthnContext } from "./authn-middleware.js";
import type { Limiter } from "./limits.js";

export function limitsMiddleware(limiter: Limiter): ServerMiddleware<{}, AuthnContext> {
  return async function* limits<Req, Res>(call: ServerMiddlewareCall<Req, Res, AuthnContext>, context: CallContext & AuthnContext) {
    if (isAnonymous(context.principal)) return yield* call.next(call.request, context);
    const release = limiter.admit(context.principal.subject, call.responseStream || call.requestStream);
    try {
      return yield* call.next(call.request, context);
    } finally {
      release();
    }
  };
}
