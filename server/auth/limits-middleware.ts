// Applies a Limiter per call, keyed by the authenticated subject, and frees the slot when the call ends however it
// ends. Calls to public methods (health checks, which carry no token) are not limited: they never reach an agent.
// WatchStats is a long-lived watch with a budget of its own; every other streaming call is a one-off stream.
import type { CallContext, ServerMiddleware, ServerMiddlewareCall } from "nice-grpc";
import { isAnonymous, type AuthnContext } from "./authn-middleware.js";
import type { CallKind, Limiter } from "./limits.js";

/** The methods whose streams stay open for as long as the caller wants (not bounded by a deadline). */
const WATCH_METHODS: ReadonlySet<string> = new Set(["/gops.v1.DiagnosticsService/WatchStats"]);

export function callKind(path: string, streaming: boolean): CallKind {
  if (WATCH_METHODS.has(path)) return "watch";
  return streaming ? "stream" : "unary";
}

export function limitsMiddleware(limiter: Limiter): ServerMiddleware<{}, AuthnContext> {
  return async function* limits<Req, Res>(call: ServerMiddlewareCall<Req, Res, AuthnContext>, context: CallContext & AuthnContext) {
    if (isAnonymous(context.principal)) return yield* call.next(call.request, context);
    const release = limiter.admit(context.principal.subject, callKind(call.method.path, call.responseStream || call.requestStream));
    try {
      return yield* call.next(call.request, context);
    } finally {
      release();
    }
  };
}
