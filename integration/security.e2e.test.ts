// End to end: the security of real gopsd processes. TLS and mTLS with certificates made by the openssl CLI at
// set-up, JWTs signed with our token module, a real Go fixture with an agent, the audit log read from disk.
// Clients are plain nice-grpc (the client library is not involved), so what is tested is gopsd alone.
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { ChannelCredentials, ClientError, Metadata, Status, createChannel, createClient, type Channel } from "nice-grpc";
import { HealthDefinition } from "nice-grpc-server-health";
import { ServerReflectionService } from "nice-grpc-server-reflection";
import reflectionPb from "nice-grpc-server-reflection/lib/proto/grpc/reflection/v1/reflection_pb.js";
import { DEV_AUDIENCE, DEV_ISSUER, devSecretPath } from "../common/dev-key.js";
import { AgentState, DiagnosticsServiceDefinition, ProfileKind } from "../proto/index.js";
import { SCOPES, signToken, signingKey, type Scope, type TokenClaims } from "../common/token.js";
import { createToken } from "../common/token.testkit.js";
import type { AuditRecord } from "../server/auth/index.js";
import { captureBytes, drain, statusOf } from "./grpc-helpers.js";
import { gopsdCommand, repoRoot, startFixture, startGopsd, type Fixture, type Gopsd } from "./harness.js";

const run = promisify(execFile);
const HOST = "sec-host";
const ISS = "https://issuer.test";
const AUD = "gopsd";
const CLIENT_SUBJECT = "CN=alice-laptop";
const METHOD = (m: string) => `/${DiagnosticsServiceDefinition.fullName}/${m}`;
/** grpc.health.v1 HealthCheckResponse.ServingStatus.SERVING */
const SERVING = 1;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type DiagnosticsClient = ReturnType<typeof createClient<typeof DiagnosticsServiceDefinition>>;

/** Every token a test sent, to prove none reaches the audit log. */
const sentTokens: string[] = [];

async function openssl(cwd: string, ...args: string[]): Promise<void> {
  await run("openssl", args, { cwd, timeout: 30_000 });
}

/** A CA, and certificates it signs, all EC P-256 (fast to make). */
async function makeCa(dir: string, name: string): Promise<void> {
  await openssl(dir, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", `${name}.key`);
  await openssl(dir, "req", "-x509", "-new", "-key", `${name}.key`, "-subj", `/CN=gopsctl test ${name}`, "-days", "2",
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-out", `${name}.pem`);
}

async function makeCert(dir: string, ca: string, name: string, subject: string, ext: string): Promise<void> {
  await writeFile(path.join(dir, `${name}.ext`), `${ext}\n`);
  await openssl(dir, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", `${name}.key`);
  await openssl(dir, "req", "-new", "-key", `${name}.key`, "-subj", subject, "-out", `${name}.csr`);
  await openssl(dir, "x509", "-req", "-in", `${name}.csr`, "-CA", `${ca}.pem`, "-CAkey", `${ca}.key`, "-CAcreateserial",
    "-days", "2", "-extfile", `${name}.ext`, "-out", `${name}.pem`);
}

/** Runs gopsd to completion (for start-up refusals): exit code and output. */
function runGopsd(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve, reject) => {
    const [program, leading] = gopsdCommand();
    const child = spawn(program, [...leading, ...args], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, stdout });
    });
  });
}




const bearer = (t: string) => ({ metadata: Metadata({ authorization: `Bearer ${t}` }) });

describe("gopsd security end to end", () => {
  let dir: string;
  let fixture: Fixture;
  let gopsd: Gopsd;
  let channel: Channel;
  let client: DiagnosticsClient;
  let auditPath: string;
  let hsSecret: Buffer;
  let rsaPublicPem: string;
  const signers: Record<string, ReturnType<typeof signingKey>> = {};
  let auditSeen = 0;

  const pem = (name: string) => readFile(path.join(dir, name));
  const tlsChannel = async (address: string, client?: "client" | "other-client" | "none", ca = "ca") =>
    createChannel(
      address,
      ChannelCredentials.createSsl(
        await pem(`${ca}.pem`),
        client && client !== "none" ? await pem(`${client}.key`) : null,
        client && client !== "none" ? await pem(`${client}.pem`) : null,
      ),
      // Verify the server as "localhost" (also in its SAN): TLS SNI may not carry an IP address.
      { "grpc.ssl_target_name_override": "localhost" },
    );

  /** A token signed with kid "hs" (HS256) or "rsa" (RS256), claims on top of a valid all-scopes token. */
  function token(claims: Partial<TokenClaims> = {}, opts: { signer?: "hs" | "rsa"; nowSec?: number } = {}): string {
    const signer = opts.signer ?? "hs";
    const t = signToken(
      signers[signer]!,
      { alg: signer === "hs" ? "HS256" : "RS256", kid: signer, issuer: ISS, audience: AUD, subject: "alice", scopes: [...SCOPES], ttlSec: 600, ...claims },
      opts.nowSec,
    );
    sentTokens.push(t);
    return t;
  }

  /** The outcome lines (a call admitted to the service also has a "start" line when it starts: not counted here). */
  async function auditLines(): Promise<AuditRecord[]> {
    return (await readFile(auditPath, "utf8"))
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as AuditRecord)
      .filter((l) => l.phase !== "start");
  }

  /** The `n` audit lines written since the last call (the sink writes after the call ends: poll). */
  async function nextAudits(n: number): Promise<AuditRecord[]> {
    for (let i = 0; i < 400; i++) {
      const lines = await auditLines();
      if (lines.length >= auditSeen + n) {
        assert.equal(lines.length, auditSeen + n, "exactly one audit line per call");
        auditSeen = lines.length;
        return lines.slice(-n);
      }
      await sleep(10);
    }
    throw new Error("the audit lines were not written");
  }
  const nextAudit = async () => (await nextAudits(1))[0]!;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "gopsd-security-"));
    await makeCa(dir, "ca");
    await makeCa(dir, "other-ca");
    await makeCert(dir, "ca", "server", "/CN=localhost", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth");
    await makeCert(dir, "ca", "client", "/O=ops/CN=alice-laptop", "extendedKeyUsage=clientAuth");
    await makeCert(dir, "other-ca", "other-client", "/O=ops/CN=mallory-laptop", "extendedKeyUsage=clientAuth");

    hsSecret = randomBytes(32);
    await writeFile(path.join(dir, "hs.key"), hsSecret, { mode: 0o600 });
    const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
    rsaPublicPem = rsa.publicKey.export({ type: "spki", format: "pem" }).toString();
    await writeFile(path.join(dir, "rsa.pub.pem"), rsaPublicPem);
    signers.hs = signingKey(hsSecret, "HS256", "hs.key");
    signers.rsa = rsa.privateKey;

    auditPath = path.join(dir, "audit", "audit.log");
    await mkdir(path.dirname(auditPath), { mode: 0o700 });
    // Relative paths in the file are resolved against the file's directory.
    await writeFile(
      path.join(dir, "gopsd.yaml"),
      [
        `hostName: ${HOST}`,
        "tls: { cert: server.pem, key: server.key, clientCa: ca.pem }",
        "auth:",
        "  algorithms: [HS256, RS256]",
        "  hsSecretFile: hs:hs.key",
        "  publicKeyFiles: [rsa:rsa.pub.pem]",
        `  issuer: ${ISS}`,
        `  audience: ${AUD}`,
        "  maxLifetime: 1h",
        "  clockSkew: 5s",
        "audit: { file: audit/audit.log }",
        "limits: { ratePerSecond: 2, burst: 6, maxConcurrentPerSubject: 8, maxConcurrentStreams: 4, maxRequestBytes: 4096 }",
        "agentTimeouts: { cpu: 15s }",
        "",
      ].join("\n"),
    );
    [fixture, gopsd] = await Promise.all([
      startFixture("agentprog", { env: { FIXTURE_CPU_PROFILE_SECONDS: "1", FIXTURE_TRACE_SECONDS: "1" } }),
      startGopsd({ args: ["--config", path.join(dir, "gopsd.yaml")] }),
    ]);
    channel = await tlsChannel(gopsd.address, "client");
    client = createClient(DiagnosticsServiceDefinition, channel);
  });

  after(async () => {
    channel?.close();
    await gopsd?.stop();
    await fixture?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("starts with TLS and auth: no insecure warning, an audit file of mode 0600", async () => {
    assert.doesNotMatch(gopsd.stderr(), /warning/);
    assert.match(gopsd.address, /^127\.0\.0\.1:\d+$/);
    assert.equal((await stat(auditPath)).mode & 0o777, 0o600);
  });

  it("health is public over TLS (no token) and audited without a subject", async () => {
    const health = createClient(HealthDefinition, channel);
    const res = await health.check({ service: DiagnosticsServiceDefinition.fullName });
    assert.equal(res.status, SERVING);
    const line = await nextAudit();
    assert.equal(line.method, "/grpc.health.v1.Health/Check");
    assert.equal(line.outcome, "OK");
    assert.equal(line.subject, null);
  });

  describe("the bad-token matrix: refused with the right status and one audit line each", () => {
    const b64 = (x: unknown) => Buffer.from(JSON.stringify(x)).toString("base64url");
    const now = () => Math.floor(Date.now() / 1000);
    const cases: { name: string; auth: () => string | undefined; reason: RegExp }[] = [
      { name: "no token", auth: () => undefined, reason: /^no bearer token/ },
      { name: "not a Bearer credential", auth: () => `Basic ${Buffer.from("a:b").toString("base64")}`, reason: /is not 'Bearer <jwt>'/ },
      { name: "malformed", auth: () => "Bearer not.a-jwt", reason: /^token malformed$/ },
      {
        name: "bad signature",
        auth: () => {
          const [h, p] = token().split(".");
          return `Bearer ${h}.${p}.${randomBytes(32).toString("base64url")}`;
        },
        reason: /^token signature invalid$/,
      },
      { name: "expired", auth: () => `Bearer ${token({}, { nowSec: now() - 3000 })}`, reason: /^token expired$/ },
      { name: "nbf in the future", auth: () => `Bearer ${token({ notBeforeSec: 600 })}`, reason: /^token not yet valid \(nbf\)$/ },
      { name: "wrong issuer", auth: () => `Bearer ${token({ issuer: "https://evil.test" })}`, reason: /^token issuer mismatch$/ },
      { name: "wrong audience", auth: () => `Bearer ${token({ audience: "other-service" })}`, reason: /^token audience mismatch$/ },
      {
        name: "alg none",
        auth: () => `Bearer ${b64({ alg: "none", typ: "JWT" })}.${b64({ iss: ISS, aud: AUD, sub: "mallory", iat: now(), exp: now() + 60, scope: "gops:read" })}.`,
        reason: /^token algorithm none is not accepted$/,
      },
      {
        // Algorithm confusion: the RS256 public key (which anyone may have) used as an HMAC secret.
        name: "HS256 signed with the RS256 public key (kid rsa)",
        auth: () => `Bearer ${signToken(signingKey(Buffer.from(rsaPublicPem), "HS256", "pub"), { alg: "HS256", kid: "rsa", issuer: ISS, audience: AUD, subject: "mallory", scopes: [...SCOPES], ttlSec: 60 })}`,
        reason: /^token algorithm does not match its key$/,
      },
      {
        name: "HS256 signed with the RS256 public key (no kid)",
        auth: () => `Bearer ${signToken(signingKey(Buffer.from(rsaPublicPem), "HS256", "pub"), { alg: "HS256", issuer: ISS, audience: AUD, subject: "mallory", scopes: [...SCOPES], ttlSec: 60 })}`,
        reason: /^token signature invalid$/,
      },
      { name: "unknown kid", auth: () => `Bearer ${token({ kid: "retired-2023" })}`, reason: /^token key id \(kid\) unknown$/ },
      { name: "lifetime above the maximum", auth: () => `Bearer ${token({ ttlSec: 2 * 3600 })}`, reason: /^token lifetime exceeds 3600s$/ },
      { name: "RS256 lifetime above the maximum", auth: () => `Bearer ${token({ ttlSec: 3601 }, { signer: "rsa" })}`, reason: /^token lifetime exceeds 3600s$/ },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        const value = c.auth();
        if (value !== undefined) sentTokens.push(value);
        const opts = value === undefined ? {} : { metadata: Metadata({ authorization: value }) };
        const e = await statusOf(client.listProcesses({}, opts));
        assert.equal(Status[e.code], "UNAUTHENTICATED", e.details);
        assert.match(e.details, c.reason);
        const line = await nextAudit();
        assert.equal(line.method, METHOD("ListProcesses"));
        assert.equal(line.outcome, "UNAUTHENTICATED");
        assert.equal(line.error, e.details);
        assert.equal(line.subject, null);
        assert.equal(line.host, HOST);
        assert.match(line.certSubject ?? "", new RegExp(CLIENT_SUBJECT));
      });
    }

    // gops:metrics guards the metrics port (HTTP), not an RPC: integration/metrics.e2e.test.ts tests it.
    const callFor: Record<Exclude<Scope, "gops:metrics">, (c: DiagnosticsClient, pid: number, t: string) => Promise<unknown>> = {
      "gops:read": (c, pid, t) => c.version({ pid }, bearer(t)),
      "gops:stack": (c, pid, t) => drain(c.stack({ pid }, bearer(t))),
      "gops:profile": (c, pid, t) => drain(c.streamProfile({ pid, kind: ProfileKind.PROFILE_KIND_HEAP }, bearer(t))),
      "gops:write": (c, pid, t) => c.forceGC({ pid }, bearer(t)),
      "gops:binary": (c, pid, t) => drain(c.streamBinary({ pid }, bearer(t))),
      "gops:captures": (c, _pid, t) => c.listCaptures({}, bearer(t)),
    };
    for (const scope of Object.keys(callFor) as Array<keyof typeof callFor>) {
      it(`missing scope ${scope}`, async () => {
        const t = token({ subject: `no-${scope}`, scopes: SCOPES.filter((s) => s !== scope) });
        const e = await statusOf(callFor[scope](client, fixture.pid, t));
        assert.equal(Status[e.code], "PERMISSION_DENIED", e.details);
        assert.equal(e.details, `token lacks scope ${scope}`);
        const line = await nextAudit();
        assert.equal(line.outcome, "PERMISSION_DENIED");
        assert.equal(line.subject, `no-${scope}`);
        assert.equal(line.pid, scope === "gops:captures" ? null : fixture.pid);
      });
    }

    it("token for another host", async () => {
      const e = await statusOf(client.version({ pid: fixture.pid }, bearer(token({ subject: "roamer", hosts: ["web-*", "db-1"] }))));
      assert.equal(Status[e.code], "PERMISSION_DENIED");
      assert.equal(e.details, `token is not valid for host ${HOST}`);
      const line = await nextAudit();
      assert.equal(line.outcome, "PERMISSION_DENIED");
      assert.equal(line.subject, "roamer");
    });

    it("server reflection needs a token too (any scope)", async () => {
      const reflection = createClient(ServerReflectionService, channel);
      const listServices = async function* () {
        const req = new reflectionPb.ServerReflectionRequest();
        req.setListServices("*");
        yield req;
      };
      const e = await statusOf(drain(reflection.serverReflectionInfo(listServices())));
      assert.equal(Status[e.code], "UNAUTHENTICATED");
      assert.equal((await nextAudit()).outcome, "UNAUTHENTICATED");
      const answers = await drain(reflection.serverReflectionInfo(listServices(), bearer(token({ subject: "schema-reader", scopes: [] }))));
      const names = answers[0]!.getListServicesResponse()!.getServiceList().map((x) => x.getName());
      assert.ok(names.includes(DiagnosticsServiceDefinition.fullName));
      const line = await nextAudit();
      assert.deepEqual([line.outcome, line.subject], ["OK", "schema-reader"]);
    });
  });

  describe("the good path for each scope, on the real fixture", () => {
    /** Checks the audit line of a successful call by `subject`. */
    async function audited(method: string, subject: string, opts: { pid?: number; bytes?: boolean } = {}) {
      const line = await nextAudit();
      assert.equal(line.method, METHOD(method));
      assert.equal(line.outcome, "OK");
      assert.equal(line.subject, subject);
      assert.match(line.jti ?? "", /^[0-9a-f-]{36}$/);
      assert.match(line.peer, /127\.0\.0\.1/);
      assert.match(line.certSubject ?? "", new RegExp(CLIENT_SUBJECT));
      if (opts.pid !== undefined) assert.equal(line.pid, opts.pid);
      assert.ok((line.bytes ?? 0) > 0, `bytes ${line.bytes}`);
      return line;
    }

    it("gops:read: list, process, build info, version, stats, memstats (RS256 token)", async () => {
      const t = token({ subject: "reader", scopes: ["gops:read"] }, { signer: "rsa" });
      const pid = fixture.pid;
      const list = await client.listProcesses({}, bearer(t));
      assert.ok(list.processes.some((p) => p.pid === pid && p.agent?.state === AgentState.AGENT_STATE_LISTENING));
      assert.equal(list.host, HOST);
      await audited("ListProcesses", "reader");
      assert.equal((await client.getProcess({ pid }, bearer(t))).process?.pid, pid);
      await audited("GetProcess", "reader", { pid });
      assert.match((await client.getBuildInfo({ pid }, bearer(t))).buildInfo?.goVersion ?? "", /^go1\./);
      await audited("GetBuildInfo", "reader", { pid });
      assert.match((await client.version({ pid }, bearer(t))).goVersion, /^go1\./);
      await audited("Version", "reader", { pid });
      assert.ok((await client.stats({ pid }, bearer(t))).goroutines > 0);
      await audited("Stats", "reader", { pid });
      assert.ok((await client.memStats({ pid }, bearer(t))).stats!.sys > 0);
      await audited("MemStats", "reader", { pid });
    });

    it("gops:stack", async () => {
      const t = token({ subject: "stacker", scopes: ["gops:stack"] });
      const text = Buffer.concat((await drain(client.stack({ pid: fixture.pid }, bearer(t)))).map((m) => m.chunk)).toString();
      assert.match(text, /goroutine \d+/);
      const line = await audited("Stack", "stacker", { pid: fixture.pid });
      assert.equal(line.bytes, Buffer.byteLength(text));
    });

    it("gops:profile: heap, cpu and trace", async () => {
      const t = token({ subject: "profiler", scopes: ["gops:profile"] });
      const heap = captureBytes(await drain(client.streamProfile({ pid: fixture.pid, kind: ProfileKind.PROFILE_KIND_HEAP }, bearer(t))));
      assert.deepEqual([...heap.subarray(0, 2)], [0x1f, 0x8b]);
      await audited("StreamProfile", "profiler", { pid: fixture.pid });
      const cpu = captureBytes(await drain(client.streamProfile({ pid: fixture.pid, kind: ProfileKind.PROFILE_KIND_CPU }, bearer(t))));
      assert.deepEqual([...cpu.subarray(0, 2)], [0x1f, 0x8b]);
      await audited("StreamProfile", "profiler", { pid: fixture.pid });
      const trace = captureBytes(await drain(client.streamTrace({ pid: fixture.pid }, bearer(t))));
      assert.match(trace.subarray(0, 16).toString("latin1"), /^go 1\.\d+ trace/);
      await audited("StreamTrace", "profiler", { pid: fixture.pid });
    });

    it("gops:write: gc and setgc", async () => {
      const t = token({ subject: "writer", scopes: ["gops:write"] });
      await client.forceGC({ pid: fixture.pid }, bearer(t));
      const gc = await nextAudit();
      assert.deepEqual([gc.outcome, gc.subject, gc.pid], ["OK", "writer", fixture.pid]);
      const set = await client.setGCPercent({ pid: fixture.pid, percent: 50 }, bearer(t));
      assert.equal(set.current, 50);
      await audited("SetGCPercent", "writer", { pid: fixture.pid });
      await client.setGCPercent({ pid: fixture.pid, percent: set.previous }, bearer(t));
      await nextAudit();
    });

    it("gops:binary", async () => {
      const t = token({ subject: "dumper", scopes: ["gops:binary"] });
      const bin = captureBytes(await drain(client.streamBinary({ pid: fixture.pid }, bearer(t))));
      assert.equal(bin.subarray(0, 4).toString("latin1"), "\x7fELF");
      const line = await audited("StreamBinary", "dumper", { pid: fixture.pid });
      assert.ok(line.bytes! >= bin.length);
    });
  });

  describe("transport", () => {
    const healthy = async () => {
      const res = await createClient(HealthDefinition, channel).check({ service: DiagnosticsServiceDefinition.fullName });
      assert.equal(res.status, SERVING);
      await nextAudit();
    };

    it("mTLS refuses a client certificate from another CA, and a client without one", async () => {
      for (const who of ["other-client", "none"] as const) {
        const ch = await tlsChannel(gopsd.address, who);
        try {
          const e = await statusOf(createClient(DiagnosticsServiceDefinition, ch).listProcesses({}, { ...bearer(token()), signal: AbortSignal.timeout(5000) }));
          assert.equal(Status[e.code], "UNAVAILABLE", `${who}: ${e.details}`);
        } finally {
          ch.close();
        }
      }
      await healthy();
    });

    it("a client that does not trust the server's CA, or speaks plaintext, gets nowhere", async () => {
      const wrongTrust = await tlsChannel(gopsd.address, "client", "other-ca");
      const plain = createChannel(gopsd.address);
      try {
        for (const ch of [wrongTrust, plain]) {
          const e = await statusOf(createClient(DiagnosticsServiceDefinition, ch).listProcesses({}, { ...bearer(token()), signal: AbortSignal.timeout(5000) }));
          assert.equal(Status[e.code], "UNAVAILABLE", e.details);
        }
      } finally {
        wrongTrust.close();
        plain.close();
      }
      await healthy();
    });

    it("a request above limits.maxRequestBytes is refused before any handler", async () => {
      const raw = {
        version: {
          path: METHOD("Version"),
          requestStream: false,
          responseStream: false,
          requestSerialize: (b: Buffer) => b,
          requestDeserialize: (b: Buffer) => b,
          responseSerialize: (b: Buffer) => b,
          responseDeserialize: (b: Buffer) => b,
        },
      } as const;
      const e = await statusOf(createClient(raw, channel).version(Buffer.alloc(8000, 0x08), bearer(token())));
      assert.equal(Status[e.code], "RESOURCE_EXHAUSTED", e.details);
      // grpc-js refuses it before any middleware; the transport-audit interceptor still records it.
      const line = await nextAudit();
      assert.deepEqual([line.method, line.outcome, line.subject], [METHOD("Version"), "RESOURCE_EXHAUSTED", null]);
      await healthy();
    });
  });

  it("the rate limit trips and recovers; the server stays healthy", async () => {
    const t = token({ subject: "flood", scopes: ["gops:read"] });
    // burst 6 at 2/s: of 8 calls sent together, 6 pass, plus one per half second the burst took to arrive (a busy
    // machine can spread them out; the bucket refills at its rate meanwhile).
    const started = performance.now();
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => client.getProcess({ pid: fixture.pid }, bearer(t))));
    const refills = Math.floor(((performance.now() - started) / 1000) * 2);
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    const passed = results.length - refused.length;
    assert.ok(passed >= 6 && passed <= 6 + refills, `${passed} of 8 passed with ${refills} refills`);
    if (refills === 0) assert.equal(refused.length, 2);
    for (const r of refused) {
      assert.ok(r.reason instanceof ClientError);
      assert.equal(Status[r.reason.code], "RESOURCE_EXHAUSTED");
      assert.match(r.reason.details, /^rate limit exceeded for flood; retry in 0\.\ds$/);
    }
    const lines = await nextAudits(8);
    assert.equal(lines.filter((l) => l.outcome === "RESOURCE_EXHAUSTED").length, refused.length);
    const health = await createClient(HealthDefinition, channel).check({ service: DiagnosticsServiceDefinition.fullName });
    assert.equal(health.status, SERVING, "health is not rate limited");
    await nextAudit();
    await sleep(600);
    assert.equal((await client.getProcess({ pid: fixture.pid }, bearer(t))).process?.pid, fixture.pid);
    assert.equal((await nextAudit()).outcome, "OK");
  });

  it("audit lines hold no token, signature or key (checked last, over every line written)", async () => {
    const text = await readFile(auditPath, "utf8");
    assert.ok(sentTokens.length > 20, `${sentTokens.length} tokens sent`);
    for (const t of sentTokens) {
      const jws = t.replace(/^\w+ /, "");
      assert.ok(!text.includes(jws), "a token is in the audit log");
      const signature = jws.split(".")[2];
      if (signature) assert.ok(!text.includes(signature), "a signature is in the audit log");
    }
    for (const secret of [hsSecret.toString("base64"), hsSecret.toString("hex"), hsSecret.toString("base64url")]) {
      assert.ok(!text.includes(secret), "the HS256 secret is in the audit log");
    }
    assert.ok(!/eyJ[\w-]+\.eyJ/.test(text), "something shaped like a JWT is in the audit log");
    for (const line of await auditLines()) {
      assert.deepEqual(Object.keys(line).sort(), [
        "bytes", "certSubject", "durationMs", "host", "jti", "method", "outcome", "peer", "pid", "subject", "time",
        ...(line.error !== undefined ? ["error"] : []),
        // A domain error's ErrorInfo reason (docs/ERRORS.md) goes with its error text.
        ...(line.error !== undefined && line.reason !== undefined ? ["reason"] : []),
        ...(line.backend !== undefined ? ["backend"] : []),
      ].sort());
    }
  });
});

describe("gopsd start-up rules", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "gopsd-rules-"));
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Exit code 2 and exactly one stderr line matching `line`. */
  async function refused(args: string[], line: RegExp, env: Record<string, string> = {}) {
    const r = await runGopsd(args, env);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr.split("\n").filter(Boolean).length, 1, r.stderr);
    assert.match(r.stderr.trimEnd(), line);
    assert.equal(r.stdout, "");
  }

  it("a non-loopback listen without TLS and auth is refused before binding, --insecure or not", async () => {
    await refused(["--listen", "0.0.0.0:0"], /^gopsd: --listen: refusing to listen on non-loopback address 0\.0\.0\.0:0 without TLS \(tls\.cert, tls\.key\) and auth \(auth\.\*\); --insecure only covers loopback$/);
    await refused(["--listen", "0.0.0.0:0", "--insecure"], /^gopsd: --listen: refusing to listen on non-loopback address 0\.0\.0\.0:0 without TLS/);
    await refused(["--dev", "--listen", "0.0.0.0:0"], /^gopsd: --listen: dev mode serves loopback or a unix socket only/, { XDG_CONFIG_HOME: dir });
  });

  it("TCP on loopback without auth needs --insecure, and then warns", async () => {
    await refused(["--listen", "127.0.0.1:0"], /^gopsd: --listen: refusing to serve TCP 127\.0\.0\.1:0 without authentication: configure auth, use --dev, listen on unix:\/path, or pass --insecure$/);
    const g = await startGopsd();
    try {
      const lines = g.stderr().split("\n");
      assert.match(lines[0]!, /^gopsd: warning: --insecure: serving 127\.0\.0\.1:\d+ WITHOUT authentication/);
      assert.match(lines[1]!, /^gopsd: listening on /);
    } finally {
      await g.stop();
    }
  });

  it("an invalid config file refuses to start with one line naming the key", async () => {
    const yaml = path.join(dir, "bad.yaml");
    await writeFile(yaml, "listen: unix:/tmp/x.sock\nauth:\n  algorithms: [HS256]\n  issuer: ''\n");
    await refused(["--config", yaml], /^gopsd: config auth\.issuer: must be a non-empty string$/);
    const json = path.join(dir, "bad.json");
    await writeFile(json, JSON.stringify({ listen: "unix:/tmp/x.sock", limits: { ratePerSecnd: 5 } }));
    await refused(["--config", json], /^gopsd: config limits\.ratePerSecnd: unknown key$/);
    await refused([], /^gopsd: config limits\.ratePerSecnd: unknown key$/, { GOPSD_CONFIG: json });
    const badKey = path.join(dir, "badkey.yaml");
    await writeFile(badKey, `listen: unix:${dir}/k.sock\nauth: { algorithms: [HS256], hsSecretFile: missing.key, issuer: i, audience: a }\n`);
    await refused(["--config", badKey], /^gopsd: auth: cannot read key file .*missing\.key/);
  });

  it(
    "the unix socket is owner-only: usable by its owner, EACCES for another user",
    { skip: process.getuid?.() === 0 ? false : "needs root to try the socket as uid 65534" },
    async () => {
      const sockDir = path.join(dir, "sock");
      await mkdir(sockDir);
      await chmod(sockDir, 0o755); // the directory lets anyone through: only the socket's own mode protects it
      const socket = path.join(sockDir, "gopsd.sock");
      const g = await startGopsd({ args: ["--listen", `unix:${socket}`] });
      try {
        assert.equal(g.address, `unix:${socket}`);
        assert.doesNotMatch(g.stderr(), /warning/, "a unix socket is not insecure");
        const st = await stat(socket);
        assert.ok(st.isSocket());
        assert.equal(st.mode & 0o777, 0o600);
        const ch = createChannel(`unix://${socket}`);
        try {
          const res = await createClient(HealthDefinition, ch).check({ service: DiagnosticsServiceDefinition.fullName });
          assert.equal(res.status, SERVING);
        } finally {
          ch.close();
        }
        const probe = await new Promise<string>((resolve, reject) => {
          const child = spawn(
            process.execPath,
            ["-e", `require("net").connect(${JSON.stringify(socket)}).on("connect", () => { console.log("CONNECTED"); process.exit(0); }).on("error", (e) => { console.log(e.code); process.exit(0); });`],
            { uid: 65534, gid: 65534, cwd: "/", stdio: ["ignore", "pipe", "inherit"] },
          );
          let out = "";
          child.stdout.on("data", (d: Buffer) => (out += d.toString()));
          child.once("error", reject);
          child.once("close", () => resolve(out.trim()));
        });
        assert.equal(probe, "EACCES");
      } finally {
        await g.stop();
      }
    },
  );

  it("--dev creates a 0600 key once; a token signed with it works, none does not", async () => {
    const env = { XDG_CONFIG_HOME: path.join(dir, "xdg") };
    const keyFile = devSecretPath(env);
    const g = await startGopsd({ args: ["--dev"], env });
    let first: Buffer;
    try {
      assert.match(g.stderr(), new RegExp(`^gopsd: dev mode: created the HS256 key ${keyFile.replace(/[.]/g, "\\.")}; get a token with: gopsctl token create --dev$`, "m"));
      assert.doesNotMatch(g.stderr(), /warning/);
      assert.equal((await stat(keyFile)).mode & 0o777, 0o600);
      assert.equal((await stat(path.dirname(keyFile))).mode & 0o777, 0o700);
      first = await readFile(keyFile);
      assert.equal(first.length, 32);
      const t = createToken({ keyFile, alg: "HS256", issuer: DEV_ISSUER, audience: DEV_AUDIENCE, subject: "dev-user", scopes: ["gops:read"], ttlSec: 300 });
      const ch = createChannel(g.address);
      try {
        const c = createClient(DiagnosticsServiceDefinition, ch);
        const list = await c.listProcesses({}, bearer(t));
        assert.ok(list.scanned > 0);
        const e = await statusOf(c.listProcesses({}));
        assert.equal(Status[e.code], "UNAUTHENTICATED");
        const wrongAudience = createToken({ keyFile, alg: "HS256", issuer: DEV_ISSUER, audience: "elsewhere", subject: "dev-user", scopes: ["gops:read"], ttlSec: 300 });
        assert.equal(Status[(await statusOf(c.listProcesses({}, bearer(wrongAudience)))).code], "UNAUTHENTICATED");
      } finally {
        ch.close();
      }
    } finally {
      await g.stop();
    }
    // Audit lines went to stdout (the default), with the dev token's subject.
    const audit = g.stdout().split("\n").filter(Boolean).map((l) => JSON.parse(l) as AuditRecord).filter((l) => l.phase !== "start");
    assert.deepEqual(audit.map((l) => [l.subject, l.outcome]), [["dev-user", "OK"], [null, "UNAUTHENTICATED"], [null, "UNAUTHENTICATED"]]);

    const again = await startGopsd({ args: ["--dev"], env });
    try {
      assert.match(again.stderr(), /dev mode: using the HS256 key/);
      assert.deepEqual(await readFile(keyFile), first, "the key is reused");
    } finally {
      await again.stop();
    }
  });
});
