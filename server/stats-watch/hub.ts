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
// Two kinds of subscriber: watch() hands out WatchStatsResponse samples (WatchStats, `top`); watchEntries() hands out
// the round's raw entries, full runtime readings included (the metrics exporter). Both share the rounds.
import { GopsError, Status } from "../../common/errors.js";
import { firstLine } from "../../common/first-line.js";
import type { WatchStatsResponse } from "../../proto/index.js";
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

/** Why a process's agent was not read fresh in a round ("previous_read_pending", "capture_busy", "timeout", or the status of the error, e.g. "unavailable"). */
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
  private readonly readFailures = new Map<ReadFailure, number>();
  private readonly now: () => number;

  constructor(private readonly deps: StatsHubDeps) {
    this.now = deps.now ?? (() => performance.now());
  }

  state(): HubState {
    return {
      subscribers: this.subs.size,
      running: this.timer !== undefined || this.ticking,
      rounds: this.rounds,
      agentReads: this.agentReads,
      readFailures: new Map(this.readFailures),
    };
  }

  /** Samples for one subscriber until it stops iterating or its signal aborts (then the generator just ends). */
  watch(opts: WatchOptions): AsyncGenerator<WatchStatsResponse, void, undefined> {
    let seq = 0;
    let baselines = new Map<string, Baseline>();
    const pids = pidSet(opts.pids);
    return this.subscribe(opts, (round): WatchStatsResponse => {
      const processes = [];
      const next = new Map<string, Baseline>();
      for (const [key, e] of round.entries) {
        if (pids !== undefined && !pids.has(e.proc.pid)) continue;
        const { stats, baseline } = toProcessStats(e, baselines.get(key), this.deps.clockTicks);
        processes.push(stats);
        next.set(key, baseline);
      }
      baselines = next; // processes that exited are forgotten
      return { host: this.deps.host, timeUnixMs: round.timeUnixMs, intervalMs: opts.intervalMs, seq: ++seq, processes };
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
      const next = new Map<string, ProcessEntry>();
      await Promise.all(
        procs.map(async (p) => {
          const e = await this.sampleOne(p, readMs, life.signal);
          next.set(processKey(p), e);
        }),
      );
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

  private wantedPids(): ReadonlySet<number> | undefined {
    const all = new Set<number>();
    for (const s of this.subs) {
      if (s.pids === undefined) return undefined;
      for (const p of s.pids) all.add(p);
    }
    return all;
  }

  private async sampleOne(p: ProcReading, readMs: number, life: AbortSignal): Promise<ProcessEntry> {
    const key = processKey(p);
    const prev = this.entries.get(key);
    const at = this.now();
    const carried = (why: string, reason: ReadFailure): ProcessEntry => {
      this.readFailures.set(reason, (this.readFailures.get(reason) ?? 0) + 1);
      const unknown = prev?.unknown ?? new Set<AgentField>();
      return {
        proc: p,
        at,
        agent: prev?.agent ?? {},
        unknown,
        stale: new Set(AGENT_FIELDS.filter((f) => !unknown.has(f))),
        detail: why,
        ...(prev?.runtime ? { runtime: prev.runtime, runtimeAt: prev.runtimeAt! } : {}),
      };
    };
    if (p.backend === NO_BACKEND) {
      return { proc: p, at, agent: {}, unknown: new Set(AGENT_FIELDS), stale: new Set(), detail: "no gops agent or known net/http/pprof endpoint" };
    }
    if (this.inflight.has(key)) return carried("its previous read has not answered yet", "previous_read_pending");
    const busy = this.deps.captureBusy(p.pid);
    if (busy !== undefined) return carried(`not read: ${busy}`, "capture_busy");
    // A timer of our own (AbortSignal.timeout's does not keep the process alive, and this one is cleared).
    const cut = new AbortController();
    const timer = setTimeout(() => cut.abort(new Error(`no answer within ${readMs} ms`)), readMs);
    const signal = AbortSignal.any([life, cut.signal]);
    this.inflight.add(key);
    this.agentReads++;
    const read = this.deps.readAgent(p, signal);
    void read.then(
      () => this.inflight.delete(key),
      () => this.inflight.delete(key),
    );
    try {
      const r = await raceSignal(read, signal);
      const runtime = r.runtime ? { runtime: r.runtime, runtimeAt: at } : prev?.runtime ? { runtime: prev.runtime, runtimeAt: prev.runtimeAt! } : {};
      return { proc: p, at, agent: { ...(prev?.agent ?? {}), ...r.values }, unknown: new Set(r.unknown), stale: new Set(), detail: "", ...runtime };
    } catch (e) {
      if (cut.signal.aborted) return carried(`no answer within ${readMs} ms`, "timeout");
      return carried(firstLine(e), e instanceof GopsError ? Status[e.code]!.toLowerCase() : "other");
    } finally {
      clearTimeout(timer);
    }
  }

  private deliver(durationMs: number): void {
    const at = this.lastRoundAt!;
    const half = this.tickMs() / 2;
    const round: Round = { at, timeUnixMs: Date.now(), durationMs, entries: this.entries };
    for (const s of this.subs) {
      if (s.lastAt !== undefined && at - s.lastAt < s.intervalMs - half) continue;
      s.lastAt = at;
      s.pending = s.make(round);
      s.wake?.();
    }
  }
}

const pidSet = (pids: readonly number[] | undefined) => (pids && pids.length > 0 ? new Set(pids) : undefined);

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
