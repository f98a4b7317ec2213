// Per-signal deadlines for agent calls (docs/agent-protocol.md §4). The agent has no read deadline and,
// on a handler error, sends nothing and never closes, so every call is bounded: connectMs for the TCP
// connect, deadlineMs for the whole call counted from the start of the connect.
import { invalidArgument } from "../../common/errors.js";
import { signalNames, type SignalName } from "./signals.js";

export interface AgentTimeout {
  readonly connectMs: number;
  readonly deadlineMs: number;
}

export type AgentTimeoutTable = Readonly<Record<SignalName, AgentTimeout>>;

/** How long the agent itself takes for the fixed-length captures (not configurable on the agent side). */
export const CaptureDurationMs = Object.freeze({ CPUProfile: 30_000, Trace: 5_000 });
/** Slack on top of a capture for the agent to stop, encode and send it. */
const CaptureMarginMs = 15_000;

const CONNECT_MS = 3_000;
const TEXT_MS = 10_000;

const entry = (deadlineMs: number): AgentTimeout => Object.freeze({ connectMs: CONNECT_MS, deadlineMs });

export const AgentTimeouts: AgentTimeoutTable = Object.freeze({
  StackTrace: entry(TEXT_MS),
  GC: entry(TEXT_MS),
  MemStats: entry(TEXT_MS),
  Version: entry(TEXT_MS),
  HeapProfile: entry(30_000),
  CPUProfile: entry(CaptureDurationMs.CPUProfile + CaptureMarginMs),
  Stats: entry(TEXT_MS),
  Trace: entry(CaptureDurationMs.Trace + CaptureMarginMs),
  BinaryDump: entry(120_000),
  SetGCPercent: entry(TEXT_MS),
});

/**
 * The most bytes one agent reply may have, per signal. Every reply is bounded: a hostile "agent" (any process
 * of the target's user listening on its advertised port) may stream forever. Text replies are tiny (memstats
 * ~2 KiB); a stack dump of 100k goroutines is ~50 MiB; captures are streamed through, never buffered, and
 * still bounded so that a stream cannot run on for its whole deadline at loopback speed.
 */
export const TEXT_REPLY_MAX_BYTES = 1 << 20;
export const STACK_REPLY_MAX_BYTES = 64 << 20;
export const CAPTURE_REPLY_MAX_BYTES = 512 << 20;
export const BINARY_REPLY_MAX_BYTES = 1024 << 20;

export const AgentReplyMaxBytes: Readonly<Record<SignalName, number>> = Object.freeze({
  StackTrace: STACK_REPLY_MAX_BYTES,
  GC: TEXT_REPLY_MAX_BYTES,
  MemStats: TEXT_REPLY_MAX_BYTES,
  Version: TEXT_REPLY_MAX_BYTES,
  HeapProfile: CAPTURE_REPLY_MAX_BYTES,
  CPUProfile: CAPTURE_REPLY_MAX_BYTES,
  Stats: TEXT_REPLY_MAX_BYTES,
  Trace: CAPTURE_REPLY_MAX_BYTES,
  BinaryDump: BINARY_REPLY_MAX_BYTES,
  SetGCPercent: TEXT_REPLY_MAX_BYTES,
});

export interface AgentTimeoutOverrides {
  /** Connect timeout for every signal. */
  connectMs?: number;
  /** Whole-call deadline per signal. */
  deadlineMs?: Partial<Record<SignalName, number>>;
}

// setTimeout fires at once for delays above 2^31-1 ms, which would turn a long deadline into none.
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A new frozen table: `base` with the overrides applied. Rejects non-positive, fractional or huge values. */
export function withAgentTimeouts(
  overrides: AgentTimeoutOverrides,
  base: AgentTimeoutTable = AgentTimeouts,
): AgentTimeoutTable {
  const check = (what: string, ms: number | undefined): number | undefined => {
    if (ms === undefined) return undefined;
    if (!Number.isInteger(ms) || ms <= 0 || ms > MAX_TIMER_MS) {
      throw invalidArgument(`${what} must be a whole number of milliseconds in 1..${MAX_TIMER_MS}, got ${ms}`);
    }
    return ms;
  };
  for (const key of Object.keys(overrides.deadlineMs ?? {})) {
    if (!(signalNames as readonly string[]).includes(key)) {
      throw invalidArgument(`unknown agent signal "${key}" in timeouts (known: ${signalNames.join(", ")})`);
    }
  }
  const connectMs = check("agent connect timeout", overrides.connectMs);
  const table = {} as Record<SignalName, AgentTimeout>;
  for (const name of signalNames) {
    table[name] = Object.freeze({
      connectMs: connectMs ?? base[name].connectMs,
      deadlineMs: check(`agent deadline for ${name}`, overrides.deadlineMs?.[name]) ?? base[name].deadlineMs,
    });
  }
  return Object.freeze(table);
}
