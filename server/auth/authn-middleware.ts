// Authentication: verifies the `authorization: Bearer <jwt>` metadata and adds the caller's Principal to the
// context. Public methods (grpc.health.v1, see policy.ts) need no token and get ANONYMOUS; everything else,
// including server reflection, needs a valid token. It records the principal in the audit annotation, which is
// why it requires the audit middleware before it.
import type { CallContext, ServerMiddleware, ServerMiddlewareCall } from "nice-grpc";
import type { AuditContext } from "./audit-middleware.js";
import { unauthenticated } from "../../common/errors.js";
import { isPublicMethod } from "./policy.js";
import type { Principal, TokenVerifier } from "./verifier.js";

export interface AuthnContext {
  readonly principal: Principal;
}

/** The principal of a call to a public method: no subject a token could have, no scopes. */
export const ANONYMOUS: Principal = Object.freeze({ subject: "(anonymous)", tokenId: undefined, scopes: new Set<string>() });

export const isAnonymous = (p: Principal) => p === ANONYMOUS;

/** The bearer token of `authorization` metadata; throws UNAUTHENTICATED when missing or not a Bearer token. */
function bearerToken(context: CallContext): string {
  const value = context.metadata.get("authorization");
  if (value === undefined || value === "") throw unauthenticated("no bearer token: send metadata 'authorization: Bearer <jwt>' (gopsctl: --token, --token-file or GOPSCTL_TOKEN)");
  const m = /^Bearer +([^\s,]+)$/i.exec(value);
  if (!m) throw unauthenticated("authorization metadata is not 'Bearer <jwt>'");
  return m[1]!;
}

export function authnMiddleware(verifier: TokenVerifier): ServerMiddleware<AuthnContext, AuditContext> {
  return async function* authn<Req, Res>(
    call: ServerMiddlewareCall<Req, Res, AuthnContext & AuditContext>,
    context: CallContext & AuditContext,
  ) {
    let principal: Principal;
    if (isPublicMethod(call.method.path)) {
      principal = ANONYMOUS;
    } else {
      principal = verifier.verify(bearerToken(context));
      context.audit.principal = principal;
    }
    return yield* call.next(call.request, { ...context, principal });
  };
}
