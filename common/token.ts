// The bearer token both sides agree on: the algorithms and scopes gopsd knows, the claims it checks (iss, aud, sub,
// iat, exp, optional nbf, jti, scope, hosts), and signing them. gopsctl signs (`token create`); gopsd verifies
// (server/auth/verifier.ts) with the same lists, so the two cannot drift apart.
import { createPrivateKey, createSecretKey, randomUUID, type KeyObject } from "node:crypto";
import jwt from "jsonwebtoken";
import { MIN_HS256_SECRET_BYTES, SCOPES, type Algorithm } from "./token-rules.js";

export { ALGORITHMS, DEFAULT_MAX_LIFETIME_SEC, MIN_HS256_SECRET_BYTES, SCOPES, type Algorithm, type Scope } from "./token-rules.js";

/** A key or token setting that cannot work (bad key file, unknown algorithm or scope). One line. */
export class AuthConfigError extends Error {
  override readonly name = "AuthConfigError";
}

export interface TokenClaims {
  readonly alg: Algorithm;
  /** Header `kid`; needed when the verifier has several keys of this algorithm. */
  readonly kid?: string;
  readonly issuer: string;
  readonly audience: string;
  readonly subject: string;
  readonly scopes: readonly string[];
  /** Seconds the token is valid for, counted from when it becomes valid (now, or now + notBeforeSec). */
  readonly ttlSec: number;
  /** Host names or globs (`web-*`) the token is restricted to. */
  readonly hosts?: readonly string[];
  /** Seconds from now before the token becomes valid (nbf). */
  readonly notBeforeSec?: number;
}

/** The one algorithm a key may be used with: HS256 for a secret, RS256 for RSA (>= 2048 bits), ES256 for P-256. */
export function algorithmOf(key: KeyObject, source: string): Algorithm {
  if (key.type === "secret") return "HS256";
  if (key.asymmetricKeyType === "rsa") {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < 2048) throw new AuthConfigError(`${source} is a ${bits}-bit RSA key; at least 2048 bits are required`);
    return "RS256";
  }
  if (key.asymmetricKeyType === "ec" && key.asymmetricKeyDetails?.namedCurve === "prime256v1") return "ES256";
  const what = key.asymmetricKeyType === "ec" ? `EC ${key.asymmetricKeyDetails?.namedCurve}` : key.asymmetricKeyType;
  throw new AuthConfigError(`${source} is a ${what} key; only RSA (RS256) and EC P-256 (ES256) keys are accepted`);
}

/** Parses key material for `alg`: raw secret bytes for HS256, a PEM private key otherwise. */
export function signingKey(material: Buffer, alg: Algorithm, source: string): KeyObject {
  if (alg === "HS256") {
    if (material.length < MIN_HS256_SECRET_BYTES) {
      throw new AuthConfigError(`HS256 secret ${source} has ${material.length} bytes; at least ${MIN_HS256_SECRET_BYTES} are required`);
    }
    return createSecretKey(material);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(material);
  } catch (e) {
    throw new AuthConfigError(`${source} is not a PEM private key: ${(e as Error).message}`, { cause: e });
  }
  const keyAlg = algorithmOf(key, source);
  if (keyAlg !== alg) throw new AuthConfigError(`${source} is a ${keyAlg} key, not a ${alg} key`);
  return key;
}

/** A compact JWS of `c`, signed with `key` (from signingKey), issued at `nowSec`, with a fresh jti. */
export function signToken(key: KeyObject, c: TokenClaims, nowSec = Math.floor(Date.now() / 1000)): string {
  if (!(Number.isInteger(c.ttlSec) && c.ttlSec > 0)) throw new AuthConfigError("token ttl must be a positive number of seconds");
  if (c.notBeforeSec !== undefined && !(Number.isInteger(c.notBeforeSec) && c.notBeforeSec >= 0)) {
    throw new AuthConfigError("token not-before must be a non-negative number of seconds");
  }
  if (!c.subject) throw new AuthConfigError("token subject is required");
  for (const s of c.scopes) {
    if (!(SCOPES as readonly string[]).includes(s)) throw new AuthConfigError(`unknown scope ${s} (known: ${SCOPES.join(", ")})`);
  }
  const start = nowSec + (c.notBeforeSec ?? 0);
  const payload: jwt.JwtPayload & { scope: string; hosts?: readonly string[] } = {
    iss: c.issuer,
    aud: c.audience,
    sub: c.subject,
    iat: nowSec,
    ...(c.notBeforeSec !== undefined ? { nbf: start } : {}),
    exp: start + c.ttlSec,
    jti: randomUUID(),
    scope: c.scopes.join(" "),
    ...(c.hosts !== undefined ? { hosts: c.hosts } : {}),
  };
  return jwt.sign(payload, key, { algorithm: c.alg, ...(c.kid !== undefined ? { keyid: c.kid } : {}) });
}
