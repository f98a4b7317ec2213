// Authentication: verifies the `authorization: Bearer <jwt>` metadata and adds the caller's Principal to the
// context. Public methods (grpc.health.v1, see policy.ts) need no token and get ANONYMOUS; everything else,
// including server reflection, needs a valid token. It records the principal in the audit annotation, which is
// why it requires the audit middleware before it.
// Unauthenticated work is metered per source address (limits.ts PeerLimiter): each call to a public method and each
// failed authentication takes a token from the caller's address. A failed authentication from an address with none
// left is refused with RESOURCE_EXHAUSTED ("retry later") instead of UNAUTHENTICATED. A health check over the
// budget is still answered (a local attacker shares 127.0.0.1 with local probes: refusing would let any user make
// gopsd look dead) but marked `quiet`, so its audit line is aggregated like a refusal. Tokens are always verified
// first, so a valid token is never refused for its address: other users of a shared address cannot lock it out.
import type { CallContext, ServerMiddleware, ServerMiddlewareCall } from "nice-grpc";
import type { AuditContext } from "./audit-middleware.js";
import { limitExceeded, noToken, unauthenticated } from "../../common/errors.js";
import { isPublicMethod } from "./policy.js";
import type { Principal, TokenVerifier } from "./verifier.js";
import type { PeerLimiter } from "./limits.js";
import { peerAddress } from "./refusals.js";

export interface AuthnContext {
  readonly principal: Principal;
}

/** The principal of a call to a public method: no subject a token could have, no scopes. */
export const ANONYMOUS: Principal = Object.freeze({ subject: "(anonymous)", tokenId: undefined, scopes: new Set<string>() });

export const isAnonymous = (p: Principal) => p === ANONYMOUS;

/** The bearer token of `authorization` metadata; throws UNAUTHENTICATED when missing or not a Bearer token. */
function bearerToken(context: CallContext): string {
  const value = context.metadata.get("authorization");
  if (value === undefined || value === "") throw noToken("no bearer token: send metadata 'authorization: Bearer <jwt>' (gopsctl: --token, --token-file or GOPSCTL_TOKEN)");
  const m = /^Bearer +([^\s,]+)$/i.exec(value);
  if (!m) throw unauthenticated("authorization metadata is not 'Bearer <jwt>'");
  return m[1]!;
}

const tooMany = (address: string) => limitExceeded(`too many unauthenticated calls from ${address}; retry later`, "unauthenticated_calls");

export function authnMiddleware(
  verifier: TokenVerifier,
  opts: { peers?: PeerLimiter } = {},
): ServerMiddleware<AuthnContext, AuditContext> {
  const peers = opts.peers;
  return async function* authn<Req, Res>(
    call: ServerMiddlewareCall<Req, Res, AuthnContext & AuditContext>,
    context: CallContext & AuditContext,
  ) {
    let principal: Principal;
    const address = peerAddress(context.peer);
    if (isPublicMethod(call.method.path)) {
      if (peers && !peers.take(address)) context.audit.quiet = true;
      principal = ANONYMOUS;
    } else {
      try {
        principal = verifier.verify(bearerToken(context));
      } catch (e) {
        if (peers && !peers.take(address)) throw tooMany(address);
        throw e;
      }
      context.audit.principal = principal;
    }
    return yield* call.next(call.request, { ...context, principal });
  };
}
