// Abuse limits, pure over an injected clock: a token bucket per subject (rate/s + burst), a cap on one subject's
// concurrent calls, and a cap on concurrent streaming calls server-wide. State for idle subjects (no call in
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
  /** Streaming calls in flight at once, all subjects together. */
  readonly maxConcurrentStreams: number;
}

export const DEFAULT_LIMITS: LimitsConfig = Object.freeze({
  ratePerSec: 10,
  burst: 20,
  maxConcurrentPerSubject: 8,
  maxConcurrentStreams: 32,
});

/** Default for the grpc server option `grpc.max_receive_message_length`: every gopsd request is tiny. */
export const DEFAULT_MAX_RECEIVE_MESSAGE_BYTES = 64 * 1024;

export interface Limiter {
  /** Admits a call or throws RESOURCE_EXHAUSTED. Call the returned function once the call ends (idempotent). */
  admit(subject: string, stream: boolean): () => void;
  /** Subjects the limiter holds state for. */
  trackedSubjects(): number;
}

interface SubjectState {
  tokens: number;
  updatedMs: number;
  active: number;
}

export function createLimiter(config: LimitsConfig, nowMs: () => number = () => performance.now()): Limiter {
  const { ratePerSec, burst, maxConcurrentPerSubject, maxConcurrentStreams } = config;
  for (const [k, v] of Object.entries(config)) {
    if (!(typeof v === "number" && v > 0 && Number.isFinite(v))) throw new RangeError(`limit ${k} must be a positive number`);
  }
  if (burst < 1) throw new RangeError("limit burst must be at least 1");
  const subjects = new Map<string, SubjectState>();
  const refillMs = (burst / ratePerSec) * 1000;
  const sweepEveryMs = Math.max(1000, refillMs);
  let lastSweepMs = nowMs();
  let streams = 0;

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
    admit(subject, stream) {
      const now = nowMs();
      if (now - lastSweepMs >= sweepEveryMs) sweep(now);
      if (stream && streams >= maxConcurrentStreams) {
        throw limitExceeded(`server is at its limit of ${maxConcurrentStreams} concurrent streams; retry later`);
      }
      let s = subjects.get(subject);
      if (!s) {
        s = { tokens: burst, updatedMs: now, active: 0 };
        subjects.set(subject, s);
      }
      if (s.active >= maxConcurrentPerSubject) {
        throw limitExceeded(
          `too many concurrent calls for ${subject} (limit ${maxConcurrentPerSubject}); retry when one has finished`,
        );
      }
      refill(s, now);
      if (s.tokens < 1) {
        const waitSec = Math.max(0.1, Math.ceil(((1 - s.tokens) / ratePerSec) * 10) / 10);
        throw limitExceeded(`rate limit exceeded for ${subject}; retry in ${waitSec}s`);
      }
      s.tokens -= 1;
      s.active += 1;
      if (stream) streams += 1;
      const state = s;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        state.active -= 1;
        if (stream) streams -= 1;
      };
    },
    trackedSubjects: () => subjects.size,
  };
}
