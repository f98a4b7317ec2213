import { createHmac, generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import jwt from "jsonwebtoken";
import { isGopsError, Status } from "../../common/errors.js";
import { AuthConfigError, signToken, signingKey } from "../../common/token.js";
import { createVerifier, jwksKeys, loadVerifier, publicKey, secretKey, splitKid } from "./verifier.js";

const opts = { algorithms: ["HS256"] as const, issuer: "iss", audience: "aud" };
const secret = randomBytes(32);
const hs = secretKey(secret, "k1", "test");
const now = 1_800_000_000;
const unauth = (re: RegExp) => (e: unknown) => isGopsError(e) && e.code === Status.UNAUTHENTICATED && re.test(e.message);
const sign = (payload: object, header: object = { kid: "k1" }) =>
  jwt.sign(payload, secret, { algorithm: "HS256", header: { alg: "HS256", ...header } as jwt.JwtHeader });

describe("verifier", () => {
  const v = createVerifier([hs], opts);
  const base = { iss: "iss", aud: "aud", sub: "alice", iat: now, exp: now + 60 };

  it("returns the principal: scope string and scp array merged, hosts, jti", () => {
    const p = v.verify(sign({ ...base, jti: "id-1", scope: "gops:read  gops:stack", scp: ["gops:write"], hosts: ["web-*"] }), now);
    assert.equal(p.subject, "alice");
    assert.equal(p.tokenId, "id-1");
    assert.deepEqual([...p.scopes].sort(), ["gops:read", "gops:stack", "gops:write"]);
    assert.deepEqual(p.hosts, ["web-*"]);
    assert.equal(v.verify(sign(base), now).hosts, undefined);
  });

  it("requires exp, iat or nbf, sub, and well-typed claims", () => {
    const { exp: _e, ...noExp } = base;
    assert.throws(() => v.verify(sign(noExp), now), unauth(/^token has no expiry \(exp\)$/));
    const { iat: _i, ...noIat } = base;
    assert.throws(() => v.verify(jwt.sign(noIat, secret, { noTimestamp: true, keyid: "k1" }), now), unauth(/neither iat nor nbf/));
    assert.equal(v.verify(jwt.sign({ ...noIat, nbf: now }, secret, { noTimestamp: true, keyid: "k1" }), now).subject, "alice");
    const { sub: _s, ...noSub } = base;
    assert.throws(() => v.verify(sign(noSub), now), unauth(/no subject/));
    assert.throws(() => v.verify(sign({ ...base, scope: ["x"] }), now), unauth(/scope claim/));
    assert.throws(() => v.verify(sign({ ...base, hosts: "web-1" }), now), unauth(/hosts claim/));
    assert.throws(() => v.verify(sign({ ...base, aud: undefined }), now), unauth(/^token audience mismatch$/));
  });

  it("remembers a verified token only while it is valid: expiry, nbf and iat still apply to the cached answer", () => {
    const c = createVerifier([hs], opts);
    const t = sign({ ...base, nbf: now + 10 });
    assert.equal(c.verify(t, now).subject, "alice"); // within the 30 s tolerance of nbf
    assert.equal(c.verify(t, now + 80).subject, "alice"); // exp + 30 s tolerance is now + 90
    assert.throws(() => c.verify(t, now + 90), unauth(/^token expired$/));
    assert.throws(() => c.verify(t, now - 30), unauth(/not yet valid/)); // before nbf − tolerance
    const early = sign({ ...base, iat: now + 20 });
    assert.equal(c.verify(early, now).subject, "alice");
    assert.throws(() => c.verify(early, now - 20), unauth(/issued in the future/));
    // A refused token is not remembered as refused forever, nor as valid.
    const bad = sign({ ...base, aud: "other" });
    assert.throws(() => c.verify(bad, now), unauth(/audience mismatch/));
    assert.throws(() => c.verify(bad, now), unauth(/audience mismatch/));
  });

  it("honours the clock tolerance for exp and nbf", () => {
    assert.equal(v.verify(sign({ ...base, exp: now - 20 }), now).subject, "alice");
    assert.throws(() => v.verify(sign({ ...base, exp: now - 40 }), now), unauth(/^token expired$/));
    assert.equal(v.verify(sign({ ...base, nbf: now + 20 }), now).subject, "alice");
    assert.throws(() => v.verify(sign({ ...base, nbf: now + 40 }), now), unauth(/not yet valid/));
  });

  it("measures lifetime from nbf when present, else from iat", () => {
    const short = createVerifier([hs], { ...opts, maxLifetimeSec: 100 });
    assert.throws(() => short.verify(sign({ ...base, exp: now + 101 }), now), unauth(/^token lifetime exceeds 100s$/));
    assert.equal(short.verify(sign({ ...base, nbf: now + 10, exp: now + 110 }), now).subject, "alice");
  });

  it("refuses an iat in the future beyond the clock tolerance, and counts the lifetime from max(nbf, iat)", () => {
    // The attack: iat ten years ahead, exp an hour after it, no nbf: before, valid for ten years.
    const tenYears = 10 * 365 * 86400;
    assert.throws(() => v.verify(sign({ ...base, iat: now + tenYears, exp: now + tenYears + 3600 }), now), unauth(/^token issued in the future \(iat\)$/));
    assert.throws(() => v.verify(sign({ ...base, iat: now + 31, exp: now + 600 }), now), unauth(/issued in the future/));
    assert.equal(v.verify(sign({ ...base, iat: now + 30, exp: now + 600 }), now).subject, "alice", "within the 30 s tolerance");
    // jsonwebtoken will not sign a string iat: sign this one by hand.
    const b64 = (x: object) => Buffer.from(JSON.stringify(x)).toString("base64url");
    const input = `${b64({ alg: "HS256", kid: "k1" })}.${b64({ ...base, iat: "soon" })}`;
    const stringIat = `${input}.${createHmac("sha256", secret).update(input).digest("base64url")}`;
    assert.throws(() => v.verify(stringIat, now), unauth(/^token iat is not a number$/));
    const short = createVerifier([hs], { ...opts, maxLifetimeSec: 100 });
    // nbf earlier than iat no longer stretches the lifetime: it counts from iat, the later of the two.
    assert.throws(() => short.verify(sign({ ...base, nbf: now - 1000, exp: now + 101 }), now), unauth(/lifetime exceeds 100s/));
    assert.equal(short.verify(sign({ ...base, nbf: now - 1000, exp: now + 100 }), now).subject, "alice");
  });

  it("refuses a crit header: gopsd understands no extension parameters (RFC 7515 §4.1.11)", () => {
    assert.throws(() => v.verify(sign(base, { kid: "k1", crit: ["exp"] }), now), unauth(/^token crit header names parameters not understood$/));
    assert.throws(() => v.verify(sign(base, { kid: "k1", crit: ["http://example.com/x"], "http://example.com/x": 1 }), now), unauth(/crit/));
    assert.throws(() => v.verify(sign(base, { kid: "k1", crit: [] }), now), unauth(/crit/));
    assert.throws(() => v.verify(sign(base, { kid: "k1", crit: "b64" }), now), unauth(/crit/));
  });

  it("bounds the hosts claim: at most 64 names of at most 253 characters", () => {
    assert.deepEqual(v.verify(sign({ ...base, hosts: Array.from({ length: 64 }, (_, i) => `h${i}`) }), now).hosts?.length, 64);
    assert.throws(() => v.verify(sign({ ...base, hosts: Array.from({ length: 65 }, (_, i) => `h${i}`) }), now), unauth(/more than 64 names/));
    assert.equal(v.verify(sign({ ...base, hosts: ["a".repeat(253)] }), now).hosts?.[0]?.length, 253);
    assert.throws(() => v.verify(sign({ ...base, hosts: ["a".repeat(254)] }), now), unauth(/longer than 253 characters/));
  });

  it("refuses algorithms not pinned, garbage and oversized tokens without echoing them", () => {
    const rs = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const t = jwt.sign(base, rs.privateKey, { algorithm: "RS256", keyid: "k1" });
    assert.throws(() => v.verify(t, now), unauth(/^token algorithm not accepted$/));
    const ps = jwt.sign(base, rs.privateKey, { algorithm: "PS256" });
    assert.throws(() => v.verify(ps, now), unauth(/^token algorithm not accepted$/));
    for (const bad of ["", "a.b", "a.b.c.d", "!!.??.x", `${Buffer.from("[1]").toString("base64url")}.e30.x`]) {
      assert.throws(() => v.verify(bad, now), unauth(/^token malformed$/), bad);
    }
    assert.throws(() => v.verify("a".repeat(9000), now), unauth(/^token too large$/));
  });

  it("fails fast on unusable configurations", () => {
    const rsa1024 = generateKeyPairSync("rsa", { modulusLength: 1024 }).publicKey.export({ type: "spki", format: "pem" }).toString();
    const ed = generateKeyPairSync("ed25519").publicKey.export({ type: "spki", format: "pem" }).toString();
    const p384 = generateKeyPairSync("ec", { namedCurve: "P-384" }).publicKey.export({ type: "spki", format: "pem" }).toString();
    assert.throws(() => secretKey(randomBytes(16), "s", "short"), AuthConfigError);
    assert.throws(() => publicKey(rsa1024, "r", "r.pem"), /1024-bit RSA key/);
    assert.throws(() => publicKey(ed, "e", "e.pem"), /ed25519 key/);
    assert.throws(() => publicKey(p384, "p", "p.pem"), /EC secp384r1 key/);
    assert.throws(() => publicKey("not pem", "p", "p.pem"), /not a PEM public key/);
    assert.throws(() => createVerifier([hs], { ...opts, algorithms: [] }), /no JWT algorithm/);
    assert.throws(() => createVerifier([hs], { ...opts, algorithms: ["HS256", "ES256"] }), /no ES256 key/);
    assert.throws(() => createVerifier([hs, hs], opts), /two keys have the kid k1/);
    assert.throws(() => createVerifier([hs], { ...opts, issuer: "" }), /issuer/);
    const ec = publicKey(generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({ type: "spki", format: "pem" }).toString(), "ec", "ec.pem");
    assert.throws(() => createVerifier([hs, ec], opts), /ES256 is not allowed/);
  });

  it("reads JWKS documents strictly", () => {
    const rsJwk = { ...generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey.export({ format: "jwk" }), kid: "r" };
    assert.equal(jwksKeys(JSON.stringify({ keys: [rsJwk] }), "j")[0]!.alg, "RS256");
    assert.throws(() => jwksKeys("{", "j"), /not JSON/);
    assert.throws(() => jwksKeys("{}", "j"), /no "keys" array/);
    assert.throws(() => jwksKeys(JSON.stringify({ keys: [{ ...rsJwk, kid: undefined }] }), "j"), /has no kid/);
    assert.throws(() => jwksKeys(JSON.stringify({ keys: [{ ...rsJwk, use: "enc" }] }), "j"), /not a signing key/);
    assert.throws(() => jwksKeys(JSON.stringify({ keys: [{ ...rsJwk, alg: "ES256" }] }), "j"), /says alg ES256 but is a RS256 key/);
    assert.throws(() => jwksKeys(JSON.stringify({ keys: [{ kty: "oct", k: "AAAA", kid: "o" }] }), "j"), /only RSA and EC/);
  });

  it("loads key files, naming keys by file name or kid:path", async () => {
    assert.deepEqual(splitKid("/etc/gopsd/keys/2026-01.pem"), { kid: "2026-01", path: "/etc/gopsd/keys/2026-01.pem" });
    assert.deepEqual(splitKid("old:/etc/k.pem"), { kid: "old", path: "/etc/k.pem" });
    const dir = await mkdtemp(join(tmpdir(), "gopsd-verifier-"));
    try {
      const pair = generateKeyPairSync("ec", { namedCurve: "P-256" });
      await writeFile(join(dir, "ec-2026.pem"), pair.publicKey.export({ type: "spki", format: "pem" }));
      const loaded = await loadVerifier({ algorithms: ["ES256"], publicKeyFiles: [join(dir, "ec-2026.pem")], issuer: "iss", audience: "aud" });
      const t = signToken(signingKey(pair.privateKey.export({ type: "pkcs8", format: "pem" }) as Buffer, "ES256", "k"), {
        alg: "ES256", kid: "ec-2026", issuer: "iss", audience: "aud", subject: "ops", scopes: ["gops:read"], ttlSec: 60,
      });
      assert.equal(loaded.verify(t).subject, "ops");
      await assert.rejects(
        loadVerifier({ algorithms: ["HS256"], hsSecretFile: join(dir, "missing"), issuer: "iss", audience: "aud" }),
        (e: unknown) => e instanceof AuthConfigError && /cannot read key file/.test(e.message),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
