import assert from "node:assert/strict";
import { test } from "node:test";
import { GopsError, Status } from "../../common/errors.js";
import { AgentKind, MemStats, type WatchStatsResponse } from "../../proto/index.js";
import { StatsHub, type RoundEntries, type StatsHubDeps } from "./hub.js";
import type { AgentReading, ProcReading } from "./sample.js";

const GOPS = AgentKind.AGENT_KIND_GOPS_AGENT;

function proc(pid: number, over: Partial<ProcReading> = {}): ProcReading {
  return {
    pid,
    starttime: pid * 10,
    name: `p${pid}`,
    modulePath: "example.com/app",
    backend: GOPS,
    cpuTicks: 0,
    rssBytes: 1 << 20,
    threads: 5,
    startTimeUnixMs: 1,
    gogcEnv: 100,
    gogcSet: undefined,
    ...over,
  };
}

/** A fake host: processes and their agents, counting reads per pid. */
class FakeHost {
  procs = new Map<number, ProcReading>();
  reads = new Map<number, number>();
  goroutines = new Map<number, number>();
  hung = new Set<number>();
  busy = new Map<number, string>();
  /** Reads of these pids take this long (ms). */
  slow = new Map<number, number>();
  /** Reads running now, the most at once, and the pids in the order their reads started. */
  running = 0;
  peak = 0;
  log: number[] = [];
  numGc = 0;
  deps(over: Partial<StatsHubDeps> = {}): StatsHubDeps {
    return {
      ...over,
      host: "h",
      clockTicks: 100,
      readTargets: (pids) => [...this.procs.values()].filter((p) => pids === undefined || pids.has(p.pid)).map((p) => ({ ...p })),
      readAgent: async (p, signal) => {
        this.reads.set(p.pid, (this.reads.get(p.pid) ?? 0) + 1);
        this.log.push(p.pid);
        this.peak = Math.max(this.peak, ++this.running);
        try {
          return await this.answer(p, signal);
        } finally {
          this.running--;
        }
      },
      captureBusy: (pid) => this.busy.get(pid),
    };
  }
  private answer(p: ProcReading, signal: AbortSignal): Promise<AgentReading> {
        if (this.hung.has(p.pid)) {
          return new Promise<AgentReading>((_, reject) => signal.addEventListener("abort", () => reject(new Error("cut")), { once: true }));
        }
        const delay = this.slow.get(p.pid);
        if (delay !== undefined) {
          return new Promise<AgentReading>((resolve, reject) => {
            const t = setTimeout(() => resolve(this.reading(p)), delay);
            signal.addEventListener("abort", () => (clearTimeout(t), reject(new Error("cut"))), { once: true });
          });
        }
        return Promise.resolve(this.reading(p));
  }
  private reading(p: ProcReading): AgentReading {
        return ({
          values: { goroutines: this.goroutines.get(p.pid) ?? 4, gomaxprocs: 2, heapInUseBytes: 1000, heapObjects: 10, numGc: this.numGc, gcPauseTotalNs: this.numGc * 1000, gcCpuFraction: 0.01, enableGc: true },
          unknown: [],
        });
  }
}

async function take(it: AsyncIterator<WatchStatsResponse>, n: number): Promise<WatchStatsResponse[]> {
  const out: WatchStatsResponse[] = [];
  for (let i = 0; i < n; i++) {
    const r = await it.next();
    assert.equal(r.done, false);
    out.push(r.value as WatchStatsResponse);
  }
  return out;
}

const until = async (cond: () => boolean) => {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond());
};

test("two watchers share one round: each process is read once per round, not once per watcher", async () => {
  const host = new FakeHost();
  host.procs.set(1, proc(1));
  host.procs.set(2, proc(2));
  const hub = new StatsHub(host.deps());
  const a = hub.watch({ intervalMs: 100 })[Symbol.asyncIterator]();
  const b = hub.watch({ intervalMs: 100 })[Symbol.asyncIterator]();
  const [sa, sb] = await Promise.all([take(a, 3), take(b, 3)]);
  assert.deepEqual(sa.map((s) => s.seq), [1, 2, 3]);
  assert.deepEqual(sb.at(-1)!.processes.map((p) => p.pid).sort(), [1, 2]);
  const { rounds, agentReads } = hub.state();
  assert.equal(agentReads, rounds * 2, "two processes, one read each per round");
  assert.equal(host.reads.get(1), rounds);
  await a.return!();
  assert.equal(hub.state().running, true, "one watcher left: still sampling");
  await b.return!();
  assert.equal(hub.state().subscribers, 0);
  await until(() => !hub.state().running);
  const after = hub.state().rounds;
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(hub.state().rounds, after, "no round after the last watcher left");
});

test("a watcher with a longer interval gets every other round; its deltas cover its own interval", async () => {
  const host = new FakeHost();
  host.procs.set(1, proc(1));
  const hub = new StatsHub(host.deps());
  const fast = hub.watch({ intervalMs: 100 })[Symbol.asyncIterator]();
  const slow = hub.watch({ intervalMs: 200 })[Symbol.asyncIterator]();
  const slowSamples = take(slow, 3);
  const fastSamples = await take(fast, 5);
  const s = await slowSamples;
  assert.ok(fastSamples.length === 5 && s.length === 3);
  assert.ok(hub.state().rounds >= 5, "the sampler runs at the shortest interval");
  // The first sample has no CPU base; the later ones do.
  assert.ok(s[0]!.processes[0]!.unknownFields.includes("cpu_percent"));
  assert.ok(!s[1]!.processes[0]!.unknownFields.includes("cpu_percent"));
  assert.equal(s[1]!.intervalMs, 200);
  await fast.return!();
  await slow.return!();
});

test("GC cycles and pause are deltas since the watcher's previous sample; CPU % from tick deltas", async () => {
  const host = new FakeHost();
  host.procs.set(1, proc(1));
  const hub = new StatsHub(host.deps());
  const it = hub.watch({ intervalMs: 100 })[Symbol.asyncIterator]();
  const [first] = await take(it, 1);
  assert.ok(first!.processes[0]!.unknownFields.includes("gc_cycles"));
  host.numGc = 3;
  host.procs.get(1)!.cpuTicks = 1_000_000; // far more than any interval could hold: CPU % is large
  const [second] = await take(it, 1);
  const p = second!.processes[0]!;
  assert.equal(p.gcCycles, 3);
  assert.equal(p.gcPauseNs, 3000);
  assert.equal(p.numGc, 3);
  assert.ok(p.cpuPercent > 100);
  assert.deepEqual(p.unknownFields, []);
  assert.equal(p.gogc, 100);
  assert.equal(p.gogcSource, "env");
  const [third] = await take(it, 1);
  assert.equal(third!.processes[0]!.gcCycles, 0);
  await it.return!();
});

test("a busy agent (capture running) is not read: its fields are stale with their last values; others stay fresh", async () => {
  const host = new FakeHost();
  host.procs.set(1, proc(1));
  host.procs.set(2, proc(2));
  host.goroutines.set(1, 7);
  const hub = new StatsHub(host.deps());
  const it = hub.watch({ intervalMs: 100 })[Symbol.asyncIterator]();
  await take(it, 1);
  const readsBefore = host.reads.get(1);
  host.busy.set(1, "a CPU profile is already running");
  const [s] = await take(it, 2).then((x) => x.slice(-1));
  const p1 = s!.processes.find((p) => p.pid === 1)!;
  const p2 = s!.processes.find((p) => p.pid === 2)!;
  assert.equal(host.reads.get(1), readsBefore, "no read queued behind the capture");
  assert.equal(p1.goroutines, 7, "last known value");
  assert.ok(p1.staleFields.includes("goroutines") && p1.staleFields.includes("heap_in_use_bytes"));
  assert.match(p1.detail, /CPU profile/);
  assert.deepEqual(p2.staleFields, []);
  await it.return!();
});

test("a hung agent marks its process stale and does not hold up the others or the rounds", async () => {
  const host = new FakeHost();
  host.procs.set(1, proc(1));
  host.procs.set(2, proc(2));
  const hub = new StatsHub(host.deps());
  const it = hub.watch({ intervalMs: 100 })[Symbol.asyncIterator]();
  await take(it, 1);
  host.hung.add(2);
  const samples = await take(it, 3);
  const last = samples.at(-1)!;
  const p2 = last.processes.find((p) => p.pid === 2)!;
  assert.ok(p2.staleFields.includes("goroutines"));
  assert.match(p2.detail, /no answer within|previous read/);
  assert.deepEqual(last.processes.find((p) => p.pid === 1)!.staleFields, []);
  await it.return!();
});

test("processes that start appear, processes that exit leave; pids filter", async () => {
  const host = new FakeHost();
  host.procs.set(1, proc(1));
  const hub = new StatsHub(host.deps());
  const all = hub.watch({ intervalMs: 100 })[Symbol.asyncIterator]();
  const only3 = hub.watch({ intervalMs: 100, pids: [3] })[Symbol.asyncIterator]();
  assert.deepEqual((await take(all, 1))[0]!.processes.map((p) => p.pid), [1]);
  host.procs.set(3, proc(3));
  await until(() => hub.state().rounds >= 3);
  const pids = async (it: AsyncIterator<WatchStatsResponse>) => (await take(it, 1))[0]!.processes.map((p) => p.pid).sort();
  assert.deepEqual(await pids(all), [1, 3]);
  host.procs.delete(1);
  await take(all, 1);
  assert.deepEqual(await pids(all), [3]);
  assert.deepEqual(await pids(only3), [3]);
  await all.return!();
  await only3.return!();
});

test("a process without a backend has only its /proc fields, the agent ones unknown; an aborted signal ends the stream", async () => {
  const host = new FakeHost();
  host.procs.set(1, proc(1, { backend: AgentKind.AGENT_KIND_UNSPECIFIED }));
  const hub = new StatsHub(host.deps());
  const ctl = new AbortController();
  const it = hub.watch({ intervalMs: 100, signal: ctl.signal })[Symbol.asyncIterator]();
  const [s] = await take(it, 1);
  const p = s!.processes[0]!;
  assert.ok(p.unknownFields.includes("goroutines") && p.unknownFields.includes("heap_in_use_bytes"));
  assert.equal(p.threads, 5);
  assert.equal(host.reads.get(1), undefined);
  ctl.abort();
  assert.equal((await it.next()).done, true);
  await until(() => !hub.state().running);
});

test("watchEntries shares the rounds of watch(): raw entries with the full runtime reading, carried over a failed read, failures counted by reason", async () => {
  const host = new FakeHost();
  host.procs.set(1, proc(1));
  const deps = host.deps();
  const read = deps.readAgent;
  let fail: Error | undefined;
  deps.readAgent = async (p, signal) => {
    if (fail) throw fail;
    const r = await read(p, signal);
    return { ...r, runtime: { memStats: MemStats.create({ alloc: 77 }), memUnknown: [], osThreads: 6, pauseNs: undefined } };
  };
  const hub = new StatsHub(deps);
  const ctl = new AbortController();
  const raw = hub.watchEntries({ intervalMs: 100, signal: ctl.signal })[Symbol.asyncIterator]();
  const stats = hub.watch({ intervalMs: 100, signal: ctl.signal })[Symbol.asyncIterator]();
  const first = (await raw.next()).value as RoundEntries;
  await stats.next();
  assert.equal(first.seq, 1);
  assert.equal(first.entries.length, 1);
  assert.equal(first.entries[0]!.runtime?.memStats.alloc, 77);
  assert.equal(first.entries[0]!.runtimeAt, first.entries[0]!.at);
  try {
    fail = new GopsError(Status.UNAVAILABLE, "agent refused");
    let readAt: number | undefined = first.entries[0]!.runtimeAt;
    let r: RoundEntries;
    for (;;) {
      r = (await raw.next()).value as RoundEntries;
      if (r.entries[0]!.detail !== "") break;
      readAt = r.entries[0]!.runtimeAt; // a round read before the failure set in
    }
    assert.equal(r.entries[0]!.runtime?.memStats.alloc, 77, "the last reading is carried");
    assert.equal(r.entries[0]!.runtimeAt, readAt, "with the time it was read");
    assert.ok(r.entries[0]!.at > readAt!);
    assert.equal(hub.state().readFailures.get("unavailable")! >= 1, true);
    assert.equal(hub.state().agentReads, hub.state().rounds, "one read per round for both subscribers");
  } finally {
    ctl.abort();
  }
  await Promise.all([raw.next(), stats.next()]);
  assert.equal(hub.state().subscribers, 0);
});

test("never more than maxReadsAtOnce agent reads at once host-wide; every process still gets its read", async () => {
  const host = new FakeHost();
  for (let pid = 1; pid <= 30; pid++) {
    host.procs.set(pid, proc(pid));
    host.slow.set(pid, 5);
  }
  const hub = new StatsHub(host.deps({ maxReadsAtOnce: 4 }));
  // Two watchers, one sampler: still one read per process per round.
  const a = hub.watch({ intervalMs: 500 })[Symbol.asyncIterator]();
  const b = hub.watch({ intervalMs: 500 })[Symbol.asyncIterator]();
  const [sa] = await Promise.all([take(a, 2), take(b, 2)]);
  assert.ok(host.peak <= 4, `at most 4 reads at once, saw ${host.peak}`);
  assert.equal(host.peak, 4, "the slots are used");
  assert.ok(hub.state().peakReadsAtOnce <= 4);
  for (const s of sa) {
    assert.equal(s.processes.length, 30);
    assert.deepEqual(s.processes.filter((p) => p.staleFields.length > 0).map((p) => `${p.pid}: ${p.detail}`), []);
  }
  await a.return!();
  await b.return!();
});

test("silent agents that hold every slot: a round ends at its deadline, marks the unread stale, and the next round reads them first", async () => {
  const host = new FakeHost();
  for (let pid = 1; pid <= 6; pid++) {
    host.procs.set(pid, proc(pid));
    host.hung.add(pid);
  }
  const hub = new StatsHub(host.deps({ maxReadsAtOnce: 2 }));
  const it = hub.watch({ intervalMs: 100 })[Symbol.asyncIterator]();
  const rounds = await take(it, 3);
  // Each round starts two reads (the slots), and the processes not read last time come first: no one starves.
  assert.deepEqual(host.log.slice(0, 6), [1, 2, 3, 4, 5, 6]);
  for (const r of rounds) {
    assert.equal(r.processes.length, 6, "every round is delivered, with every process");
    assert.ok(r.processes.every((p) => p.detail !== ""), "none answered");
  }
  const first = rounds[0]!.processes;
  assert.match(first.find((p) => p.pid === 1)!.detail, /no answer within/);
  assert.match(first.find((p) => p.pid === 5)!.detail, /not read this round: 2 agent reads at once host-wide were busy/);
  assert.ok(host.peak <= 2);
  await it.return!();
});

test("silent agents do not delay the others: once seen failing, they get a slot only after the others had theirs", async () => {
  const host = new FakeHost();
  for (let pid = 1; pid <= 8; pid++) host.procs.set(pid, proc(pid));
  host.hung.add(1);
  host.hung.add(2);
  const hub = new StatsHub(host.deps({ maxReadsAtOnce: 2 }));
  const it = hub.watch({ intervalMs: 100 })[Symbol.asyncIterator]();
  // Round 1: the two silent ones come first in the listing and hold both slots until the deadline.
  const [first, ...later] = await take(it, 4);
  assert.deepEqual(first!.processes.filter((p) => p.detail === "").map((p) => p.pid), []);
  for (const r of later) {
    const fresh = r.processes.filter((p) => p.detail === "").map((p) => p.pid);
    assert.deepEqual(fresh, [3, 4, 5, 6, 7, 8], "all but the silent ones, every later round");
  }
  await it.return!();
});

test("watchers that would get the same sample share one processes array; another pids filter gets its own", async () => {
  const host = new FakeHost();
  host.procs.set(1, proc(1));
  host.procs.set(2, proc(2));
  const hub = new StatsHub(host.deps());
  const a = hub.watch({ intervalMs: 100 })[Symbol.asyncIterator]();
  const b = hub.watch({ intervalMs: 100 })[Symbol.asyncIterator]();
  const only2 = hub.watch({ intervalMs: 100, pids: [2] })[Symbol.asyncIterator]();
  for (let i = 0; i < 3; i++) {
    const [sa, sb, s2] = await Promise.all([take(a, 1), take(b, 1), take(only2, 1)]);
    assert.equal(sa[0]!.processes, sb[0]!.processes, "one array for both");
    assert.notEqual(sa[0]!.seq, 0);
    assert.deepEqual(s2[0]!.processes.map((p) => p.pid), [2]);
    assert.notEqual(s2[0]!.processes, sa[0]!.processes);
  }
  await a.return!();
  await b.return!();
  await only2.return!();
});
