// The audit log under floods: aggregation of refusals, the per-address limiter of unauthenticated work, bounded
// lines, and the start line that is on record before the service runs. Pure parts with a fake clock; the chain on
// a real nice-grpc server (loopback).
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it, mock } from "node:test";
import { ClientError, Metadata, Status, createChannel, createClient, createServer, type Channel } from "nice-grpc";
import { HealthDefinition, HealthServiceImpl } from "nice-grpc-server-health";
import { DiagnosticsServiceDefinition } from "../../proto/index.js";
import { errorMiddleware } from "../error-middleware.js";
import { MAX_AUDIT_FIELD, formatAuditLine, openAuditFile, type AuditRecord, type AuditSink } from "./audit.js";
import { auditAdmitMiddleware, auditMiddleware } from "./audit-middleware.js";
import { authnMiddleware } from "./authn-middleware.js";
import { authzMiddleware } from "./authz-middleware.js";
import { OVERFLOW_PEER_KEY, createLimiter, createPeerLimiter } from "./limits.js";
import { limitsMiddleware } from "./limits-middleware.js";
import { OVERFLOW_PEER, createRefusalLog, peerAddress } from "./refusals.js";
import { SCOPES, signToken, signingKey } from "../../common/token.js";
import { createVerifier, secretKey } from "./verifier.js";

const record = (over: Partial<AuditRecord> = {}): AuditRecord => ({
  time: "2026-01-01T00:00:00.000Z",
  host: "h",
  subject: null,
  jti: null,
  peer: "127.0.0.9:4000",
  certSubject: null,
  method: "/gops.v1.DiagnosticsService/ListProcesses",
  pid: null,
  outcome: "UNAUTHENTICATED",
  error: "token malformed",
  bytes: 0,
  durationMs: 0.1,
  ...over,
});

function memorySink(): AuditSink & { lines: AuditRecord[] } {
  const lines: AuditRecord[] = [];
  return { lines, write: (r) => void lines.push(r), close: async () => {} };
}

describe("refusal aggregation", () => {
  it("writes the first refusal of a group at once and one summary per window for the rest", () => {
    let now = 0;
    const sink = memorySink();
    const log = createRefusalLog(sink, { nowMs: () => now, timer: false, wholePerWindow: 1 });
    for (let i = 0; i < 1000; i++) log.refused(record({ peer: `127.0.0.9:${4000 + (i % 7)}` }));
    assert.equal(sink.lines.length, 1, "only the first is written during the window");
    now = 999;
    log.flush();
    assert.equal(sink.lines.length, 1, "the window has not ended");
    now = 1000;
    log.flush();
    assert.equal(sink.lines.length, 2);
    const s = sink.lines[1]!;
    assert.equal(s.count, 999);
    assert.equal(s.peer, "127.0.0.9");
    assert.equal(s.error, "refused 999 calls from 127.0.0.9: UNAUTHENTICATED token malformed");
    assert.equal(s.outcome, "UNAUTHENTICATED");
    // A window without refusals forgets the group: the next refusal is written whole again.
    now = 2000;
    log.flush();
    assert.equal(log.size(), 0);
    log.refused(record());
    assert.equal(sink.lines.length, 3);
    assert.equal(sink.lines[2]!.count, undefined);
  });

  it("writes the first three of a group whole by default; a group still flooded stays summarised", () => {
    let now = 0;
    const sink = memorySink();
    const log = createRefusalLog(sink, { nowMs: () => now, timer: false });
    for (let i = 0; i < 10; i++) log.refused(record());
    assert.deepEqual(sink.lines.map((l) => l.count), [undefined, undefined, undefined]);
    now = 1000;
    log.flush();
    assert.equal(sink.lines.at(-1)!.count, 7);
    for (let i = 0; i < 10; i++) log.refused(record());
    now = 2000;
    log.flush();
    assert.deepEqual(sink.lines.slice(3).map((l) => l.count), [7, 10], "no whole lines while the flood goes on");
  });

  it("its timer writes a summary as the group's window ends, not a window later; then it sleeps", () => {
    mock.timers.enable({ apis: ["setTimeout", "setInterval"] });
    try {
      let now = 0;
      const sink = memorySink();
      const log = createRefusalLog(sink, { nowMs: () => now, wholePerWindow: 1 });
      // A group that starts 700 ms after the log was made (a fixed 1 s tick would miss its end by 700 ms).
      now = 700;
      mock.timers.tick(700);
      for (let i = 0; i < 5; i++) log.refused(record());
      now = 1699;
      mock.timers.tick(999);
      assert.equal(sink.lines.length, 1, "the window has not ended");
      now = 1700;
      mock.timers.tick(1);
      assert.deepEqual(sink.lines.map((l) => l.count), [undefined, 4], "the summary at the window's end");
      // The next (empty) window ends: the group is forgotten, and no timer is left armed.
      now = 2700;
      mock.timers.tick(1000);
      assert.equal(log.size(), 0);
      log.close();
    } finally {
      mock.timers.reset();
    }
  });

  it("loses no count: close() writes pending summaries, and a refusal after close() is written whole", () => {
    const now = 0;
    const sink = memorySink();
    const log = createRefusalLog(sink, { nowMs: () => now, timer: false, wholePerWindow: 1 });
    for (let i = 0; i < 10; i++) log.refused(record());
    log.close();
    log.refused(record({ outcome: "RESOURCE_EXHAUSTED" }));
    log.refused(record({ outcome: "RESOURCE_EXHAUSTED" }));
    assert.equal(sink.lines.reduce((n, l) => n + (l.count ?? 1), 0), 12);
    assert.equal(log.size(), 0);
  });

  it("groups by address, outcome, method, subject and reason (digits aside)", () => {
    let now = 0;
    const sink = memorySink();
    const log = createRefusalLog(sink, { nowMs: () => now, timer: false, wholePerWindow: 1 });
    log.refused(record());
    log.refused(record({ peer: "127.0.0.10:1" }));
    log.refused(record({ error: "token expired" }));
    log.refused(record({ method: "/grpc.health.v1.Health/Check" }));
    log.refused(record({ outcome: "RESOURCE_EXHAUSTED", error: "rate limit exceeded for a; retry in 0.1s", subject: "a" }));
    log.refused(record({ outcome: "RESOURCE_EXHAUSTED", error: "rate limit exceeded for a; retry in 0.4s", subject: "a" }));
    assert.equal(sink.lines.length, 5);
    now = 1000;
    log.close();
    assert.equal(sink.lines.length, 6);
    assert.equal(sink.lines[5]!.error, "refused 1 calls from 127.0.0.9: RESOURCE_EXHAUSTED rate limit exceeded for a; retry in 0.4s");
  });

  it("holds at most maxGroups groups: further addresses share one overflow group", () => {
    let now = 0;
    const sink = memorySink();
    const log = createRefusalLog(sink, { nowMs: () => now, timer: false, maxGroups: 16, wholePerWindow: 1 });
    for (let i = 0; i < 5000; i++) log.refused(record({ peer: `10.0.${i >> 8}.${i & 255}:1` }));
    assert.ok(log.size() <= 17, `${log.size()} groups`);
    assert.equal(sink.lines.length, 17);
    now = 1000;
    log.flush();
    const overflow = sink.lines.filter((l) => l.peer === OVERFLOW_PEER);
    assert.equal(overflow.length, 1);
    assert.equal(overflow[0]!.count, 5000 - 17);
    assert.match(overflow[0]!.error!, /^refused 4983 calls from \(other peers\): /);
  });

  it("finds the source address of gRPC peer strings", () => {
    assert.equal(peerAddress("127.0.0.1:53012"), "127.0.0.1");
    assert.equal(peerAddress("ipv4:127.0.0.1:53012"), "127.0.0.1");
    assert.equal(peerAddress("[::1]:5000"), "::1");
    assert.equal(peerAddress("ipv6:[::1]:5000"), "::1");
    assert.equal(peerAddress("::1:5000"), "::1");
    assert.equal(peerAddress("unknown"), "unknown");
  });
});

describe("per-address limiter of unauthenticated work", () => {
  it("allows a burst, then the rate, per address", () => {
    let now = 0;
    const l = createPeerLimiter({ ratePerSec: 10, burst: 3, maxPeers: 100 }, () => now);
    assert.deepEqual([1, 2, 3, 4].map(() => l.take("a")), [true, true, true, false]);
    assert.equal(l.allows("a"), false);
    assert.equal(l.take("b"), true, "another address has its own bucket");
    now = 100;
    assert.equal(l.allows("a"), true);
    assert.equal(l.take("a"), true);
    assert.equal(l.take("a"), false);
  });

  it("never tracks more than maxPeers + 1 buckets; full buckets are swept", () => {
    let now = 0;
    const l = createPeerLimiter({ ratePerSec: 1, burst: 2, maxPeers: 8 }, () => now);
    for (let i = 0; i < 10_000; i++) l.take(`10.1.${i >> 8}.${i & 255}`);
    assert.ok(l.trackedPeers() <= 9, `${l.trackedPeers()}`);
    // The overflow bucket is shared: addresses beyond the table are limited together.
    assert.equal(l.take("10.9.9.9"), false);
    assert.equal(l.allows(OVERFLOW_PEER_KEY), false);
    now = 10_000; // everything refilled: swept on the next new address
    assert.equal(l.take("10.9.9.9"), true);
    assert.ok(l.trackedPeers() <= 2);
  });
});

describe("audit lines are bounded", () => {
  it("cuts every string field to MAX_AUDIT_FIELD characters", () => {
    const long = "x".repeat(100_000);
    const line = formatAuditLine(record({ subject: long, jti: long, peer: long, certSubject: long, method: long, error: long }));
    assert.ok(line.length < 8 * MAX_AUDIT_FIELD + 400, `${line.length} bytes`);
    const back = JSON.parse(line) as AuditRecord;
    assert.equal(back.subject!.length, MAX_AUDIT_FIELD);
    assert.ok(back.subject!.endsWith("…"));
  });
});

describe("the chain on a real server: admitted calls, refusals, floods", () => {
  const ISS = "iss";
  const AUD = "aud";
  const secret = randomBytes(32);
  const key = signingKey(secret, "HS256", "test");
  const token = (subject = "alice") =>
    signToken(key, { alg: "HS256", kid: "k", issuer: ISS, audience: AUD, subject, scopes: [...SCOPES], ttlSec: 600 });
  let dir: string;
  let auditPath: string;
  let channel: Channel;
  let close: () => Promise<void>;
  let client: ReturnType<typeof createClient<typeof DiagnosticsServiceDefinition>>;
  let health: ReturnType<typeof createClient<typeof HealthDefinition>>;
  /** Audit lines the handler found in the file when it ran. */
  let seenByHandler: AuditRecord[] = [];
  const lines = async () =>
    (await readFile(auditPath, "utf8"))
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as AuditRecord);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "gopsd-audit-flood-"));
    auditPath = join(dir, "audit.log");
    await writeFile(auditPath, "", { mode: 0o600 });
    const sink = await openAuditFile(auditPath, { onError: (e) => assert.fail(e) });
    const refusals = createRefusalLog(sink, { windowMs: 200 });
    const verifier = createVerifier([secretKey(secret, "k", "test")], { algorithms: ["HS256"], issuer: ISS, audience: AUD });
    const server = createServer()
      .use(errorMiddleware((m, e) => assert.fail(`unexpected INTERNAL in ${m}: ${String(e)}`)))
      .use(auditMiddleware({ hostName: "h", sink, refusals }))
      .use(authnMiddleware(verifier, { peers: createPeerLimiter({ ratePerSec: 5, burst: 10, maxPeers: 64 }) }))
      .use(limitsMiddleware(createLimiter({ ratePerSec: 1000, burst: 1000, maxConcurrentPerSubject: 8, maxConcurrentStreams: 8, maxWatchStreams: 8, maxWatchStreamsPerSubject: 8 })))
      .use(authzMiddleware({ hostName: "h" }))
      .use(auditAdmitMiddleware());
    const unimplemented = async () => {
      throw new Error("not in this test");
    };
    server.add(DiagnosticsServiceDefinition, {
      listProcesses: async () => {
        // What a call that then kills the daemon leaves behind: read synchronously, as if nothing else could run.
        seenByHandler = readFileSync(auditPath, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as AuditRecord);
        return { processes: [] };
      },
      getProcess: unimplemented,
      getBuildInfo: unimplemented,
      version: unimplemented,
      stats: unimplemented,
      memStats: unimplemented,
      forceGC: unimplemented,
      setGCPercent: unimplemented,
      stack: async function* () {},
      streamProfile: async function* () {},
      streamTrace: async function* () {},
      streamBinary: async function* () {},
      watchStats: async function* () {},
      listCaptures: unimplemented,
      getCapture: async function* () {},
      deleteCapture: unimplemented,
    } as never);
    server.add(HealthDefinition, HealthServiceImpl());
    const port = await server.listen("127.0.0.1:0");
    channel = createChannel(`127.0.0.1:${port}`);
    client = createClient(DiagnosticsServiceDefinition, channel);
    health = createClient(HealthDefinition, channel);
    close = async () => {
      channel.close();
      server.forceShutdown();
      refusals.close();
      await sink.close();
    };
  });
  after(async () => {
    await close?.();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("writes the start line before the service runs, the outcome line after", async () => {
    await client.listProcesses({}, { metadata: Metadata({ authorization: `Bearer ${token()}` }) });
    const start = seenByHandler.at(-1)!;
    assert.equal(start.phase, "start");
    assert.equal(start.outcome, "STARTED");
    assert.equal(start.subject, "alice");
    const all = await lines();
    assert.deepEqual(all.slice(-2).map((l) => [l.phase, l.outcome]), [["start", "STARTED"], [undefined, "OK"]]);
  });

  it("meters unauthenticated calls per address: health still answers, bad tokens are throttled, lines aggregated", async () => {
    const before = (await lines()).length;
    const bad = { metadata: Metadata({ authorization: "Bearer not.a.token" }) };
    const healthCodes: Status[] = [];
    const badCodes: Status[] = [];
    const calls: Promise<unknown>[] = [];
    const t0 = performance.now();
    for (let i = 0; i < 400; i++) {
      const [p, into] = i % 2 === 0 ? [health.check({ service: "" }), healthCodes] : [client.listProcesses({}, bad), badCodes];
      calls.push(p.then(() => into.push(Status.OK), (e: ClientError) => into.push(e.code)));
    }
    await Promise.all(calls);
    assert.deepEqual(new Set(healthCodes), new Set([Status.OK]), "health answers over the budget too");
    // Not a timing check: the budget follows from however long the flood took (burst + rate x t).
    const budget = 10 + Math.ceil(((performance.now() - t0) / 1000) * 5) + 1;
    const throttled = badCodes.filter((c) => c === Status.RESOURCE_EXHAUSTED).length;
    assert.equal(throttled + badCodes.filter((c) => c === Status.UNAUTHENTICATED).length, 200);
    assert.ok(throttled >= 200 - budget, `${throttled} bad-token calls throttled`);
    // A valid token from the same address is never refused for its address.
    await client.listProcesses({}, { metadata: Metadata({ authorization: `Bearer ${token("bob")}` }) });
    await new Promise((r) => setTimeout(r, 500)); // the 200 ms windows close
    const flood = (await lines()).slice(before).filter((l) => l.subject !== "bob");
    assert.ok(flood.length <= budget + 4 * 3 * Math.ceil((performance.now() - t0) / 200), `${flood.length} lines for 400 calls`);
    assert.equal(flood.reduce((n, l) => n + (l.count ?? 1), 0), 400, "every call is accounted for: single lines plus summary counts");
    const summaries = flood.map((l) => l.error ?? "");
    assert.ok(summaries.some((e) => /^refused \d+ calls from 127\.0\.0\.1: RESOURCE_EXHAUSTED too many unauthenticated calls from 127\.0\.0\.1/.test(e)));
    assert.ok(summaries.some((e) => /^answered \d+ calls from 127\.0\.0\.1: OK$/.test(e)), "health over the budget is summarised");
    assert.ok(!flood.some((l) => l.phase === "start"), "refused calls have no start line");
  });
});
