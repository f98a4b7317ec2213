// Durations on the command line (parsed by common/duration.ts) and in gops-style output.
import { parseDurationMs } from "../common/duration.js";
import { UsageError } from "./errors.js";

/** A Go duration ("10s", "1m30s", "250ms") or a number of seconds, in milliseconds; a UsageError otherwise. */
export function parseDuration(text: string, what: string): number {
  const ms = parseDurationMs(text);
  if (ms === undefined) throw new UsageError(`invalid ${what} "${text}" (want a duration like 10s, 2m, 1m30s, or a number of seconds)`);
  return ms;
}

/** Milliseconds as Go's time.Duration prints them (gops' "cpu usage (1m0s)"): "0s", "250ms", "2s", "1m0s", "1h2m3.5s". */
export function formatGoDuration(ms: number): string {
  if (ms < 0) return `-${formatGoDuration(-ms)}`;
  if (ms === 0) return "0s";
  if (ms < 1) return `${trim(ms * 1000)}µs`;
  if (ms < 1000) return `${trim(ms)}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = (ms % 60_000) / 1000;
  if (h > 0) return `${h}h${m}m${trim(s)}s`;
  if (m > 0) return `${m}m${trim(s)}s`;
  return `${trim(s)}s`;
}

function trim(n: number): string {
  return String(Number(n.toFixed(9)));
}
