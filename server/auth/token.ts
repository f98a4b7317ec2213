// Token issuing for operators and dev mode: signs the claims gopsd's verifier checks (iss, aud, sub, iat, exp,
// optional nbf, jti, scope, hosts), and creates the HS256 secret of a dev setup.
import { createPrivateKey, createSecretKey, randomBytes, randomUUID, type KeyObject } from "node:crypto";
import { constants as fsConstants, readFileSync } from "node:fs";
import { chmod, mkdir, open, readFile } from "node:fs/promises";
import { dirname } from "node:path";
import jwt from "jsonwebtoken";
import { AuthConfigError } from "./auth-errors.js";
import { SCOPES } from "./policy.js";
import { MIN_HS256_SECRET_BYTES, algorithmOf, type Algorithm } from "./verifier.js";

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

export interface CreateTokenOptions extends TokenClaims {
  /** HS256: the secret file (its bytes as they are); RS256/ES256: a PEM private key. */
  readonly keyFile: string;
}

/** Reads the signing key from `keyFile` and returns a compact JWS. */
export function createToken(opts: CreateTokenOptions): string {
  return signToken(signingKey(readFileSync(opts.keyFile), opts.alg, opts.keyFile), opts);
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

/**
 * Makes `hsSecretFile` an HS256 secret of 32 random bytes (mode 0600, its directory 0700) for dev mode, or reuses
 * the one already there (modes narrowed). The path comes from common/dev-key.ts, shared with gopsctl.
 */
export async function generateDevKeys(
  hsSecretFile: string,
  opts: { signal?: AbortSignal } = {},
): Promise<{ hsSecretFile: string; created: boolean }> {
  const dir = dirname(hsSecretFile);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  opts.signal?.throwIfAborted();
  try {
    const fh = await open(hsSecretFile, "wx", 0o600);
    try {
      await fh.writeFile(randomBytes(32));
    } finally {
      await fh.close();
    }
    return { hsSecretFile, created: true };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
  }
  const fh = await open(hsSecretFile, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW);
  try {
    if (((await fh.stat()).mode & 0o777) !== 0o600) await fh.chmod(0o600);
  } finally {
    await fh.close();
  }
  const existing = await readFile(hsSecretFile, { signal: opts.signal });
  if (existing.length < MIN_HS256_SECRET_BYTES) {
    throw new AuthConfigError(`${hsSecretFile} has ${existing.length} bytes; delete it to generate a new dev secret`);
  }
  return { hsSecretFile, created: false };
}
