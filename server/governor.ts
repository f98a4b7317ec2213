// One call at a time per agent (the gops agent is strictly serial: a second connection waits in its accept
// queue behind the first, with no deadline). Calls for the same key run in FIFO order; captures are
// exclusive: a second capture for a key while one is running or queued fails at once with busy, instead of
// waiting 30 s or, on the real agent, hanging because the CPU profiler is already in use.
//
// A queued call that outlives its queue deadline or whose AbortSignal fires leaves the queue without ever
// touching the agent. A key with nothing running and nothing queued is deleted.
//
// A timed capture abandoned before its end (Ctrl-C, a cancelled stream) does not stop the gops agent: it keeps
// profiling or tracing for its fixed duration and serves nothing else meanwhile. `abandoned` records until when
// (in a FinishingStore: memory for gopsd, a per-user file for gopsctl's in-process backend, whose every run is a
// new process); until then every call for that key fails at once with busy, saying how long is left, instead of
// waiting silently behind it.
import { formatDurationMs } from "../common/duration.js";
import { agentBusy, busy, cancelled, type GopsError } from "../common/errors.js";
import { memoryFinishingStore, type FinishingStore } from "./finishing-captures.js";

export interface GovernorCallOptions {
  /** What the call does, for messages: "memstats", "a heap profile". */
  what: string;
  /** How long the call may wait for its turn before failing with busy. */
  queueTimeoutMs: number;
  signal?: AbortSignal;
  /**
   * Marks the call as a capture, an exclusive kind. `label` names it in the busy message another capture
   * gets ("a CPU profile"); `expectedMs` is how long it normally runs, to tell that caller when to retry.
   */
  capture?: { label: string; expectedMs?: number };
}

interface Ticket {
  readonly opts: GovernorCallOptions;
  /** When the call got its turn; undefined while queued. */
  startedAt?: number;
  grant?: () => void;
  /** Refuses a queued call (the agent became busy with an abandoned capture while it waited). */
  refuse?: (err: GopsError) => void;
  dispose?: () => void;
}

interface Lane {
  running?: Ticket;
  readonly queue: Ticket[];
}

export class Governor {
  private readonly lanes = new Map<number, Lane>();

  constructor(private readonly finishing: FinishingStore = memoryFinishingStore()) {}

  /** Runs fn when it is this key's turn; the slot is released when fn settles. */
  async run<T>(key: number, opts: GovernorCallOptions, fn: () => Promise<T>): Promise<T> {
    const release = await this.acquire(key, opts);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  /**
   * Streams fn's items when it is this key's turn. The slot is held until the consumer has read to the end,
   * stopped iterating (break/return), or the stream threw. Nothing is queued until the first next().
   */
  async *stream<T>(key: number, opts: GovernorCallOptions, fn: () => AsyncIterable<T>): AsyncGenerator<T, void, undefined> {
    const release = await this.acquire(key, opts);
    try {
      yield* fn();
    } finally {
      release();
    }
  }

  /** Keys with a call running or queued (for tests and diagnostics). */
  activeKeys(): number[] {
    return [...this.lanes.keys()];
  }

  /**
   * The capture running or queued for a key, described ("a CPU profile is already running (about 12s left)"), or
   * the abandoned one the agent is still finishing, if any.
   */
  captureOf(key: number): string | undefined {
    const lane = this.lanes.get(key);
    const t = lane && [lane.running, ...lane.queue].find((x) => x?.opts.capture);
    return t ? describeCapture(t) : this.finishingOf(key);
  }

  /**
   * A timed capture of `label` on this key, started at `startedAt` and expected to run `expectedMs`, was abandoned
   * before its end: the agent stays busy until then. Calls waiting in the queue are refused now; later calls until
   * then, at once.
   */
  abandoned(key: number, label: string, startedAt: number, expectedMs: number): void {
    const untilMs = startedAt + expectedMs;
    if (untilMs <= Date.now()) return;
    this.finishing.save(key, { label, untilMs });
    const lane = this.lanes.get(key);
    const detail = this.finishingOf(key);
    if (lane === undefined || detail === undefined) return;
    for (const t of lane.queue.splice(0)) t.refuse?.(busy(key, detail));
    this.dropIfIdle(key, lane);
  }

  /** "its gops agent is finishing a trace that was stopped early, ... (about 3s left)" while an abandoned capture runs on. */
  private finishingOf(key: number): string | undefined {
    const f = this.finishing.load(key);
    const leftMs = f === undefined ? 0 : f.untilMs - Date.now();
    if (f === undefined || leftMs <= 0) return undefined;
    return `its gops agent is finishing ${f.label} that was stopped early, which an agent cannot cancel (about ${Math.ceil(leftMs / 1000)}s left)`;
  }

  /** Number of calls waiting (not running) for a key. */
  queued(key: number): number {
    return this.lanes.get(key)?.queue.length ?? 0;
  }

  /**
   * Waits for the key's slot; resolves with the function that gives it back (idempotent). Rejects at once
   * with busy for a second capture, with cancelled if the signal is already aborted.
   */
  acquire(key: number, opts: GovernorCallOptions): Promise<() => void> {
    if (opts.signal?.aborted) return Promise.reject(cancelled(opts.what));
    const finishing = this.finishingOf(key);
    if (finishing !== undefined) return Promise.reject(busy(key, finishing));
    const lane = this.lanes.get(key) ?? { queue: [] };
    if (opts.capture) {
      const conflict = [lane.running, ...lane.queue].find((t) => t?.opts.capture);
      if (conflict) return Promise.reject(busy(key, describeCapture(conflict), captureLeftMs(conflict)));
    }
    this.lanes.set(key, lane);
    const ticket: Ticket = { opts };
    const release = this.releaser(key, lane, ticket);
    if (!lane.running) {
      this.start(lane, ticket);
      return Promise.resolve(release);
    }
    return new Promise<() => void>((resolve, reject) => {
      const leave = (err: GopsError) => {
        const i = lane.queue.indexOf(ticket);
        if (i >= 0) lane.queue.splice(i, 1);
        ticket.dispose?.();
        this.dropIfIdle(key, lane);
        reject(err);
      };
      const timer = setTimeout(() => {
        const behind = lane.running ? ` behind ${lane.running.opts.what}` : "";
        leave(agentBusy(key, `${opts.what} waited ${formatDurationMs(opts.queueTimeoutMs)} for its turn${behind}`));
      }, opts.queueTimeoutMs);
      const onAbort = () => leave(cancelled(opts.what));
      opts.signal?.addEventListener("abort", onAbort, { once: true });
      ticket.dispose = () => {
        clearTimeout(timer);
        opts.signal?.removeEventListener("abort", onAbort);
      };
      ticket.grant = () => resolve(release);
      ticket.refuse = (err) => {
        ticket.dispose?.();
        reject(err);
      };
      lane.queue.push(ticket);
    });
  }

  private start(lane: Lane, ticket: Ticket): void {
    ticket.dispose?.();
    ticket.startedAt = Date.now();
    lane.running = ticket;
    ticket.grant?.();
  }

  private releaser(key: number, lane: Lane, ticket: Ticket): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (lane.running !== ticket) return;
      lane.running = undefined;
      const next = lane.queue.shift();
      if (next) this.start(lane, next);
      else this.dropIfIdle(key, lane);
    };
  }

  private dropIfIdle(key: number, lane: Lane): void {
    if (!lane.running && lane.queue.length === 0 && this.lanes.get(key) === lane) this.lanes.delete(key);
  }
}

/** How long until the capture ends, if it runs and its length is known (RetryInfo of the busy error). */
function captureLeftMs(t: Ticket): number | undefined {
  const c = t.opts.capture!;
  if (t.startedAt === undefined || c.expectedMs === undefined) return undefined;
  return Math.max(1000, c.expectedMs - (Date.now() - t.startedAt));
}

function describeCapture(t: Ticket): string {
  const c = t.opts.capture!;
  if (t.startedAt === undefined) return `${c.label} is already queued for this process`;
  if (c.expectedMs === undefined) return `${c.label} is already running`;
  const leftMs = Math.max(0, c.expectedMs - (Date.now() - t.startedAt));
  return `${c.label} is already running (about ${Math.ceil(leftMs / 1000)}s left)`;
}
