// End to end: the security chain (errors → audit → authn → limits → authz) on a real nice-grpc server on
// 127.0.0.1:0 serving the real Diagnostics definition with a fake implementation, called by a real client.
import { createHmac, generateKeyPairSync, randomBytes, type KeyObject } from "node:crypto";
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { ClientError, Metadata, Status, createChannel, createClient, createServer, type Channel } from "nice-grpc";
import { HealthDefinition, HealthServiceImpl } from "nice-grpc-server-health";
import { ServerReflectionService } from "nice-grpc-server-reflection";
import { LazyServerReflectionService, lazyServerReflection } from "../reflection.js";
import reflectionPb from "nice-grpc-server-reflection/lib/proto/grpc/reflection/v1/reflection_pb.js";
import { DiagnosticsServiceDefinition, VersionResponse, type DiagnosticsServiceImplementation } from "../../proto/index.js";
import { errorMiddleware } from "../error-middleware.js";
import { openAuditFile, type AuditRecord } from "./audit.js";
import { auditMiddleware } from "./audit-middleware.js";
import { authnMiddleware, type AuthnContext } from "./authn-middleware.js";
import { authzMiddleware } from "./authz-middleware.js";
import { createLimiter, type LimitsConfig } from "./limits.js";
import { limitsMiddleware } from "./limits-middleware.js";
import { SCOPES, signToken, signingKey, type Algorithm, type Scope, type TokenClaims } from "../../common/token.js";
import { loadVerifier } from "./verifier.js";

const { ServerReflectionRequest } = reflectionPb;
const HOST = "web-3";
const ISS = "https://issuer.test";
const AUD = "gopsd";
const HELD_PID = 999;
const STACK_CHUNKS = [Buffer.alloc(1000, 0x61), Buffer.alloc(234, 0x62)];

let dir: string;
const keys: Record<string, { alg: Algorithm; key: KeyObject; publicPem?: string }> = {};
/** Every token a test sent, to prove none reaches the audit log. */
const sentTokens: string[] = [];

function token(kid: string | undefined, claims: Partial<TokenClaims> = {}, signWith = kid ?? "hs", nowSec?: number) {
  const k = keys[signWith]!;
  const t = signToken(
    k.key,
    { alg: k.alg, issuer: ISS, audience: AUD, subject: "alice", scopes: [...SCOPES], ttlSec: 600, ...(kid ? { kid } : {}), ...claims },
    nowSec,
  );
  sentTokens.push(t);
  return t;
}

const b64 = (x: unknown) => Buffer.from(JSON.stringify(x)).toString("base64url");
const nowSec = () => Math.floor(Date.now() / 1000);
const goodClaims = () => ({ iss: ISS, aud: AUD, sub: "mallory", iat: nowSec(), exp: nowSec() + 600, scope: SCOPES.join(" ") });

/** A gate the fake service waits on for pid HELD_PID, so tests can hold calls in flight. */
class Gate {
  entered = 0;
  private waiters: (() => void)[] = [];
  wait(signal: AbortSignal) {
    this.entered++;
    return new Promise<void>((resolve, reject) => {
      this.waiters.push(resolve);
      signal.addEventListener("abort", () => reject(signal.reason), { once: true });
    });
  }
  open() {
    for (const w of this.waiters.splice(0)) w();
  }
  async untilEntered(n: number) {
    for (let i = 0; i < 400 && this.entered < n; i++) await sleep(5);
    assert.equal(this.entered, n, "calls held by the fake service");
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function fakeService(gate: Gate): DiagnosticsServiceImplementation<AuthnContext> {
  const hold = async (pid: number, ctx: { signal: AbortSignal }) => {
    if (pid === HELD_PID) await gate.wait(ctx.signal);
  };
  async function* capture(pid: number, ctx: { signal: AbortSignal }) {
    await hold(pid, ctx);
    yield { payload: { $case: "metadata" as const, value: { pid, host: HOST } } };
    yield { payload: { $case: "chunk" as const, value: Buffer.from("capture-bytes") } };
  }
  return {
    listProcesses: async () => ({ host: HOST, scanned: 1 }),
    getProcess: async (req) => ({ process: { pid: req.pid }, threads: 3 }),
    getBuildInfo: async (req) => ({ pid: req.pid, exe: "/bin/x" }),
    async *stack(req, ctx) {
      await hold(req.pid, ctx);
      for (const chunk of STACK_CHUNKS) yield { chunk };
    },
    memStats: async () => ({ raw: "alloc: 1" }),
    stats: async () => ({ goroutines: 4 }),
    // The handler sees the principal authn added: the context types carry it down to the service.
    version: async (req, ctx) => {
      await hold(req.pid, ctx);
      return { goVersion: `go1.19.8 for ${ctx.principal.subject}` };
    },
    forceGC: async () => ({}),
    setGCPercent: async (req) => ({ previous: 100, current: req.percent }),
    streamProfile: (req, ctx) => capture(req.pid, ctx),
    streamTrace: (req, ctx) => capture(req.pid, ctx),
    streamBinary: (req, ctx) => capture(req.pid, ctx),
    async *watchStats() {
      yield { host: HOST, seq: 1 };
    },
    listCaptures: async () => ({ host: HOST, captures: [] }),
    async *getCapture(req) {
      yield { payload: { $case: "info" as const, value: { id: req.id, host: HOST } } };
    },
    deleteCapture: async () => ({}),
  };
}

interface TestServer {
  client: ReturnType<typeof createClient<typeof DiagnosticsServiceDefinition>>;
  channel: Channel;
  address: string;
  auditPath: string;
  gate: Gate;
  audit(): Promise<AuditRecord[]>;
  /** Waits for the audit line of the call just made (the sink writes asynchronously) and returns it. */
  nextAudit(): Promise<AuditRecord>;
  /** The same for `n` calls that end together. */
  nextAudits(n: number): Promise<AuditRecord[]>;
  close(): Promise<void>;
}

async function startServer(name: string, limits: LimitsConfig): Promise<TestServer> {
  const verifier = await loadVerifier({
    algorithms: ["HS256", "RS256", "ES256"],
    hsSecretFile: `hs:${join(dir, "hs.secret")}`,
    publicKeyFiles: [join(dir, "rsa-a.pem"), `rsa-b:${join(dir, "second-rsa.pem")}`, join(dir, "ec.pem")],
    jwksFile: join(dir, "jwks.json"),
    issuer: ISS,
    audience: AUD,
    maxLifetimeSec: 3600,
    clockToleranceSec: 30,
  });
  const auditPath = join(dir, `${name}-audit.log`);
  // A pre-existing log with a wide mode must be narrowed to 0600.
  await writeFile(auditPath, "", { mode: 0o644 });
  await chmod(auditPath, 0o644);
  const sink = await openAuditFile(auditPath, { onError: (e) => assert.fail(e) });
  const gate = new Gate();
  const server = createServer()
    .use(errorMiddleware((m, e) => assert.fail(`unexpected INTERNAL in ${m}: ${String(e)}`)))
    .use(auditMiddleware({ hostName: HOST, sink }))
    .use(authnMiddleware(verifier))
    .use(limitsMiddleware(createLimiter(limits)))
    .use(authzMiddleware({ hostName: HOST }));
  server.add(DiagnosticsServiceDefinition, fakeService(gate));
  server.add(HealthDefinition, HealthServiceImpl());
  // gopsd's own reflection service (loaded at its first call), asked below with the package's client definition.
  const descriptorSet = await readFile(new URL("../../proto/gen/gops.binpb", import.meta.url));
  server.add(LazyServerReflectionService, lazyServerReflection(() => descriptorSet, [DiagnosticsServiceDefinition.fullName]));
  const port = await server.listen("127.0.0.1:0");
  const address = `127.0.0.1:${port}`;
  const channel = createChannel(address);
  const client = createClient(DiagnosticsServiceDefinition, channel);
  let seen = 0;
  const audit = async () =>
    (await readFile(auditPath, "utf8"))
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as AuditRecord);
  const nextAudits = async (n: number) => {
    for (let i = 0; i < 400; i++) {
      const lines = await audit();
      if (lines.length >= seen + n) {
        assert.equal(lines.length, seen + n, "exactly one audit line per call");
        seen = lines.length;
        return lines.slice(-n);
      }
      await sleep(5);
    }
    throw new Error("the audit lines were not written");
  };
  return {
    client,
    channel,
    address,
    auditPath,
    gate,
    audit,
    async nextAudit() {
      return (await nextAudits(1))[0]!;
    },
    nextAudits,
    async close() {
      channel.close();
      server.forceShutdown();
      await sink.close();
    },
  };
}

const bearer = (t: string) => ({ metadata: Metadata({ authorization: `Bearer ${t}` }) });

async function refused(p: Promise<unknown>, code: Status, details: RegExp) {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof ClientError, `expected a ClientError, got ${String(e)}`);
    assert.equal(Status[e.code], Status[code], e.details);
    assert.match(e.details, details);
    return true;
  });
}

async function drain<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

const ALL_LIMITS: LimitsConfig = { ratePerSec: 1000, burst: 1000, maxConcurrentPerSubject: 2, maxConcurrentStreams: 3, maxWatchStreams: 3, maxWatchStreamsPerSubject: 2 };

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "gopsd-auth-"));
  const pem = (k: KeyObject) => k.export({ type: "spki", format: "pem" }).toString();
  const hs = randomBytes(32);
  await writeFile(join(dir, "hs.secret"), hs, { mode: 0o600 });
  keys.hs = { alg: "HS256", key: signingKey(hs, "HS256", "hs") };
  keys["hs-other"] = { alg: "HS256", key: signingKey(randomBytes(32), "HS256", "other") };
  const files: Record<string, string> = { "rsa-a": "rsa-a.pem", "rsa-b": "second-rsa.pem", ec: "ec.pem" };
  for (const [kid, file] of Object.entries(files)) {
    const pair =
      kid === "ec"
        ? generateKeyPairSync("ec", { namedCurve: "P-256" })
        : generateKeyPairSync("rsa", { modulusLength: 2048 });
    keys[kid] = { alg: kid === "ec" ? "ES256" : "RS256", key: pair.privateKey, publicPem: pem(pair.publicKey) };
    await writeFile(join(dir, file), pem(pair.publicKey));
  }
  const jwks = [];
  for (const [kid, type] of [["jwks-rsa", "rsa"], ["jwks-ec", "ec"]] as const) {
    const pair =
      type === "ec" ? generateKeyPairSync("ec", { namedCurve: "P-256" }) : generateKeyPairSync("rsa", { modulusLength: 2048 });
    keys[kid] = { alg: type === "ec" ? "ES256" : "RS256", key: pair.privateKey };
    jwks.push({ ...pair.publicKey.export({ format: "jwk" }), kid, use: "sig" });
  }
  await writeFile(join(dir, "jwks.json"), JSON.stringify({ keys: jwks }));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("security chain on a real server", () => {
  let s: TestServer;
  before(async () => {
    s = await startServer("main", ALL_LIMITS);
  });
  after(async () => {
    await s.close();
  });

  const badTokens: [string, () => string | undefined, Status, RegExp][] = [
    ["no token", () => undefined, Status.UNAUTHENTICATED, /^no bearer token/],
    ["malformed", () => "abc.def", Status.UNAUTHENTICATED, /^token malformed$/],
    ["bad signature", () => token("hs", {}, "hs-other"), Status.UNAUTHENTICATED, /^token signature invalid$/],
    ["expired", () => token("hs", {}, "hs", nowSec() - 700), Status.UNAUTHENTICATED, /^token expired$/],
    ["nbf in the future", () => token("hs", { notBeforeSec: 300 }), Status.UNAUTHENTICATED, /^token not yet valid/],
    ["wrong issuer", () => token("hs", { issuer: "https://evil.test" }), Status.UNAUTHENTICATED, /^token issuer mismatch$/],
    ["wrong audience", () => token("hs", { audience: "other" }), Status.UNAUTHENTICATED, /^token audience mismatch$/],
    [
      "alg none",
      () => `${b64({ alg: "none", typ: "JWT" })}.${b64(goodClaims())}.`,
      Status.UNAUTHENTICATED,
      /^token algorithm none is not accepted$/,
    ],
    [
      "HS256 signed with the RS256 public key PEM (algorithm confusion, kid of the RSA key)",
      () => confused("rsa-a"),
      Status.UNAUTHENTICATED,
      /^token algorithm does not match its key$/,
    ],
    [
      "HS256 signed with the RS256 public key PEM (algorithm confusion, no kid)",
      () => confused(undefined),
      Status.UNAUTHENTICATED,
      /^token signature invalid$/,
    ],
    ["unknown kid", () => token("rsa-z", {}, "rsa-a"), Status.UNAUTHENTICATED, /^token key id \(kid\) unknown$/],
    [
      "no kid while several RS256 keys exist",
      () => token(undefined, {}, "rsa-a"),
      Status.UNAUTHENTICATED,
      /^token has no key id \(kid\) and several keys/,
    ],
    ["right kid, other key's signature", () => token("rsa-b", {}, "rsa-a"), Status.UNAUTHENTICATED, /^token signature invalid$/],
    ["lifetime above the max", () => token("hs", { ttlSec: 7200 }), Status.UNAUTHENTICATED, /^token lifetime exceeds 3600s$/],
    ["another host", () => token("hs", { hosts: ["web-1", "db-*"] }), Status.PERMISSION_DENIED, /^token is not valid for host web-3$/],
    ["no read scope", () => token("hs", { scopes: SCOPES.filter((x) => x !== "gops:read") }), Status.PERMISSION_DENIED, /^token lacks scope gops:read$/],
  ];

  function confused(kid: string | undefined) {
    const header = b64({ alg: "HS256", typ: "JWT", ...(kid ? { kid } : {}) });
    const body = `${header}.${b64(goodClaims())}`;
    const t = `${body}.${createHmac("sha256", keys["rsa-a"]!.publicPem!).update(body).digest("base64url")}`;
    sentTokens.push(t);
    return t;
  }

  for (const [name, make, code, details] of badTokens) {
    it(`refuses: ${name}, and audits it`, async () => {
      const t = make();
      await refused(s.client.listProcesses({}, t === undefined ? {} : bearer(t)), code, details);
      const line = await s.nextAudit();
      assert.equal(line.outcome, Status[code]);
      assert.equal(line.method, "/gops.v1.DiagnosticsService/ListProcesses");
      assert.match(line.error ?? "", details);
      assert.match(line.peer, /127\.0\.0\.1/);
      // Subject is known only once the token verified (PERMISSION_DENIED), never from an unverified token.
      assert.equal(line.subject, code === Status.UNAUTHENTICATED ? null : "alice");
    });
  }

  it("refuses a bearer header that is not 'Bearer <jwt>'", async () => {
    await refused(
      s.client.version({ pid: 1 }, { metadata: Metadata({ authorization: "Basic dXNlcjpwdw==" }) }),
      Status.UNAUTHENTICATED,
      /not 'Bearer <jwt>'/,
    );
    assert.equal((await s.nextAudit()).outcome, "UNAUTHENTICATED");
  });

  type Call = (t: string, pid: number) => Promise<unknown>;
  // gops:metrics guards the metrics port (HTTP), not an RPC: server/metrics tests it.
  const calls: Record<Exclude<Scope, "gops:metrics">, [string, Call][]> = {
    "gops:read": [
      ["ListProcesses", (t) => s.client.listProcesses({}, bearer(t))],
      ["GetProcess", (t, pid) => s.client.getProcess({ pid }, bearer(t))],
      ["GetBuildInfo", (t, pid) => s.client.getBuildInfo({ pid }, bearer(t))],
      ["Version", (t, pid) => s.client.version({ pid }, bearer(t))],
      ["Stats", (t, pid) => s.client.stats({ pid }, bearer(t))],
      ["MemStats", (t, pid) => s.client.memStats({ pid }, bearer(t))],
      ["WatchStats", (t) => drain(s.client.watchStats({}, bearer(t)))],
    ],
    "gops:stack": [["Stack", (t, pid) => drain(s.client.stack({ pid }, bearer(t)))]],
    "gops:profile": [
      ["StreamProfile", (t, pid) => drain(s.client.streamProfile({ pid }, bearer(t)))],
      ["StreamTrace", (t, pid) => drain(s.client.streamTrace({ pid }, bearer(t)))],
    ],
    "gops:write": [
      ["ForceGC", (t, pid) => s.client.forceGC({ pid }, bearer(t))],
      ["SetGCPercent", (t, pid) => s.client.setGCPercent({ pid, percent: 50 }, bearer(t))],
    ],
    "gops:binary": [["StreamBinary", (t, pid) => drain(s.client.streamBinary({ pid }, bearer(t)))]],
    "gops:captures": [
      ["ListCaptures", (t) => s.client.listCaptures({}, bearer(t))],
      ["GetCapture", (t) => drain(s.client.getCapture({ id: "20261207T212500Z-1-abcdef" }, bearer(t)))],
      ["DeleteCapture", (t) => s.client.deleteCapture({ id: "20261207T212500Z-1-abcdef" }, bearer(t))],
    ],
  };

  for (const scope of Object.keys(calls) as Array<keyof typeof calls>) {
    it(`scope ${scope}: allows its RPCs with only that scope, and refuses them without it`, async () => {
      const only = token("hs", { scopes: [scope], subject: `only-${scope}` });
      const allBut = token("hs", { scopes: SCOPES.filter((x) => x !== scope) });
      for (const [method, call] of calls[scope]) {
        await call(only, 42);
        const ok = await s.nextAudit();
        assert.equal(ok.outcome, "OK", method);
        assert.equal(ok.method, `/gops.v1.DiagnosticsService/${method}`);
        assert.equal(ok.subject, `only-${scope}`);
        assert.match(ok.jti ?? "", /^[0-9a-f-]{36}$/);
        assert.equal(ok.pid, method === "ListProcesses" || method === "WatchStats" || scope === "gops:captures" ? null : 42);
        assert.equal(ok.host, HOST);

        await refused(call(allBut, 42), Status.PERMISSION_DENIED, new RegExp(`^token lacks scope ${scope}$`));
        const denied = await s.nextAudit();
        assert.equal(denied.outcome, "PERMISSION_DENIED");
        assert.equal(denied.error, `token lacks scope ${scope}`);
        assert.equal(denied.reason, "SCOPE_MISSING");
        assert.equal(ok.reason, undefined);
      }
    });
  }

  it("passes the principal to the handler and audits response bytes", async () => {
    const res = await s.client.version({ pid: 7 }, bearer(token("hs", { subject: "bob" })));
    assert.equal(res.goVersion, "go1.19.8 for bob");
    const line = await s.nextAudit();
    assert.equal(line.bytes, VersionResponse.encode(res).finish().length);
    assert.ok(line.durationMs >= 0);
    assert.ok(!Number.isNaN(Date.parse(line.time)));
    await drain(s.client.stack({ pid: 7 }, bearer(token("hs"))));
    assert.equal((await s.nextAudit()).bytes, STACK_CHUNKS.reduce((n, c) => n + c.length, 0));
  });

  it("accepts hosts globs that match", async () => {
    await s.client.listProcesses({}, bearer(token("hs", { hosts: ["db-1", "web-*"] })));
    assert.equal((await s.nextAudit()).outcome, "OK");
    await s.client.listProcesses({}, bearer(token("hs", { hosts: ["WEB-?"] })));
    assert.equal((await s.nextAudit()).outcome, "OK");
  });

  it("verifies RS256, ES256 and JWKS keys, and HS256 without kid when it has one key", async () => {
    for (const kid of ["rsa-a", "rsa-b", "ec", "jwks-rsa", "jwks-ec"]) {
      const res = await s.client.version({ pid: 1 }, bearer(token(kid, { subject: `via-${kid}` })));
      assert.equal(res.goVersion, `go1.19.8 for via-${kid}`);
      assert.equal((await s.nextAudit()).subject, `via-${kid}`);
    }
    await s.client.version({ pid: 1 }, bearer(token(undefined, {}, "hs")));
    assert.equal((await s.nextAudit()).outcome, "OK");
  });

  it("rotation: the kid picks the key, old and new keys both verify, each only its own tokens", async () => {
    await s.client.listProcesses({}, bearer(token("rsa-a")));
    assert.equal((await s.nextAudit()).outcome, "OK");
    await s.client.listProcesses({}, bearer(token("rsa-b")));
    assert.equal((await s.nextAudit()).outcome, "OK");
    await refused(s.client.listProcesses({}, bearer(token("rsa-a", {}, "rsa-b"))), Status.UNAUTHENTICATED, /signature invalid/);
    assert.equal((await s.nextAudit()).outcome, "UNAUTHENTICATED");
  });

  it("health needs no token; reflection needs a valid token with any scope", async () => {
    const health = createClient(HealthDefinition, s.channel);
    assert.equal((await health.check({ service: "" })).status, 1 /* SERVING */);
    const h = await s.nextAudit();
    assert.equal(h.outcome, "OK");
    assert.equal(h.subject, null);

    const reflection = createClient(ServerReflectionService, s.channel);
    const listServices = async function* () {
      const req = new ServerReflectionRequest();
      req.setListServices("*");
      yield req;
    };
    await refused(drain(reflection.serverReflectionInfo(listServices())), Status.UNAUTHENTICATED, /no bearer token/);
    assert.equal((await s.nextAudit()).outcome, "UNAUTHENTICATED");
    const answers = await drain(reflection.serverReflectionInfo(listServices(), bearer(token("hs", { scopes: [] }))));
    const names = answers[0]!.getListServicesResponse()!.getServiceList().map((x) => x.getName());
    assert.ok(names.includes(DiagnosticsServiceDefinition.fullName));
    const r = await s.nextAudit();
    assert.equal(r.outcome, "OK");
    assert.equal(r.bytes, null);
  });

  it("caps concurrent calls per subject and streams server-wide; cancelled streams free their slots", async () => {
    const ac = new AbortController();
    const hold = (sub: string) =>
      drain(s.client.stack({ pid: HELD_PID }, { ...bearer(token("hs", { subject: sub })), signal: ac.signal }));
    const held = [hold("carol"), hold("carol")];
    await s.gate.untilEntered(2);
    await refused(
      s.client.version({ pid: 1 }, bearer(token("hs", { subject: "carol" }))),
      Status.RESOURCE_EXHAUSTED,
      /^too many concurrent calls for carol \(limit 2\); retry when one has finished$/,
    );
    assert.equal((await s.nextAudit()).outcome, "RESOURCE_EXHAUSTED");
    held.push(hold("dave"));
    await s.gate.untilEntered(3);
    await refused(
      drain(s.client.stack({ pid: 1 }, bearer(token("hs", { subject: "erin" })))),
      Status.RESOURCE_EXHAUSTED,
      /^server is at its limit of 3 concurrent streams; retry later$/,
    );
    assert.equal((await s.nextAudit()).outcome, "RESOURCE_EXHAUSTED");
    await s.client.version({ pid: 1 }, bearer(token("hs", { subject: "erin" })));
    assert.equal((await s.nextAudit()).outcome, "OK");

    ac.abort();
    const settled = await Promise.allSettled(held);
    assert.ok(settled.every((r) => r.status === "rejected"));
    const cancelled = await s.nextAudits(3);
    assert.deepEqual(cancelled.map((l) => l.outcome), ["CANCELLED", "CANCELLED", "CANCELLED"]);
    assert.deepEqual(cancelled.map((l) => l.subject).sort(), ["carol", "carol", "dave"]);
    await drain(s.client.stack({ pid: 1 }, bearer(token("hs", { subject: "carol" }))));
    await drain(s.client.stack({ pid: 1 }, bearer(token("hs", { subject: "erin" }))));
    assert.deepEqual((await s.nextAudits(2)).map((l) => l.outcome), ["OK", "OK"]);
  });

  it("writes the audit log with mode 0600 and never a token or signature", async () => {
    assert.equal((await stat(s.auditPath)).mode & 0o777, 0o600);
    const text = await readFile(s.auditPath, "utf8");
    assert.ok(sentTokens.length > 30);
    for (const t of sentTokens) {
      const [header, payload, signature] = t.split(".");
      assert.ok(!text.includes(t), "token in the audit log");
      if (signature) assert.ok(!text.includes(signature), "signature in the audit log");
      assert.ok(!text.includes(`${header}.${payload}`), "signed part in the audit log");
      assert.ok(!text.includes(payload!), "payload in the audit log");
    }
    assert.ok(!/Bearer +[A-Za-z0-9_-]+\./.test(text), "a bearer credential in the audit log");
  });
});

describe("rate limit on a real server", () => {
  let s: TestServer;
  before(async () => {
    s = await startServer("rate", { ratePerSec: 5, burst: 2, maxConcurrentPerSubject: 8, maxConcurrentStreams: 8, maxWatchStreams: 8, maxWatchStreamsPerSubject: 8 });
  });
  after(async () => {
    await s.close();
  });

  it("trips after the burst, names the wait, spares other subjects and recovers", async () => {
    const t = token("hs", { subject: "rl-user" });
    const outcomes = [];
    await s.client.listProcesses({}, bearer(t));
    outcomes.push((await s.nextAudit()).outcome);
    await s.client.listProcesses({}, bearer(t));
    outcomes.push((await s.nextAudit()).outcome);
    await refused(s.client.listProcesses({}, bearer(t)), Status.RESOURCE_EXHAUSTED, /^rate limit exceeded for rl-user; retry in 0\.[12]s$/);
    outcomes.push((await s.nextAudit()).outcome);
    await s.client.listProcesses({}, bearer(token("hs", { subject: "someone-else" })));
    outcomes.push((await s.nextAudit()).outcome);
    await sleep(220); // one token at 5/s
    await s.client.listProcesses({}, bearer(t));
    outcomes.push((await s.nextAudit()).outcome);
    assert.deepEqual(outcomes, ["OK", "OK", "RESOURCE_EXHAUSTED", "OK", "OK"]);
  });
});
