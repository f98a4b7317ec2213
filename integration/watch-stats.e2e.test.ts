// WatchStats through a real gopsd against real Go fixtures: one sampler however many watchers (the fixture agent
// logs every accepted connection: two watchers cost what one does), processes leave the stream when they exit, a
// stopped (SIGSTOP) agent's fields go stale without holding up the others, a CPU profile makes a sample report
// stale rather than queue behind it, when the last watcher cancels gopsd stops sampling, and a process serving
// net/http/pprof is read through its endpoint.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { connect, type DiagnosticsHandle } from "../client/index.js";
import { AgentKind, ProfileKind, type WatchStatsResponse } from "../proto/index.js";
import { startFixture, startGopsd, type Fixture, type Gopsd } from "./harness.js";

const INTERVAL_MS = 500;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const accepts = (f: Fixture) => f.stderr().split("\n").filter((l) => l.startsWith("fixture: accept ")).length;

/** Reads samples until `done` holds for one (at most `max` samples); returns the samples read. */
async function readUntil(it: AsyncIterator<WatchStatsResponse>, done: (s: WatchStatsResponse) => boolean, max = 30): Promise<WatchStatsResponse[]> {
  const seen: WatchStatsResponse[] = [];
  for (let i = 0; i < max; i++) {
    const r = await it.next();
    assert.equal(r.done, false, "the stream ended");
    seen.push(r.value);
    if (done(r.value)) return seen;
  }
  assert.fail(`condition not met within ${max} samples; last: ${JSON.stringify(seen.at(-1))}`);
}

describe("WatchStats through gopsd", { timeout: 180_000 }, () => {
  let gopsd: Gopsd;
  let client: DiagnosticsHandle;
  const fixtures: Fixture[] = [];

  before(async () => {
    gopsd = await startGopsd({ args: ["--host-name", "watch-1"] });
    client = connect(gopsd.address);
  });

  after(async () => {
    client?.close();
    await Promise.all(fixtures.map((f) => f.stop()));
    await gopsd?.stop();
  });

  const fixture = async (args: string[] = [], env: Record<string, string> = {}) => {
    const f = await startFixture("agentprog", { args: ["-log-accepts", ...args], env });
    fixtures.push(f);
    return f;
  };

  it("two watchers of one host cost one read per process per interval; cancelling both stops the sampler", async () => {
    const fx = await fixture(["-goroutines", "6"]);
    const a = new AbortController();
    const b = new AbortController();
    const ia = client.watchStats({ intervalMs: INTERVAL_MS, pids: [fx.pid] }, { signal: a.signal })[Symbol.asyncIterator]();
    const ib = client.watchStats({ intervalMs: INTERVAL_MS, pids: [fx.pid] }, { signal: b.signal })[Symbol.asyncIterator]();
    // Both calls start now (a client stream starts at its first read) and are read side by side.
    const [sa, sb] = await Promise.all([readUntil(ia, (s) => s.seq >= 8), readUntil(ib, (s) => s.seq >= 8)]);
    const counted = accepts(fx);
    for (const s of [...sa, ...sb]) {
      assert.equal(s.host, "watch-1");
      assert.equal(s.intervalMs, INTERVAL_MS);
      assert.deepEqual(s.processes.map((p) => p.pid), [fx.pid]);
    }
    const p = sa.at(-1)!.processes[0]!;
    assert.equal(p.goroutines >= 7, true, `goroutines ${p.goroutines}`);
    assert.deepEqual(p.staleFields, []);
    assert.deepEqual(p.unknownFields, []);
    assert.equal(p.modulePath, "gopsctl.test/fixtures");
    assert.equal(p.gogc, 100);
    assert.ok(p.threads > 0 && p.rssBytes > 0 && p.gomaxprocs > 0);
    // Each round reads the agent twice (stats + memstats), and every sample was fresh: at least 2 connections per
    // round. One sampler for both watchers: about 2 per round (a sampler per watcher would make 4). The bound
    // leaves room for a round under way and for other programs on the machine that ask every agent (ps --sort).
    const rounds = Math.max(sa.at(-1)!.seq, sb.at(-1)!.seq);
    assert.ok(counted >= 2 * rounds, `${counted} connections for ${rounds} rounds`);
    assert.ok(counted <= 3 * rounds, `${counted} connections for ${rounds} rounds: the watchers were sampled separately`);

    a.abort();
    b.abort();
    await Promise.allSettled([ia.next(), ib.next()]);
    await sleep(3 * INTERVAL_MS); // a round under way at the cancel may still finish
    const settled = accepts(fx);
    await sleep(8 * INTERVAL_MS);
    // A live sampler would have made 16 connections by now; allow a stray outside one.
    assert.ok(accepts(fx) - settled <= 2, `${accepts(fx) - settled} agent connections after the last watcher left`);
  });

  it("a process that exits leaves the stream; one that starts joins it", async () => {
    const stay = await fixture();
    const go = await fixture();
    const ctl = new AbortController();
    const it = client.watchStats({ intervalMs: INTERVAL_MS, pids: [stay.pid, go.pid] }, { signal: ctl.signal })[Symbol.asyncIterator]();
    await readUntil(it, (s) => s.processes.length === 2);
    await go.stop();
    const after = await readUntil(it, (s) => !s.processes.some((p) => p.pid === go.pid));
    assert.deepEqual(after.at(-1)!.processes.map((p) => p.pid), [stay.pid]);
    ctl.abort();
    await it.next().catch(() => undefined);

    // Without pids: every Go process, including one started after the watch began.
    const all = new AbortController();
    const ia = client.watchStats({ intervalMs: INTERVAL_MS }, { signal: all.signal })[Symbol.asyncIterator]();
    await readUntil(ia, (s) => s.processes.some((p) => p.pid === stay.pid));
    const late = await fixture();
    await readUntil(ia, (s) => s.processes.some((p) => p.pid === late.pid));
    all.abort();
    await ia.next().catch(() => undefined);
  });

  it("a stopped agent is reported stale without holding up the other processes", async () => {
    const ok = await fixture(["-goroutines", "3"]);
    const hung = await fixture(["-goroutines", "9"]);
    const ctl = new AbortController();
    const it = client.watchStats({ intervalMs: INTERVAL_MS, pids: [ok.pid, hung.pid] }, { signal: ctl.signal })[Symbol.asyncIterator]();
    const fresh = (s: WatchStatsResponse, pid: number) => s.processes.find((p) => p.pid === pid)?.staleFields.length === 0;
    await readUntil(it, (s) => fresh(s, ok.pid) && fresh(s, hung.pid));
    process.kill(hung.pid, "SIGSTOP");
    try {
      const seen = await readUntil(it, (s) => s.processes.find((p) => p.pid === hung.pid)!.staleFields.includes("goroutines"));
      const last = seen.at(-1)!;
      const h = last.processes.find((p) => p.pid === hung.pid)!;
      assert.equal(h.goroutines >= 10, true, "the last known value is kept");
      assert.match(h.detail, /no answer within|previous read/);
      // The other process is still read every round, and rounds keep coming.
      const more = await readUntil(it, () => true);
      const next = await readUntil(it, () => true);
      assert.equal(next[0]!.seq, more[0]!.seq + 1);
      for (const s of [last, ...more, ...next]) assert.ok(fresh(s, ok.pid), JSON.stringify(s.processes));
    } finally {
      process.kill(hung.pid, "SIGCONT");
    }
    await readUntil(it, (s) => fresh(s, hung.pid));
    ctl.abort();
    await it.next().catch(() => undefined);
  });

  it("a sample does not queue behind a CPU profile: the agent fields are stale, /proc fields fresh", async () => {
    const fx = await fixture([], { FIXTURE_CPU_PROFILE_SECONDS: "4" });
    const ctl = new AbortController();
    const it = client.watchStats({ intervalMs: INTERVAL_MS, pids: [fx.pid] }, { signal: ctl.signal })[Symbol.asyncIterator]();
    await readUntil(it, (s) => s.processes[0]?.staleFields.length === 0);
    const profile = (async () => {
      for await (const m of client.streamProfile({ pid: fx.pid, kind: ProfileKind.PROFILE_KIND_CPU })) void m;
    })();
    const seen = await readUntil(it, (s) => /CPU profile/.test(s.processes[0]?.detail ?? ""));
    const p = seen.at(-1)!.processes[0]!;
    assert.ok(p.staleFields.includes("goroutines") && p.staleFields.includes("heap_in_use_bytes"));
    assert.ok(!p.staleFields.includes("rss_bytes") && p.rssBytes > 0);
    await profile;
    await readUntil(it, (s) => s.processes[0]?.staleFields.length === 0);
    ctl.abort();
    await it.next().catch(() => undefined);
  });

  it("a process serving net/http/pprof (found by a probe) is read through its endpoint; what it cannot tell is unknown", async () => {
    const http = await startFixture("httpprog", { args: ["-listen", "127.0.0.1:0"] });
    fixtures.push(http);
    const listed = await client.listProcesses({ probe: true });
    assert.equal(listed.processes.find((p) => p.pid === http.pid)?.agent?.kind, AgentKind.AGENT_KIND_HTTP_PPROF);
    const ctl = new AbortController();
    const it = client.watchStats({ intervalMs: INTERVAL_MS, pids: [http.pid] }, { signal: ctl.signal })[Symbol.asyncIterator]();
    const seen = await readUntil(it, (s) => s.processes[0] !== undefined && !s.processes[0].unknownFields.includes("cpu_percent"));
    const p = seen.at(-1)!.processes[0]!;
    assert.equal(p.backend, AgentKind.AGENT_KIND_HTTP_PPROF);
    assert.ok(p.goroutines > 0 && p.heapInUseBytes > 0, JSON.stringify(p));
    assert.ok(p.unknownFields.includes("gomaxprocs"), "net/http/pprof does not tell GOMAXPROCS");
    assert.deepEqual(p.staleFields, []);
    ctl.abort();
    await it.next().catch(() => undefined);
  });
});
