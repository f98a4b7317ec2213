import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, readFile, rm, stat, symlink, writeFile, chmod } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import jwt from "jsonwebtoken";
import { openAuditFile } from "./audit.js";
import { createToken } from "../../common/token.testkit.js";
import { generateDevKeys } from "./token.js";
import { loadVerifier } from "./verifier.js";

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "gopsd-token-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const claims = { issuer: "iss", audience: "aud", subject: "ops", scopes: ["gops:read", "gops:write"], ttlSec: 300 };

describe("dev keys and tokens", () => {
  it("generateDevKeys writes a 32-byte 0600 secret once, reuses it and narrows a wide mode", async () => {
    const keyDir = join(dir, "dev");
    const first = await generateDevKeys(join(keyDir, "hs256.key"));
    assert.equal(first.created, true);
    assert.equal((await stat(first.hsSecretFile)).mode & 0o777, 0o600);
    assert.equal((await stat(keyDir)).mode & 0o777, 0o700);
    const bytes = await readFile(first.hsSecretFile);
    assert.equal(bytes.length, 32);
    await chmod(first.hsSecretFile, 0o644);
    const again = await generateDevKeys(first.hsSecretFile);
    assert.deepEqual(again, { hsSecretFile: first.hsSecretFile, created: false });
    assert.deepEqual(await readFile(first.hsSecretFile), bytes);
    assert.equal((await stat(first.hsSecretFile)).mode & 0o777, 0o600);
  });

  it("createToken signs what loadVerifier accepts: claims, jti, nbf, hosts", async () => {
    const { hsSecretFile } = await generateDevKeys(join(dir, "dev2", "hs256.key"));
    const t = createToken({ ...claims, keyFile: hsSecretFile, alg: "HS256", hosts: ["web-*"] });
    const v = await loadVerifier({ algorithms: ["HS256"], hsSecretFile, issuer: "iss", audience: "aud" });
    const p = v.verify(t);
    assert.deepEqual([...p.scopes], ["gops:read", "gops:write"]);
    assert.deepEqual(p.hosts, ["web-*"]);
    assert.match(p.tokenId ?? "", /^[0-9a-f]{8}-[0-9a-f]{4}-4/);
    const decoded = jwt.decode(t, { complete: true })!;
    assert.deepEqual(decoded.header, { alg: "HS256", typ: "JWT" });
    const late = jwt.decode(createToken({ ...claims, keyFile: hsSecretFile, alg: "HS256", notBeforeSec: 60 })) as jwt.JwtPayload;
    assert.equal(late.nbf! - late.iat!, 60);
    assert.equal(late.exp! - late.nbf!, 300);
    assert.notEqual(v.verify(createToken({ ...claims, keyFile: hsSecretFile, alg: "HS256" })).tokenId, p.tokenId);
  });

  it("createToken with RS256/ES256 private keys; refuses a key of another type and unknown scopes", async () => {
    const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const rsaFile = join(dir, "rsa.key");
    await writeFile(rsaFile, rsa.privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
    const t = createToken({ ...claims, keyFile: rsaFile, alg: "RS256", kid: "r1" });
    assert.equal((jwt.verify(t, rsa.publicKey, { algorithms: ["RS256"] }) as jwt.JwtPayload).sub, "ops");
    assert.equal(jwt.decode(t, { complete: true })!.header.kid, "r1");
    assert.throws(() => createToken({ ...claims, keyFile: rsaFile, alg: "ES256" }), /is a RS256 key, not a ES256 key/);
    assert.throws(() => createToken({ ...claims, keyFile: rsaFile, alg: "RS256", scopes: ["gops:reed"] }), /unknown scope gops:reed/);
    assert.throws(() => createToken({ ...claims, keyFile: rsaFile, alg: "RS256", ttlSec: 0 }), /ttl/);
  });
});

describe("audit file", () => {
  it("creates the log 0600, appends, and refuses a symlink", async () => {
    const path = join(dir, "audit.log");
    const errors: Error[] = [];
    const sink = await openAuditFile(path, { onError: (e) => errors.push(e) });
    const record = {
      time: new Date(0).toISOString(), host: "h", subject: "s", jti: null, peer: "ipv4:127.0.0.1:1", certSubject: null,
      method: "/m", pid: 1, outcome: "OK", bytes: 3, durationMs: 1,
    };
    sink.write(record);
    sink.write({ ...record, outcome: "UNAUTHENTICATED", error: "token expired\nwith a newline" });
    await sink.close();
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    const reopened = await openAuditFile(path, { onError: (e) => errors.push(e) });
    reopened.write(record);
    await reopened.close();
    const lines = (await readFile(path, "utf8")).split("\n");
    assert.equal(lines.length, 4);
    assert.equal(lines[3], "");
    assert.equal(JSON.parse(lines[1]!).error, "token expired\nwith a newline");
    assert.deepEqual(errors, []);
    await symlink(path, join(dir, "link.log"));
    await assert.rejects(openAuditFile(join(dir, "link.log"), { onError: () => {} }), /ELOOP/);
  });
});
