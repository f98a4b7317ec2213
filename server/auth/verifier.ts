// JWT verification with pinned algorithms. Keys are parsed once into KeyObjects; a token's `alg` must be allowed AND
// match the type of the key its `kid` selects, so an HS256 token can never be checked against an RSA/EC public key
// (algorithm confusion) and `alg: none` never reaches jsonwebtoken. Reasons are fixed strings: nothing of the token
// or the keys is echoed.
import { createPublicKey, createSecretKey, type JsonWebKey, type KeyObject } from "node:crypto";
import { readFile } from "node:fs/promises";
import { basename, extname } from "node:path";
import jwt from "jsonwebtoken";
import { isGopsError, unauthenticated } from "../../common/errors.js";
import { ALGORITHMS, AuthConfigError, DEFAULT_MAX_LIFETIME_SEC, MIN_HS256_SECRET_BYTES, algorithmOf, type Algorithm } from "../../common/token.js";
import { MAX_HOST_PATTERNS, MAX_HOST_PATTERN_LENGTH } from "./policy.js";


/** Who called: the verified claims the rest of the server uses. */
export interface Principal {
  readonly subject: string;
  /** The token's `jti`, when it has one. */
  readonly tokenId: string | undefined;
  readonly scopes: ReadonlySet<string>;
  /** Host names or globs (`web-*`) the token is restricted to; undefined = any host. */
  readonly hosts?: readonly string[];
}

export interface VerificationKey {
  /** Key id matched against the token header's `kid`. */
  readonly kid: string;
  readonly alg: Algorithm;
  readonly key: KeyObject;
}

export interface VerifyOptions {
  readonly algorithms: readonly Algorithm[];
  readonly issuer: string;
  readonly audience: string;
  /** Longest accepted `exp - max(nbf, iat)`. Default 3600. */
  readonly maxLifetimeSec?: number;
  /** Leeway for exp, nbf and an `iat` in the future. Default 30. */
  readonly clockToleranceSec?: number;
}

export interface VerifierConfig extends VerifyOptions {
  /** HS256 secret: the file's bytes as they are (at least 32). `kid:path` names the key; else kid = basename. */
  readonly hsSecretFile?: string;
  /** PEM public keys (RS256 or ES256 P-256), `path` (kid = basename without extension) or `kid:path`. */
  readonly publicKeyFiles?: readonly string[];
  /** A JWKS document ({"keys": [...]}) of RSA / EC P-256 public keys, each with a kid. */
  readonly jwksFile?: string;
}

export interface TokenVerifier {
  /** Verifies a compact JWS; throws GopsError(UNAUTHENTICATED) with a one-line reason. */
  verify(token: string, nowSec?: number): Principal;
}

export const DEFAULT_CLOCK_TOLERANCE_SEC = 30;
/** Tokens longer than this are refused before any parsing. */
const MAX_TOKEN_LENGTH = 8192;

/** Reads the key files of `config` and returns a verifier. Fails with AuthConfigError on any unusable key. */
export async function loadVerifier(config: VerifierConfig, opts: { signal?: AbortSignal } = {}): Promise<TokenVerifier> {
  const keys: VerificationKey[] = [];
  const read = async (path: string) => {
    try {
      return await readFile(path, { signal: opts.signal });
    } catch (e) {
      throw new AuthConfigError(`cannot read key file ${path}: ${(e as Error).message}`, { cause: e });
    }
  };
  if (config.hsSecretFile !== undefined) {
    const { kid, path } = splitKid(config.hsSecretFile);
    keys.push(secretKey(await read(path), kid, path));
  }
  for (const spec of config.publicKeyFiles ?? []) {
    const { kid, path } = splitKid(spec);
    keys.push(publicKey((await read(path)).toString("utf8"), kid, path));
  }
  if (config.jwksFile !== undefined) keys.push(...jwksKeys((await read(config.jwksFile)).toString("utf8"), config.jwksFile));
  return createVerifier(keys, config);
}

/** `kid:path` or `path` (kid = file name without extension). */
export function splitKid(spec: string): { kid: string; path: string } {
  const m = /^([A-Za-z0-9._-]+):(.+)$/.exec(spec);
  if (m) return { kid: m[1]!, path: m[2]! };
  return { kid: basename(spec, extname(spec)), path: spec };
}

export function secretKey(bytes: Buffer, kid: string, source: string): VerificationKey {
  if (bytes.length < MIN_HS256_SECRET_BYTES) {
    throw new AuthConfigError(
      `HS256 secret ${source} has ${bytes.length} bytes; at least ${MIN_HS256_SECRET_BYTES} are required`,
    );
  }
  return { kid, alg: "HS256", key: createSecretKey(bytes) };
}

export function publicKey(pem: string, kid: string, source: string): VerificationKey {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (e) {
    throw new AuthConfigError(`${source} is not a PEM public key: ${(e as Error).message}`, { cause: e });
  }
  return { kid, alg: asymmetricAlg(key, source), key };
}

/** The keys of a JWKS document. Each needs a kid; `alg`, when present, must agree with the key type. */
export function jwksKeys(json: string, source: string): VerificationKey[] {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch (e) {
    throw new AuthConfigError(`${source} is not JSON: ${(e as Error).message}`, { cause: e });
  }
  const list = (doc as { keys?: unknown }).keys;
  if (!Array.isArray(list)) throw new AuthConfigError(`${source} has no "keys" array`);
  return list.map((jwk: JsonWebKey & { kid?: unknown; use?: unknown }, i) => {
    const where = `${source} key ${i}`;
    if (typeof jwk.kid !== "string" || jwk.kid === "") throw new AuthConfigError(`${where} has no kid`);
    if (jwk.use !== undefined && jwk.use !== "sig") throw new AuthConfigError(`${where} (${jwk.kid}) is not a signing key`);
    if (jwk.kty !== "RSA" && jwk.kty !== "EC") {
      throw new AuthConfigError(`${where} (${jwk.kid}) has kty ${String(jwk.kty)}; only RSA and EC public keys are accepted`);
    }
    let key: KeyObject;
    try {
      key = createPublicKey({ key: jwk, format: "jwk" });
    } catch (e) {
      throw new AuthConfigError(`${where} (${jwk.kid}) is not a valid key: ${(e as Error).message}`, { cause: e });
    }
    const alg = asymmetricAlg(key, `${where} (${jwk.kid})`);
    if (jwk.alg !== undefined && jwk.alg !== alg) {
      throw new AuthConfigError(`${where} (${jwk.kid}) says alg ${String(jwk.alg)} but is a ${alg} key`);
    }
    return { kid: jwk.kid, alg, key };
  });
}

function asymmetricAlg(key: KeyObject, source: string): Algorithm {
  const alg = algorithmOf(key, source);
  if (alg === "HS256") throw new AuthConfigError(`${source} is a secret key, not a public key`);
  return alg;
}

/** A verifier over keys already loaded. Checks that every key's algorithm is allowed and each algorithm has a key. */
export function createVerifier(keys: readonly VerificationKey[], options: VerifyOptions): TokenVerifier {
  const algorithms = new Set(options.algorithms);
  if (algorithms.size === 0) throw new AuthConfigError("no JWT algorithm is allowed");
  for (const a of algorithms) {
    if (!(ALGORITHMS as readonly string[]).includes(a)) throw new AuthConfigError(`unsupported JWT algorithm ${a}`);
    if (!keys.some((k) => k.alg === a)) throw new AuthConfigError(`algorithm ${a} is allowed but no ${a} key is configured`);
  }
  const byKid = new Map<string, VerificationKey>();
  for (const k of keys) {
    if (!algorithms.has(k.alg)) throw new AuthConfigError(`key ${k.kid} is a ${k.alg} key but ${k.alg} is not allowed`);
    if (byKid.has(k.kid)) throw new AuthConfigError(`two keys have the kid ${k.kid}`);
    byKid.set(k.kid, k);
  }
  if (!options.issuer) throw new AuthConfigError("a JWT issuer is required");
  if (!options.audience) throw new AuthConfigError("a JWT audience is required");
  const maxLifetime = options.maxLifetimeSec ?? DEFAULT_MAX_LIFETIME_SEC;
  const tolerance = options.clockToleranceSec ?? DEFAULT_CLOCK_TOLERANCE_SEC;

  const selectKey = (alg: Algorithm, kid: string | undefined): VerificationKey => {
    if (kid !== undefined) {
      const k = byKid.get(kid);
      if (!k) throw unauthenticated("token key id (kid) unknown");
      if (k.alg !== alg) throw unauthenticated("token algorithm does not match its key");
      return k;
    }
    const candidates = keys.filter((k) => k.alg === alg);
    if (candidates.length !== 1) throw unauthenticated("token has no key id (kid) and several keys could verify it");
    return candidates[0]!;
  };

  // Tokens that verified, with the window in which the same checks would pass again (keys are fixed for the
  // verifier's life, and every other check depends only on the token's bytes): a client sends one token with every
  // call, and a signature check costs more than the rest of gopsd's per-call work (an RS256 verify ~0.1 ms).
  const verified = new Map<string, Verified>();

  return {
    verify(token, nowSec = Math.floor(Date.now() / 1000)) {
      const hit = verified.get(token);
      if (hit !== undefined) {
        if (nowSec >= hit.from && nowSec < hit.until) return hit.principal;
        verified.delete(token);
      }
      const fresh = verifyUncached(token, nowSec);
      remember(verified, token, fresh);
      return fresh.principal;
    },
  };

  function remember(cache: Map<string, Verified>, token: string, v: Verified): void {
    if (cache.size >= VERIFIED_CACHE_SIZE) cache.delete(cache.keys().next().value!); // the oldest entry
    cache.set(token, v);
  }

  function verifyUncached(token: string, nowSec: number): Verified {
    if (token.length > MAX_TOKEN_LENGTH) throw unauthenticated("token too large");
    const header = parseHeader(token);
    if (header.alg === "none") throw unauthenticated("token algorithm none is not accepted");
    if (!algorithms.has(header.alg as Algorithm)) throw unauthenticated("token algorithm not accepted");
    const alg = header.alg as Algorithm;
    if (header.kid !== undefined && typeof header.kid !== "string") throw unauthenticated("token malformed");
    // RFC 7515 §4.1.11: a recipient must refuse a token whose `crit` names parameters it does not understand.
    // gopsd understands no extension parameters, so any `crit` is refused (a malformed one too).
    if (header.crit !== undefined) throw unauthenticated("token crit header names parameters not understood");
    const key = selectKey(alg, header.kid);
    let payload: jwt.JwtPayload;
    try {
      const p = jwt.verify(token, key.key, {
        algorithms: [alg],
        issuer: options.issuer,
        audience: options.audience,
        clockTolerance: tolerance,
        clockTimestamp: nowSec,
      });
      if (typeof p === "string") throw unauthenticated("token payload is not a JSON object");
      payload = p;
    } catch (e) {
      throw unauthenticated(reasonOf(e));
    }
    const principal = principalOf(payload, { maxLifetime, nowSec, tolerance });
    // Refused once now >= exp + tolerance (jsonwebtoken), and while nbf or iat > now + tolerance.
    const from = Math.max(typeof payload.nbf === "number" ? payload.nbf : -Infinity, payload.iat ?? -Infinity) - tolerance;
    return { principal, from, until: payload.exp! + tolerance };
  }
}

/** A verified token's principal and the seconds [from, until) in which it stays valid. */
interface Verified {
  readonly principal: Principal;
  readonly from: number;
  readonly until: number;
}

/** Tokens remembered as verified (oldest dropped first): one per client in use, bounded against a flood. */
const VERIFIED_CACHE_SIZE = 1024;

interface JwsHeader {
  alg?: unknown;
  kid?: unknown;
  crit?: unknown;
}

function parseHeader(token: string): JwsHeader {
  if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token)) throw unauthenticated("token malformed");
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(token.slice(0, token.indexOf(".")), "base64url").toString("utf8"));
  } catch {
    throw unauthenticated("token malformed");
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) throw unauthenticated("token malformed");
  return header as JwsHeader;
}

function reasonOf(e: unknown): string {
  if (isGopsError(e)) return e.message;
  if (e instanceof jwt.TokenExpiredError) return "token expired";
  if (e instanceof jwt.NotBeforeError) return "token not yet valid (nbf)";
  const m = e instanceof Error ? e.message : "";
  if (m === "invalid signature") return "token signature invalid";
  if (m.startsWith("jwt audience invalid")) return "token audience mismatch";
  if (m.startsWith("jwt issuer invalid")) return "token issuer mismatch";
  if (m === "invalid exp value") return "token exp is not a number";
  if (m === "invalid nbf value") return "token nbf is not a number";
  if (m === "jwt signature is required") return "token has no signature";
  if (m === "invalid algorithm") return "token algorithm not accepted";
  return "token malformed";
}

function principalOf(p: jwt.JwtPayload, o: { maxLifetime: number; nowSec: number; tolerance: number }): Principal {
  if (typeof p.exp !== "number") throw unauthenticated("token has no expiry (exp)");
  if (p.iat !== undefined && typeof p.iat !== "number") throw unauthenticated("token iat is not a number");
  if (p.iat === undefined && p.nbf === undefined) throw unauthenticated("token has neither iat nor nbf");
  // A token issued in the future (beyond the clock tolerance) is refused: otherwise iat = now + 10 years with exp an
  // hour later would pass the lifetime check and stay valid for 10 years.
  if (p.iat !== undefined && p.iat > o.nowSec + o.tolerance) throw unauthenticated("token issued in the future (iat)");
  // The lifetime counts from the later of nbf and iat: neither can stretch it.
  const start = Math.max(p.nbf ?? -Infinity, p.iat ?? -Infinity);
  if (p.exp - start > o.maxLifetime) throw unauthenticated(`token lifetime exceeds ${o.maxLifetime}s`);
  if (typeof p.sub !== "string" || p.sub === "") throw unauthenticated("token has no subject (sub)");
  if (p.jti !== undefined && typeof p.jti !== "string") throw unauthenticated("token jti is not a string");
  const hosts = (p as { hosts?: unknown }).hosts;
  if (hosts !== undefined && !isStringArray(hosts)) throw unauthenticated("token hosts claim is not a list of names");
  if (hosts !== undefined && hosts.length > MAX_HOST_PATTERNS) {
    throw unauthenticated(`token hosts claim has more than ${MAX_HOST_PATTERNS} names`);
  }
  if (hosts?.some((h) => h.length > MAX_HOST_PATTERN_LENGTH)) {
    throw unauthenticated(`token hosts claim has a name longer than ${MAX_HOST_PATTERN_LENGTH} characters`);
  }
  return { subject: p.sub, tokenId: p.jti, scopes: scopesOf(p), ...(hosts !== undefined ? { hosts } : {}) };
}

/** `scope` (space-separated string, RFC 8693) and/or `scp` (array of strings). */
function scopesOf(p: jwt.JwtPayload): Set<string> {
  const scopes = new Set<string>();
  const { scope, scp } = p as { scope?: unknown; scp?: unknown };
  if (scope !== undefined) {
    if (typeof scope !== "string") throw unauthenticated("token scope claim is not a string");
    for (const s of scope.split(" ")) if (s) scopes.add(s);
  }
  if (scp !== undefined) {
    if (!isStringArray(scp)) throw unauthenticated("token scp claim is not a list of strings");
    for (const s of scp) scopes.add(s);
  }
  return scopes;
}

const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === "string");
