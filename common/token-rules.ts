// The token rules both sides agree on, without the signing library: the algorithms and scopes gopsd knows and its
// default longest lifetime. common/token.ts (signing) re-exports them; `gopsctl token create` reads them to check its
// flags before it loads jsonwebtoken for the signing itself.
export const ALGORITHMS = ["HS256", "RS256", "ES256"] as const;
export type Algorithm = (typeof ALGORITHMS)[number];

export const SCOPES = ["gops:read", "gops:stack", "gops:profile", "gops:write", "gops:binary", "gops:metrics", "gops:captures"] as const;
export type Scope = (typeof SCOPES)[number];

/** gopsd's default longest token lifetime (`exp - (nbf ?? iat)`). */
export const DEFAULT_MAX_LIFETIME_SEC = 3600;
/** HS256 secrets shorter than this are refused by both sides. */
export const MIN_HS256_SECRET_BYTES = 32;
