// Authorization: applies policy.ts to the principal authn put in the context. Scope first, then the token's
// `hosts` restriction against this server's host name. Default deny for methods without a rule.
import type { CallContext, ServerMiddleware, ServerMiddlewareCall } from "nice-grpc";
import { forbidden, hostNotAllowed, scopeMissing } from "../../common/errors.js";
import type { AuthnContext } from "./authn-middleware.js";
import { hostMatches, ruleFor } from "./policy.js";
import type { Principal } from "./verifier.js";

/** Throws PERMISSION_DENIED unless `principal` may call `path` on `hostName`. Pure. */
export function authorize(principal: Principal, path: string, hostName: string): void {
  const rule = ruleFor(path);
  if (rule === undefined) throw forbidden(`no access rule for ${path}`);
  if (rule.kind === "public") return;
  if (rule.kind === "scope" && !principal.scopes.has(rule.scope)) throw scopeMissing(rule.scope);
  if (principal.hosts !== undefined && !hostMatches(principal.hosts, hostName)) {
    throw hostNotAllowed(hostName);
  }
}

export function authzMiddleware(opts: { hostName: string }): ServerMiddleware<{}, AuthnContext> {
  return async function* authz<Req, Res>(call: ServerMiddlewareCall<Req, Res, AuthnContext>, context: CallContext & AuthnContext) {
    authorize(context.principal, call.method.path, opts.hostName);
    return yield* call.next(call.request, context);
  };
}
