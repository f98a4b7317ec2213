// token create: parsing, and tokens that server/auth's verifier accepts (HS256, RS256, ES256, dev mode).
import assert from "node:assert/strict";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import jwt from "jsonwebtoken";
import { devSecretPath } from "../../common/dev-key.js";
import { generateDevKeys, loadVerifier, type VerifierConfig } from "../../server/auth/index.js";
import { UsageError } from "../errors.js";
import { fakeContext } from "../fake-context.testkit.js";
import { parseCommandLine as parseArgv } from "./index.js";
import { resolveCommand } from "./index.js";
import { run, type TokenCreateOptions } from "./token.js";

const NOW = new Date("2026-11-26T12:00:00Z");
const NOW_SEC = NOW.getTime() / 1000;
let dir: string;
const key: Record<string, string> = {};

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "gopsctl-token-"));
  key["hs"] = join(dir, "hs256.key");
  await writeFile(key["hs"], randomBytes(32), { mode: 0o600 });
  const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
  for (const [name, pair] of [["rsa", rsa], ["ec", ec]] as const) {
    key[name] = join(dir, `${name}.pem`);
    key[`${name}.pub`] = join(dir, `${name}.pub.pem`);
    await writeFile(key[name], pair.privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
    await writeFile(key[`${name}.pub`], pair.publicKey.export({ type: "spki", format: "pem" }));
  }
});
after(() => rm(dir, { recursive: true, force: true }));

const parse = (...argv: string[]) => {
  const inv = resolveCommand(parseArgv(argv, {}));
  assert.equal(inv.spec.name, "token");
  return inv.opts as TokenCreateOptions;
};
const usage = (argv: string[], message: string | RegExp) =>
  assert.throws(
    () => parse(...argv),
    (e: unknown) => e instanceof UsageError && (typeof message === "string" ? e.message === message : message.test(e.message)),
    argv.join(" "),
  );

async function create(argv: string[], opts: { env?: Record<string, string>; json?: boolean } = {}) {
  const f = fakeContext({}, { now: NOW, json: opts.json ?? false, isTTY: false, env: opts.env ?? {} });
  await run(parse(...argv), f.ctx);
  assert.equal(f.calls.length, 0, "token create never calls gopsd");
  return { stdout: f.stdout.text(), stderr: f.stderr.text() };
}

const OPERATOR = ["--iss", "ops", "--aud", "gopsd", "--sub", "alice"];

test("parse: every flag, comma lists and repeats, durations in seconds", () => {
  assert.deepEqual(
    parse("token", "create", "--key", "k.pem", "--alg", "es256", "--kid", "k1", ...OPERATOR, "--scope", "gops:read,gops:stack", "--scope", "gops:read",
      "--ttl", "15m", "--hosts", "web-*,db-1", "--hosts", "db-2", "--not-before", "30s", "-o", "tok"),
    {
      dev: false, keyFile: "k.pem", alg: "ES256", kid: "k1", issuer: "ops", audience: "gopsd", subject: "alice",
      scopes: ["gops:read", "gops:stack"], ttlSec: 900, hosts: ["web-*", "db-1", "db-2"], notBeforeSec: 30, output: "tok",
    },
  );
  assert.deepEqual(parse("token", "create", "--dev"), {
    dev: true, keyFile: undefined, alg: undefined, kid: undefined, issuer: undefined, audience: undefined, subject: undefined,
    scopes: undefined, ttlSec: undefined, hosts: undefined, notBeforeSec: undefined, output: undefined,
  });
});

test("parse: usage errors", () => {
  usage(["token"], "missing subcommand: token create");
  usage(["token", "list"], 'unknown subcommand "token list" (want: token create)');
  usage(["token", "create", "x"], 'too many arguments: "x"');
  usage(["token", "create"], "token create needs --key, --alg, --iss, --aud, --sub, --scope, --ttl (or --dev)");
  usage(["token", "create", "--key", "k", "--alg", "HS256", ...OPERATOR, "--ttl", "1m"], "token create needs --scope (or --dev)");
  const base = ["token", "create", "--key", "k", "--alg", "HS256", ...OPERATOR];
  usage([...base, "--scope", "gops:read", "--ttl", "0s"], 'invalid ttl "0s": it must be above zero');
  usage([...base, "--scope", "gops:read", "--ttl", "-5m"], 'invalid ttl "-5m": it must be above zero');
  usage([...base, "--scope", "gops:read", "--ttl", "1500ms"], 'invalid ttl "1500ms": it must be whole seconds');
  usage([...base, "--scope", "gops:read", "--ttl", "soon"], /^invalid ttl "soon"/);
  usage([...base, "--scope", "gops:admin", "--ttl", "1m"], 'unknown scope "gops:admin" (known: gops:read, gops:stack, gops:profile, gops:write, gops:binary, gops:metrics, gops:captures)');
  usage([...base, "--scope", "gops:read,", "--ttl", "1m"], "--scope has an empty item");
  usage([...base, "--scope", "gops:read", "--ttl", "1m", "--hosts", "web 1"], 'invalid host pattern "web 1" (names and globs with * and ?)');
  usage([...base, "--scope", "gops:read", "--ttl", "1m", "--not-before", "-1s"], 'invalid not-before "-1s": it must not be negative');
  usage(["token", "create", "--key", "k", "--alg", "PS256", ...OPERATOR, "--scope", "gops:read", "--ttl", "1m"], 'unknown algorithm "PS256" (want HS256, RS256, ES256)');
  usage(["token", "create", "--dev", "--key", "k"], "--dev decides --key itself: drop one of them");
  usage(["token", "create", "--dev", "--iss", "x"], "--dev decides --iss itself: drop one of them");
  usage(["token", "create", "--dev", "--ca", "ca.pem"], "flag --ca does not apply to token (it signs locally)");
  usage(["token", "create", "--dev", "--host", "h:1"], "flag --host does not apply to token (it signs locally)");
  usage(["token", "create", "--dev", "--json", "-o", "f"], "flags --json and --output exclude each other for token create");
  usage(["stack", "1", "--scope", "gops:read"], "flag --scope does not apply to stack");
});

const verifier = (config: Partial<VerifierConfig>) =>
  loadVerifier({ algorithms: ["HS256"], issuer: "ops", audience: "gopsd", ...config } as VerifierConfig);

test("HS256: the token on stdout verifies with gopsd's verifier, with its scopes and hosts", async () => {
  const out = await create(["token", "create", "--key", key["hs"]!, "--alg", "HS256", ...OPERATOR, "--scope", "gops:read,gops:stack", "--ttl", "15m", "--hosts", "web-*,db-1"]);
  assert.equal(out.stderr, "");
  assert.match(out.stdout, /^[\w-]+\.[\w-]+\.[\w-]+\n$/);
  const p = (await verifier({ hsSecretFile: key["hs"]! })).verify(out.stdout.trim(), NOW_SEC);
  assert.equal(p.subject, "alice");
  assert.deepEqual([...p.scopes].sort(), ["gops:read", "gops:stack"]);
  assert.deepEqual(p.hosts, ["web-*", "db-1"]);
  const claims = jwt.decode(out.stdout.trim()) as jwt.JwtPayload;
  assert.equal(claims.exp! - claims.iat!, 900);
  assert.equal(claims.iat, NOW_SEC);
});

test("RS256 and ES256 with a kid verify against the public keys; the wrong kind of key is a usage error", async () => {
  for (const [alg, name] of [["RS256", "rsa"], ["ES256", "ec"]] as const) {
    const out = await create(["token", "create", "--key", key[name]!, "--alg", alg, "--kid", `${name}-1`, ...OPERATOR, "--scope", "gops:profile", "--ttl", "5m"]);
    const v = await verifier({ algorithms: [alg], publicKeyFiles: [`${name}-1:${key[`${name}.pub`]}`] });
    assert.deepEqual([...v.verify(out.stdout.trim(), NOW_SEC).scopes], ["gops:profile"]);
    assert.equal(jwt.decode(out.stdout.trim(), { complete: true })!.header.kid, `${name}-1`);
  }
  await assert.rejects(
    create(["token", "create", "--key", key["ec"]!, "--alg", "RS256", ...OPERATOR, "--scope", "gops:read", "--ttl", "5m"]),
    (e: unknown) => e instanceof UsageError && e.message === `${key["ec"]} is a ES256 key, not a RS256 key`,
  );
  await assert.rejects(
    create(["token", "create", "--key", join(dir, "absent.pem"), "--alg", "RS256", ...OPERATOR, "--scope", "gops:read", "--ttl", "5m"]),
    (e: unknown) => e instanceof UsageError && e.message === `cannot read key file ${join(dir, "absent.pem")}: ENOENT`,
  );
});

test("--not-before: not valid before then, valid after; lifetime counts from nbf", async () => {
  const out = await create(["token", "create", "--key", key["hs"]!, "--alg", "HS256", ...OPERATOR, "--scope", "gops:read", "--ttl", "10m", "--not-before", "1h"]);
  const v = await verifier({ hsSecretFile: key["hs"]! });
  assert.throws(() => v.verify(out.stdout.trim(), NOW_SEC), { message: /not (yet )?valid|nbf|before/i });
  assert.equal(v.verify(out.stdout.trim(), NOW_SEC + 3600 + 60).subject, "alice");
});

test("--json prints token, expiresAt and jti; a ttl above 1h warns on stderr", async () => {
  const out = await create(["token", "create", "--key", key["hs"]!, "--alg", "HS256", ...OPERATOR, "--scope", "gops:write", "--ttl", "2h"], { json: true });
  const j = JSON.parse(out.stdout) as { token: string; expiresAt: string; jti: string };
  assert.deepEqual(Object.keys(j), ["token", "expiresAt", "jti"]);
  assert.equal(j.expiresAt, "2026-11-26T14:00:00.000Z");
  assert.equal((jwt.decode(j.token) as jwt.JwtPayload).jti, j.jti);
  assert.match(j.jti, /^[0-9a-f-]{36}$/);
  assert.equal(
    out.stderr,
    "gopsctl: warning: ttl 2h0m0s is above gopsd's default maximum token lifetime (1h0m0s); gopsd refuses this token unless its maximum is raised\n",
  );
  const v = await verifier({ hsSecretFile: key["hs"]!, maxLifetimeSec: 7200 });
  assert.equal(v.verify(j.token, NOW_SEC).subject, "alice");
  await assert.rejects(async () => (await verifier({ hsSecretFile: key["hs"]! })).verify(j.token, NOW_SEC), { message: /lifetime/ });
});

test("-o writes the token to an owner-only file (also narrowing an existing file) and prints nothing", async () => {
  const file = join(dir, "out.token");
  await writeFile(file, "old", { mode: 0o644 });
  const out = await create(["token", "create", "--key", key["hs"]!, "--alg", "HS256", ...OPERATOR, "--scope", "gops:read", "--ttl", "1m", "-o", file]);
  assert.deepEqual(out, { stdout: "", stderr: "" });
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  assert.equal((await verifier({ hsSecretFile: key["hs"]! })).verify((await readFile(file, "utf8")).trim(), NOW_SEC).subject, "alice");
});

test("--dev: gopsd --dev's key, issuer and audience, $USER, all scopes, 1h; a missing dev key is one line", async () => {
  const env = { XDG_CONFIG_HOME: join(dir, "xdg"), USER: "ann" };
  await assert.rejects(create(["token", "create", "--dev"], { env }), (e: unknown) => {
    assert.ok(e instanceof UsageError);
    assert.equal(e.message, `no dev key at ${join(dir, "xdg", "gopsctl", "dev", "hs256.key")}: start gopsd --dev first`);
    return true;
  });
  const { hsSecretFile } = await generateDevKeys(devSecretPath(env));
  const out = await create(["token", "create", "--dev"], { env, json: true });
  const { token, expiresAt } = JSON.parse(out.stdout) as { token: string; expiresAt: string };
  assert.equal(expiresAt, "2026-11-26T13:00:00.000Z");
  const dev = await loadVerifier({ algorithms: ["HS256"], issuer: "gopsctl-dev", audience: "gopsd", hsSecretFile });
  const p = dev.verify(token, NOW_SEC);
  assert.equal(p.subject, "ann");
  assert.deepEqual([...p.scopes].sort(), ["gops:binary", "gops:captures", "gops:metrics", "gops:profile", "gops:read", "gops:stack", "gops:write"]);
  const narrow = await create(["token", "create", "--dev", "--scope", "gops:read", "--ttl", "5m", "--sub", "ci"], { env: { XDG_CONFIG_HOME: env.XDG_CONFIG_HOME } });
  const q = dev.verify(narrow.stdout.trim(), NOW_SEC);
  assert.equal(q.subject, "ci");
  assert.deepEqual([...q.scopes], ["gops:read"]);
  const anonymous = await create(["token", "create", "--dev"], { env: { XDG_CONFIG_HOME: env.XDG_CONFIG_HOME } });
  assert.equal(dev.verify(anonymous.stdout.trim(), NOW_SEC).subject, "dev");
});
