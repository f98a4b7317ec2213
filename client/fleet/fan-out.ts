// Bounded fan-out: run one task per host, at most `concurrency` at a time, each under its own deadline, and yield
// every host's result as it settles. A host's failure is its own result (never thrown, never hiding others);
// cancelling (the signal, or leaving the for-await loop) aborts the running tasks and reports the rest CANCELLED.
import { setMaxListeners } from "node:events";
import { ClientError, Status } from "nice-grpc-common";
import { GopsError } from "../../common/errors.js";
import { CredentialsError } from "../credentials-error.js";
import { reasonOf } from "../status-details.js";
import { formatDurationMs } from "../../common/duration.js";

/** Why one host failed: its status code, a one-line message, and when. */
export interface HostError {
  code: Status;
  message: string;
  /** The failure's stable reason (ErrorInfo from gopsd, or a domain error's), when it has one. */
  reason?: string;
  /** How long the host had been worked on when it failed, ms. */
  afterMs: number;
}

/** One host's answer: `value` on success, else `error`; results arrive in the order hosts finish. */
export type HostResult<T> =
  | { host: string; value: T; error?: undefined; elapsedMs: number }
  | { host: string; value?: undefined; error: HostError; elapsedMs: number };

export interface TaskContext {
  host: string;
  /** Aborted on the host's deadline, on cancellation, and when the caller stops iterating. */
  signal: AbortSignal;
  /** Absolute deadline (Date.now() ms) for this host, for gRPC calls. */
  deadline: number;
}

/**
 * Hosts worked on at once unless told otherwise. A host costs its client ~3-4 ms of CPU (TLS handshake, HTTP/2 and
 * channel set-up, the call) and several round trips of waiting (TCP, TLS, HTTP/2 settings, the call: ~5 RTT), so the
 * client's CPU is kept busy from about 5 x RTT / 3.5 ms hosts at once: ~30 at 20 ms RTT, ~140 at 100 ms. 128 keeps
 * the CPU busy for fleets up to ~100 ms away; beyond the knee more only queues handshakes on the CPU (128 x 3.5 ms
 * = ~0.5 s, well inside the 5 s connect timeout) and holds ~100 KiB per connection in flight. Measured at 1,000
 * hosts 20 ms away (bench/fleet.ts, 2 cores shared with the simulator): 32 -> 5.4-5.8 s, 64 -> 4.7-5.0 s,
 * 128 -> 3.1 s, 256 -> 2.9-5.3 s (erratic), 512 no faster (and with the old ~6 ms per host, under load, its
 * connection attempts timed out).
 */
export const DEFAULT_CONCURRENCY = 128;

export interface FanOutOptions {
  /** Default DEFAULT_CONCURRENCY (128). */
  concurrency?: number;
  /** Per-host deadline, ms (covers connecting, the call and consuming a stream). */
  perHostDeadlineMs: number;
  signal?: AbortSignal;
}

class DeadlineReached extends Error {}

export async function* fanOut<T>(
  hosts: readonly string[],
  task: (ctx: TaskContext) => Promise<T>,
  opts: FanOutOptions,
): AsyncGenerator<HostResult<T>, void, undefined> {
  const concurrency = Math.max(1, opts.concurrency ?? DEFAULT_CONCURRENCY);
  const stop = new AbortController();
  // One listener per running host.
  setMaxListeners(0, stop.signal);
  const onOuterAbort = () => stop.abort(opts.signal!.reason);
  if (opts.signal?.aborted) stop.abort(opts.signal.reason);
  else opts.signal?.addEventListener("abort", onOuterAbort, { once: true });

  const settled: HostResult<T>[] = [];
  let wake: (() => void) | undefined;
  let next = 0;
  let running = 0;

  const runOne = async (host: string): Promise<HostResult<T>> => {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    if (stop.signal.aborted) return failure(host, Status.CANCELLED, cancelMessage(stop.signal), 0);
    const hostAbort = new AbortController();
    const onStop = () => hostAbort.abort(stop.signal.reason);
    stop.signal.addEventListener("abort", onStop, { once: true });
    const timer = setTimeout(() => hostAbort.abort(new DeadlineReached()), opts.perHostDeadlineMs);
    try {
      const value = await task({ host, signal: hostAbort.signal, deadline: Date.now() + opts.perHostDeadlineMs });
      return { host, value, elapsedMs: elapsed() };
    } catch (e) {
      const ms = elapsed();
      if (hostAbort.signal.reason instanceof DeadlineReached) {
        return failure(host, Status.DEADLINE_EXCEEDED, `no answer within ${formatDurationMs(opts.perHostDeadlineMs)}`, ms);
      }
      if (stop.signal.aborted) return failure(host, Status.CANCELLED, cancelMessage(stop.signal), ms);
      const { code, message, reason } = describeError(e);
      return failure(host, code, message, ms, reason);
    } finally {
      clearTimeout(timer);
      stop.signal.removeEventListener("abort", onStop);
    }
  };

  const launch = () => {
    while (running < concurrency && next < hosts.length) {
      const host = hosts[next++]!;
      running++;
      void runOne(host).then((r) => {
        running--;
        settled.push(r);
        launch();
        wake?.();
      });
    }
  };

  try {
    launch();
    for (let delivered = 0; delivered < hosts.length; delivered++) {
      while (settled.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
      yield settled.shift()!;
    }
  } finally {
    opts.signal?.removeEventListener("abort", onOuterAbort);
    if (!stop.signal.aborted) stop.abort(new Error("the caller stopped reading results"));
  }
}

function failure<T>(host: string, code: Status, message: string, afterMs: number, reason?: string): HostResult<T> {
  return { host, error: { code, message, afterMs, ...(reason !== undefined ? { reason } : {}) }, elapsedMs: afterMs };
}

function cancelMessage(signal: AbortSignal): string {
  const r = signal.reason;
  return `cancelled${r instanceof Error && r.message ? `: ${r.message}` : ""}`;
}

/** The gRPC status and a one-line message for anything a host task threw. */
export function describeError(e: unknown): { code: Status; message: string; reason?: string } {
  const reason = reasonOf(e);
  if (e instanceof ClientError) return { code: e.code, message: e.details, ...(reason !== undefined ? { reason } : {}) };
  if (e instanceof GopsError) return { code: e.code, message: e.message, reason: e.reason };
  // Unreadable TLS files, a token that would travel in clear text: the host's settings need fixing.
  if (e instanceof CredentialsError) return { code: Status.FAILED_PRECONDITION, message: e.message };
  if (e instanceof Error && e.name === "AbortError") return { code: Status.CANCELLED, message: e.message || "cancelled" };
  const err = e as NodeJS.ErrnoException;
  if (err && typeof err.code === "string" && /^E[A-Z]+$/.test(err.code)) {
    return { code: Status.UNAVAILABLE, message: err.message };
  }
  return { code: Status.UNKNOWN, message: e instanceof Error ? e.message : String(e) };
}

/** "31/32 hosts ok; web-7: DEADLINE_EXCEEDED after 5s, web-9: UNAVAILABLE after 3ms". */
export function summarize(results: readonly Pick<HostResult<unknown>, "host" | "error">[]): string {
  const failed = results.filter((r) => r.error !== undefined);
  const head = `${results.length - failed.length}/${results.length} hosts ok`;
  if (failed.length === 0) return head;
  const parts = [...failed]
    .sort((a, b) => a.host.localeCompare(b.host, undefined, { numeric: true }))
    .map((r) => `${r.host}: ${Status[r.error!.code] ?? r.error!.code} after ${roundedDuration(r.error!.afterMs)}`);
  return `${head}; ${parts.join(", ")}`;
}

function roundedDuration(ms: number): string {
  return formatDurationMs(ms < 1000 ? Math.round(ms) : Math.round(ms / 100) * 100);
}
