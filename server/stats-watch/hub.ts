// The WatchStats sampler of one host: one sampler, many subscribers. It runs while at least one client watches and
// stops (timer cleared, agent calls in flight cut) when the last one leaves.
//
// Intervals: the sampler takes a round every `min(interval of the subscribers)` ms; a subscriber gets a round when
// at least its own interval (less half a round, so it never drifts a whole round late) has passed since the round
// it last got. So each process is read at most once per shortest interval however many clients watch, and a
// client asking 5 s beside one asking 1 s gets every fifth round. CPU % and GC deltas are computed per subscriber
// against the round it last got (sample.ts), so they always cover that subscriber's own interval.
//
// The governor: a round never waits behind a capture (a 30 s CPU profile, a trace) or a hung agent. A process whose
// agent is busy with a capture, whose previous read has not answered, or whose read does not answer within 80% of
// the interval is reported with its agent fields stale (last known values) and a one-line reason; the other
// processes of the round are not held up. /proc fields are always fresh.
//
// Bounded work per round: at most `maxReadsAtOnce` agent reads run at once host-wide (a read is one exchange at a
// time: Stats, then MemStats), counting reads of earlier rounds that have not settled yet. A round starts reads as
// slots free up, in order: the process whose read was started longest ago first (never read, or left unread by
// the rounds before: none starves), and among equals those read fine before those whose read failed or timed out
// (a silent agent takes a slot only after the others had theirs). At the round's
// deadline (80% of the interval) every read still running is cut and every process not yet started is reported
// stale ("not read this round"): a round never queues work into the next one, and never lasts longer than that.
//
// Two kinds of subscriber: watch() hands out WatchStatsResponse samples (WatchStats, `top`); watchEntries() hands out
// the round's raw entries, full runtime readings included (the metrics exporter, capture rules). Both share the rounds.
import { GopsError, Status } from "../../common/errors.js";
import { firstLine } from "../../common/first-line.js";
import type { ProcessStats, WatchStatsResponse } from "../../proto/index.js";
import {
  AGENT_FIELDS,
  NO_BACKEND,
  processKey,
  toProcessStats,
  type AgentField,
  type AgentReading,
  type Baseline,
  type ProcessEntry,
  type ProcReading,
} from "./sample.js";

export const MIN_INTERVAL_MS = 500;
export const MAX_INTERVAL_MS = 3_600_000;
export const DEFAULT_INTERVAL_MS = 1_000;
/** Share of the interval an agent read may take before its fields are reported stale. */
const READ_SHARE = 0.8;
/** Agent reads running at once, host-wide (each is one agent exchange at a time). */
export const MAX_READS_AT_ONCE = 32;

/** When a process's read was last started (round number) and whether that read failed or timed out. */
interface LastRead {
  round: number;
  failed: boolean;
}

export interface StatsHubDeps {
  host: string;
  clockTicks: number;
  /** The Go processes to watch, read from /proc now: all of them (pids undefined) or those pids. */
  readTargets(pids: ReadonlySet<number> | undefined): ProcReading[];
  /** The runtime values of a process through its backend; rejects on failure; must honour the signal. */
  readAgent(p: ProcReading, signal: AbortSignal): Promise<AgentReading>;
  /** What would make a read of pid's agent wait (e.g. "a CPU profile is running"), else undefined. */
  captureBusy(pid: number): string | undefined;
  /** Monotonic ms (tests). */
  now?: () => number;
  /** Agent reads at once, host-wide (default MAX_READS_AT_ONCE). */
  maxReadsAtOnce?: number;
}

export interface WatchOptions {
  intervalMs: number;
  /** Only these pids; undefined or empty = every Go process. */
  pids?: readonly number[];
  signal?: AbortSignal;
}

/** One round as a watchEntries() subscriber gets it. */
export interface RoundEntries {
  /** Counts the rounds this subscriber got, from 1. */
  seq: number;
  /** When the round started: Unix ms, and the sampler's monotonic ms (the clock of ProcessEntry.at). */
  timeUnixMs: number;
  at: number;
  /** How long the round took, ms (reading /proc, then every agent read answering or being cut). */
  durationMs: number;
  /** The processes of the round (those of the subscriber's pids, if it named some). */
  entries: readonly ProcessEntry[];
}

/** Why a process's agent was not read fresh in a round ("previous_read_pending", "capture_busy", "timeout", "not_read_this_round", or the status of the error, e.g. "unavailable"). */
export type ReadFailure = string;

interface Subscriber<T> {
  readonly intervalMs: number;
  readonly pids: ReadonlySet<number> | undefined;
  /** Round time it last got; undefined before its first. */
  lastAt?: number;
  /** What this subscriber gets from the round just taken. */
  make(round: Round): T;
  /** The newest round not yet taken (an older one is replaced: a slow reader skips rounds, never queues them). */
  pending?: T;
  wake?: () => void;
}

/** A round just taken, as deliver() hands it to subscribers. */
interface Round {
  at: number;
  timeUnixMs: number;
  durationMs: number;
  entries: ReadonlyMap<string, ProcessEntry>;
  /**
   * WatchStats samples made in this round, by pids filter and baselines: watchers with the same filter and the same
   * baselines (they got the same rounds, or none yet) get the same processes, computed once and shared (and so is
   * its encoding, encode.ts), so 384 watchers cost little more than one. Never mutated once made.
   */
  shared: Map<string, { processes: ProcessStats[]; baselines: Map<string, Baseline> }>;
}

/** What tests and the bench can see of the sampler. */
export interface HubState {
  subscribers: number;
  /** A round is scheduled or running. */
  running: boolean;
  /** Rounds taken since the hub was made. */
  rounds: number;
  /** Agent reads started since the hub was made. */
  agentReads: number;
  /** The most agent reads that ran at once since the hub was made. */
  peakReadsAtOnce: number;
  /** Agent reads that failed or were skipped, by reason, since the hub was made. */
  readFailures: ReadonlyMap<ReadFailure, number>;
}

export class StatsHub {
  private readonly subs = new Set<Subscriber<unknown>>();
  private entries = new Map<string, ProcessEntry>();
  private readonly inflight = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  private lastRoundAt: number | undefined;
  private life = new AbortController();
  private rounds = 0;
  private agentReads = 0;
  private peakReadsAtOnce = 0;
  private readonly readFailures = new Map<ReadFailure, number>();
  /** Each process's last started read (orders the next round's reads). */
  private lastReads = new Map<string, LastRead>();
  /** Called when a read settles and its slot is free (the running round's pump). */
  private slotFreed: (() => void) | undefined;
  private readonly maxReads: number;
  private readonly now: () => number;

  constructor(private readonly deps: StatsHubDeps) {
    this.now = deps.now ?? (() => performance.now());
    this.maxReads = deps.maxReadsAtOnce ?? MAX_READS_AT_ONCE;
  }

  state(): HubState {
    return {
      subscribers: this.subs.size,
      running: this.timer !== undefined || this.ticking,
      rounds: this.rounds,
      agentReads: this.agentReads,
      peakReadsAtOnce: this.peakReadsAtOnce,
      readFailures: new Map(this.readFailures),
    };
  }

  /** Samples for one subscriber until it stops iterating or its signal aborts (then the generator just ends). */
  watch(opts: WatchOptions): AsyncGenerator<WatchStatsResponse, void, undefined> {
    let seq = 0;
    let baselines = new Map<string, Baseline>();
    const pids = pidSet(opts.pids);
    const pidsKey = pids === undefined ? "*" : [...pids].sort((a, b) => a - b).join(",");
    return this.subscribe(opts, (round): WatchStatsResponse => {
      const group = `${pidsKey}|${baselines.size === 0 ? "new" : baselineId(baselines)}`;
      let g = round.shared.get(group);
      if (g === undefined) {
        const processes: ProcessStats[] = [];
        const next = new Map<string, Baseline>();
        for (const [key, e] of round.entries) {
          if (pids !== undefined && !pids.has(e.proc.pid)) continue;
          const { stats, baseline } = toProcessStats(e, baselines.get(key), this.deps.clockTicks);
          processes.push(stats);
          next.set(key, baseline);
        }
        g = { processes, baselines: next };
        round.shared.set(group, g);
      }
      baselines = g.baselines; // processes that exited are forgotten; never mutated once made
      return { host: this.deps.host, timeUnixMs: round.timeUnixMs, intervalMs: opts.intervalMs, seq: ++seq, processes: g.processes };
    });
  }

  /** The raw entries of the rounds for one subscriber, at its interval, until it stops or its signal aborts. */
  watchEntries(opts: WatchOptions): AsyncGenerator<RoundEntries, void, undefined> {
    let seq = 0;
    const pids = pidSet(opts.pids);
    return this.subscribe(opts, (round): RoundEntries => {
      const entries = [...round.entries.values()].filter((e) => pids === undefined || pids.has(e.proc.pid));
      return { seq: ++seq, timeUnixMs: round.timeUnixMs, at: round.at, durationMs: round.durationMs, entries };
    });
  }

  private async *subscribe<T>(opts: WatchOptions, make: (round: Round) => T): AsyncGenerator<T, void, undefined> {
    const sub: Subscriber<T> = { intervalMs: opts.intervalMs, pids: pidSet(opts.pids), make };
    const signal = opts.signal;
    if (signal?.aborted) return;
    const onAbort = () => sub.wake?.();
    signal?.addEventListener("abort", onAbort, { once: true });
    this.subs.add(sub as Subscriber<unknown>);
    this.reschedule();
    try {
      while (!signal?.aborted) {
        if (sub.pending === undefined) {
          await new Promise<void>((resolve) => (sub.wake = resolve));
          sub.wake = undefined;
          continue;
        }
        const msg = sub.pending;
        sub.pending = undefined;
        yield msg;
      }
    } finally {
      signal?.removeEventListener("abort", onAbort);
      this.subs.delete(sub as Subscriber<unknown>);
      if (this.subs.size === 0) this.stop();
    }
  }

  private tickMs(): number {
    let min = Infinity;
    for (const s of this.subs) min = Math.min(min, s.intervalMs);
    return min;
  }

  /** Schedules the next round: now if none ran yet, else one shortest interval after the last one started. */
  private reschedule(): void {
    if (this.ticking || this.subs.size === 0) return;
    clearTimeout(this.timer);
    const wait = this.lastRoundAt === undefined ? 0 : Math.max(0, this.lastRoundAt + this.tickMs() - this.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.round();
    }, wait);
  }

  private stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.life.abort(new Error("no one watches any more"));
    this.life = new AbortController();
    this.entries = new Map();
    this.lastReads = new Map();
    this.lastRoundAt = undefined;
  }

  private async round(): Promise<void> {
    this.ticking = true;
    const life = this.life;
    const startedAt = this.now();
    this.lastRoundAt = startedAt;
    this.rounds++;
    try {
      const wanted = this.wantedPids();
      const procs = this.deps.readTargets(wanted);
      const readMs = Math.max(100, Math.floor(this.tickMs() * READ_SHARE));
      const next = await this.sampleAll(procs, readMs, startedAt + readMs, life.signal);
      if (life.signal.aborted) return; // everyone left meanwhile
      this.entries = next;
      this.deliver(this.now() - startedAt);
    } catch (e) {
      // /proc unreadable as a whole: nothing to deliver this round; the next round tries again.
      void e;
    } finally {
      this.ticking = false;
      this.reschedule();
    }
  }

  /**
   * One round's entries: a read for each process that needs one, at most maxReads at once host-wide, started in
   * the order above until `deadline`; what is not started by then is carried stale. Resolves by the deadline (plus the
   * moment a cut read takes to settle).
   */
  private sampleAll(procs: ProcReading[], readMs: number, deadline: number, life: AbortSignal): Promise<Map<string, ProcessEntry>> {
    const next = new Map<string, ProcessEntry>();
    const queue: ProcReading[] = [];
    for (const p of procs) {
      const e = this.withoutRead(p);
      if (e !== undefined) next.set(processKey(p), e);
      else queue.push(p);
    }
    const round = this.rounds;
    const last = this.lastReads;
    const order = (p: ProcReading) => {
      const l = last.get(processKey(p));
      return l === undefined ? -1 : l.round * 2 + (l.failed ? 1 : 0);
    };
    queue.sort((a, b) => order(a) - order(b)); // stable: the listing's order among equals
    const lastReads = new Map<string, LastRead>();
    return new Promise((resolve) => {
      let started = 0;
      let running = 0;
      let done = false;
      let closed = false;
      const finish = () => {
        if (done) return;
        done = true;
        clearTimeout(cutoff);
        this.slotFreed = undefined;
        for (const p of queue.slice(started)) {
          const key = processKey(p);
          const l = last.get(key);
          if (l !== undefined) lastReads.set(key, l);
          next.set(key, this.carried(p, `not read this round: ${this.maxReads} agent reads at once host-wide were busy until its deadline`, "not_read_this_round"));
        }
        this.lastReads = lastReads; // processes that left are forgotten
        resolve(next);
      };
      const pump = () => {
        if (done) return;
        const open = !life.aborted && !closed && this.now() < deadline;
        while (open && started < queue.length && this.inflight.size < this.maxReads) {
          const p = queue[started++]!;
          running++;
          void this.sampleOne(p, readMs, deadline, life).then((e) => {
            const key = processKey(p);
            next.set(key, e);
            lastReads.set(key, { round, failed: e.detail !== "" });
            running--;
            pump();
          });
        }
        if (running === 0 && (started === queue.length || !open)) finish();
      };
      // At the deadline: reads still running are cut by their own timers; nothing new starts.
      const cutoff = setTimeout(() => ((closed = true), pump()), msUntil(deadline - this.now()));
      this.slotFreed = pump;
      pump();
    });
  }

  private wantedPids(): ReadonlySet<number> | undefined {
    const all = new Set<number>();
    for (const s of this.subs) {
      if (s.pids === undefined) return undefined;
      for (const p of s.pids) all.add(p);
    }
    return all;
  }

  /** The last known agent fields of p, marked stale with the reason. */
  private carried(p: ProcReading, why: string, reason: ReadFailure): ProcessEntry {
    this.readFailures.set(reason, (this.readFailures.get(reason) ?? 0) + 1);
    const prev = this.entries.get(processKey(p));
    const unknown = prev?.unknown ?? new Set<AgentField>();
    return {
      proc: p,
      at: this.now(),
      agent: prev?.agent ?? {},
      unknown,
      stale: new Set(AGENT_FIELDS.filter((f) => !unknown.has(f))),
      detail: why,
      ...(prev?.runtime ? { runtime: prev.runtime, runtimeAt: prev.runtimeAt! } : {}),
    };
  }

  /** p's entry when it gets no read this round (no backend, previous read still out, a capture), else undefined. */
  private withoutRead(p: ProcReading): ProcessEntry | undefined {
    if (p.backend === NO_BACKEND) {
      return { proc: p, at: this.now(), agent: {}, unknown: new Set(AGENT_FIELDS), stale: new Set(), detail: "no gops agent or known net/http/pprof endpoint" };
    }
    if (this.inflight.has(processKey(p))) return this.carried(p, "its previous read has not answered yet", "previous_read_pending");
    const busy = this.deps.captureBusy(p.pid);
    if (busy !== undefined) return this.carried(p, `not read: ${busy}`, "capture_busy");
    return undefined;
  }

  /** Reads p's agent, cut at the round's deadline; never rejects. Holds one of the host-wide slots until it settles. */
  private async sampleOne(p: ProcReading, readMs: number, deadline: number, life: AbortSignal): Promise<ProcessEntry> {
    const key = processKey(p);
    const prev = this.entries.get(key);
    const at = this.now();
    // A timer of our own (AbortSignal.timeout's does not keep the process alive, and this one is cleared).
    const cut = new AbortController();
    const timer = setTimeout(() => cut.abort(new Error(`no answer within ${readMs} ms`)), msUntil(deadline - at));
    const signal = AbortSignal.any([life, cut.signal]);
    this.inflight.add(key);
    this.peakReadsAtOnce = Math.max(this.peakReadsAtOnce, this.inflight.size);
    this.agentReads++;
    const read = this.deps.readAgent(p, signal);
    const settled = () => {
      this.inflight.delete(key);
      this.slotFreed?.();
    };
    void read.then(settled, settled);
    try {
      const r = await raceSignal(read, signal);
      const runtime = r.runtime ? { runtime: r.runtime, runtimeAt: at } : prev?.runtime ? { runtime: prev.runtime, runtimeAt: prev.runtimeAt! } : {};
      return { proc: p, at, agent: { ...(prev?.agent ?? {}), ...r.values }, unknown: new Set(r.unknown), stale: new Set(), detail: "", ...runtime };
    } catch (e) {
      if (cut.signal.aborted) return this.carried(p, `no answer within ${readMs} ms`, "timeout");
      return this.carried(p, firstLine(e), e instanceof GopsError ? Status[e.code]!.toLowerCase() : "other");
    } finally {
      clearTimeout(timer);
    }
  }

  /** Hands the round to each subscriber that is due. */
  private deliver(durationMs: number): void {
    const at = this.lastRoundAt!;
    const half = this.tickMs() / 2;
    const round: Round = { at, timeUnixMs: Date.now(), durationMs, entries: this.entries, shared: new Map() };
    for (const s of this.subs) {
      if (s.lastAt !== undefined && at - s.lastAt < s.intervalMs - half) continue;
      s.lastAt = at;
      s.pending = s.make(round);
      s.wake?.();
    }
  }
}

const pidSet = (pids: readonly number[] | undefined) => (pids && pids.length > 0 ? new Set(pids) : undefined);

/**
 * A timer delay that does not fire before `ms` have passed by performance.now(): Node counts timers from its loop's
 * whole-millisecond clock, so a plain delay may end up to a millisecond early (and a round would start a read past
 * its deadline).
 */
function msUntil(ms: number): number {
  return Math.max(0, Math.ceil(ms) + 1);
}

const baselineIds = new WeakMap<Map<string, Baseline>, number>();
let nextBaselineId = 0;
/** A number per baselines map (identity), for grouping subscribers that share one. */
function baselineId(m: Map<string, Baseline>): number {
  let id = baselineIds.get(m);
  if (id === undefined) baselineIds.set(m, (id = nextBaselineId++));
  return id;
}

/** p, or a rejection as soon as signal aborts (a read that ignores its signal cannot hold up a round). */
function raceSignal<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(
      (v) => (signal.removeEventListener("abort", onAbort), resolve(v)),
      (e: unknown) => (signal.removeEventListener("abort", onAbort), reject(e)),
    );
  });
}
