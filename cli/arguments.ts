// Validators for positional arguments: each returns the typed value or throws a UsageError.
import { parseDuration } from "./duration.js";
import { UsageError } from "./errors.js";
import { MAX_PID } from "../common/pid.js";

export { MAX_PID };

/** GetProcess samples CPU for at most this long. */
const MAX_PERIOD_MS = 60_000;

export function parsePid(text: string | undefined): number {
  if (text === undefined) throw new UsageError("missing PID");
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(n >= 1 && n <= MAX_PID)) throw new UsageError(`invalid pid "${text}"`);
  return n;
}

/** The arguments of a command that takes exactly one pid. */
export function parseOnlyPid(args: readonly string[]): number {
  if (args.length > 1) throw new UsageError(`too many arguments: "${args[1]}"`);
  return parsePid(args[0]);
}

/** setgc's value: an integer from -1 to 2147483647, or "off" (= -1, the collector is disabled). */
export function parseGcPercent(text: string | undefined): number {
  if (text === undefined) throw new UsageError("missing gc percentage");
  if (text === "off") return -1;
  const n = /^-?\d+$/.test(text) ? Number(text) : NaN;
  if (!(n >= -1 && n <= 2_147_483_647)) {
    throw new UsageError(`invalid gc percentage "${text}" (want an integer from -1 to 2147483647, or off)`);
  }
  return n;
}

/** The CPU sampling period of `process <pid> [period]`, in whole milliseconds; 0 when not given. */
export function parsePeriod(text: string | undefined): number {
  if (text === undefined) return 0;
  const ms = parseDuration(text, "period");
  if (ms < 0) throw new UsageError(`invalid period "${text}": it must not be negative`);
  if (ms > MAX_PERIOD_MS) throw new UsageError(`invalid period "${text}": it must be at most 1m0s`);
  return Math.ceil(ms);
}

/** --timeout: a duration or seconds; 0 means no deadline. */
export function parseTimeout(text: string): number {
  const ms = parseDuration(text, "timeout");
  if (ms < 0) throw new UsageError(`invalid timeout "${text}": it must not be negative`);
  return Math.ceil(ms);
}
