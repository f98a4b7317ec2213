// Abuse limits, pure over an injected clock: a token bucket per subject (rate/s + burst), a cap on one subject's
// concurrent calls, and two separate server-wide budgets for streaming calls: one-off streams (Stack, captures,
// binary: each ends by its deadline) and long-lived watches (WatchStats: open until the caller leaves), the latter
// with a per-subject cap too, so no set of watchers can hold the slots a one-off call needs. State for idle subjects (no call in
// flight and a full bucket, so forgetting it changes nothing) is swept as calls arrive: memory stays bounded by
// the subjects active within one refill period.
import { limitExceeded } from "../../common/errors.js";

export interface LimitsConfig {
  /** Sustained calls per second per subject. */
  readonly ratePerSec: number;
  /** Calls a subject may make at once after being idle. */
  readonly burst: number;
  /** Calls of one subject in flight at once. */
  readonly maxConcurrentPerSubject: number;
  /** One-off streaming calls (Stack, captures, binary) in flight at once, all subjects together. */
  readonly maxConcurrentStreams: number;
  /** Long-lived watches (WatchStats) in flight at once, all subjects together: a budget of their own. */
  readonly maxWatchStreams: number;
  /** Long-lived watches of one subject in flight at once. */
  readonly maxWatchStreamsPerSubject: number;
}

export const DEFAULT_LIMITS: LimitsConfig = Object.freeze({
  ratePerSec: 10,
  burst: 20,
  maxConcurrentPerSubject: 8,
  maxConcurrentStreams: 32,
  maxWatchStreams: 32,
  maxWatchStreamsPerSubject: 2,
});

/** How a call holds its slot: a unary call, a one-off stream, or a long-lived watch. */
export type CallKind = "unary" | "stream" | "watch";

/** Default for the grpc server option `grpc.max_receive_message_length`: every gopsd request is tiny. */
export const DEFAULT_MAX_RECEIVE_MESSAGE_BYTES = 64 * 1024;

export interface Limiter {
  /** Admits a call or throws RESOURCE_EXHAUSTED. Call the returned function once the call ends (idempotent). */
  admit(subject: string, kind: CallKind): () => void;
  /** Subjects the limiter holds state for. */
  trackedSubjects(): number;
}

interface SubjectState {
  tokens: number;
  updatedMs: number;
  active: number;
  watches: number;
}

export function createLimiter(config: LimitsConfig, nowMs: () => number = () => performance.now()): Limiter {
  const { ratePerSec, burst, maxConcurrentPerSubject, maxConcurrentStreams, maxWatchStreams, maxWatchStreamsPerSubject } = config;
  for (const [k, v] of Object.entries(config)) {
    if (!(typeof v === "number" && v > 0 && Number.isFinite(v))) throw new RangeError(`limit ${k} must be a positive number`);
  }
  if (burst < 1) throw new RangeError("limit burst must be at least 1");
  const subjects = new Map<string, SubjectState>();
  const refillMs = (burst / ratePerSec) * 1000;
  const sweepEveryMs = Math.max(1000, refillMs);
  let lastSweepMs = nowMs();
  let streams = 0;
  let watches = 0;

  const refill = (s: SubjectState, now: number) => {
    s.tokens = Math.min(burst, s.tokens + ((now - s.updatedMs) / 1000) * ratePerSec);
    s.updatedMs = now;
  };

  const sweep = (now: number) => {
    lastSweepMs = now;
    for (const [subject, s] of subjects) {
      if (s.active === 0 && s.tokens + ((now - s.updatedMs) / 1000) * ratePerSec >= burst) subjects.delete(subject);
    }
  };

  return {
    admit(subject, kind) {
      const now = nowMs();
      if (now - lastSweepMs >= sweepEveryMs) sweep(now);
      if (kind === "stream" && streams >= maxConcurrentStreams) {
        throw limitExceeded(`server is at its limit of ${maxConcurrentStreams} concurrent streams; retry later`, "concurrent_streams");
      }
      if (kind === "watch" && watches >= maxWatchStreams) {
        throw limitExceeded(`server is at its limit of ${maxWatchStreams} concurrent WatchStats streams; retry later`, "watch_streams");
      }
      let s = subjects.get(subject);
      if (!s) {
        s = { tokens: burst, updatedMs: now, active: 0, watches: 0 };
        subjects.set(subject, s);
      }
      if (s.active >= maxConcurrentPerSubject) {
        throw limitExceeded(
          `too many concurrent calls for ${subject} (limit ${maxConcurrentPerSubject}); retry when one has finished`,
          "concurrent_calls",
        );
      }
      if (kind === "watch" && s.watches >= maxWatchStreamsPerSubject) {
        throw limitExceeded(
          `too many concurrent WatchStats streams for ${subject} (limit ${maxWatchStreamsPerSubject}); end one first`,
          "watch_streams_per_subject",
        );
      }
      refill(s, now);
      if (s.tokens < 1) {
        const waitSec = Math.max(0.1, Math.ceil(((1 - s.tokens) / ratePerSec) * 10) / 10);
        throw limitExceeded(`rate limit exceeded for ${subject}; retry in ${waitSec}s`, "rate", waitSec * 1000);
      }
      s.tokens -= 1;
      s.active += 1;
      if (kind === "stream") streams += 1;
      if (kind === "watch") {
        watches += 1;
        s.watches += 1;
      }
      const state = s;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        state.active -= 1;
        if (kind === "stream") streams -= 1;
        if (kind === "watch") {
          watches -= 1;
          state.watches -= 1;
        }
      };
    },
    trackedSubjects: () => subjects.size,
  };
}

export interface PeerLimitsConfig {
  /** Sustained unauthenticated calls per second per source address. */
  readonly ratePerSec: number;
  readonly burst: number;
  /** Most addresses tracked at once; beyond that, new addresses share one bucket. */
  readonly maxPeers: number;
}

/**
 * Unauthenticated work per source address: calls to public methods (health) and calls whose token fails. Generous
 * for probes and typos, and far below what floods the log or the CPU (before: 56,768 anonymous calls in 10 s).
 */
export const DEFAULT_PEER_LIMITS: PeerLimitsConfig = Object.freeze({ ratePerSec: 20, burst: 40, maxPeers: 4096 });

/** The key addresses beyond `maxPeers` share. */
export const OVERFLOW_PEER_KEY = "(other peers)";

export interface PeerLimiter {
  /** Whether `address` has a token left (takes none). */
  allows(address: string): boolean;
  /** Takes a token from `address`; false when it had none. */
  take(address: string): boolean;
  /** Addresses (and the overflow bucket) held. */
  trackedPeers(): number;
}

/**
 * A token bucket per source address, pure over an injected clock. Buckets that are full again are swept (they
 * change nothing); when `maxPeers` buckets are held after a sweep, new addresses share the overflow bucket, so the
 * table never grows beyond maxPeers + 1 whatever the number of addresses.
 */
export function createPeerLimiter(config: PeerLimitsConfig, nowMs: () => number = () => performance.now()): PeerLimiter {
  const { ratePerSec, burst, maxPeers } = config;
  for (const [k, v] of Object.entries(config)) {
    if (!(typeof v === "number" && v > 0 && Number.isFinite(v))) throw new RangeError(`peer limit ${k} must be a positive number`);
  }
  const buckets = new Map<string, { tokens: number; updatedMs: number }>();
  const level = (b: { tokens: number; updatedMs: number }, now: number) => Math.min(burst, b.tokens + ((now - b.updatedMs) / 1000) * ratePerSec);
  const sweep = (now: number) => {
    for (const [k, b] of buckets) if (level(b, now) >= burst) buckets.delete(k);
  };
  const bucketOf = (address: string, now: number) => {
    let b = buckets.get(address);
    if (b) return b;
    if (buckets.size >= maxPeers) sweep(now);
    const key = buckets.size >= maxPeers ? OVERFLOW_PEER_KEY : address;
    b = buckets.get(key);
    if (!b) {
      b = { tokens: burst, updatedMs: now };
      buckets.set(key, b);
    }
    return b;
  };
  return {
    allows(address) {
      const now = nowMs();
      const b = buckets.get(address) ?? (buckets.size >= maxPeers ? buckets.get(OVERFLOW_PEER_KEY) : undefined);
      return b === undefined || level(b, now) >= 1;
    },
    take(address) {
      const now = nowMs();
      const b = bucketOf(address, now);
      b.tokens = level(b, now);
      b.updatedMs = now;
      if (b.tokens < 1) return false;
      b.tokens -= 1;
      return true;
    },
    trackedPeers: () => buckets.size,
  };
}
