// Request validation shared by gopsd and the in-process local backend: bad input becomes INVALID_ARGUMENT
// before anything touches /proc or an agent.
import { invalidArgument } from "../common/errors.js";
import { MAX_PID } from "../common/pid.js";

export { MAX_PID };
const MAX_CPU_SAMPLE_MS = 60_000;
const MIN_GC_PERCENT = -1;
const MAX_GC_PERCENT = 2_147_483_647;

export function requirePid(pid: number | undefined): number {
  if (pid === undefined || !Number.isInteger(pid) || pid < 1 || pid > MAX_PID) {
    throw invalidArgument(`invalid pid ${pid ?? "(missing)"}: a pid is an integer between 1 and ${MAX_PID}`);
  }
  return pid;
}

export function requireCpuSampleMs(ms: number | undefined): number {
  const v = ms ?? 0;
  if (!Number.isInteger(v) || v < 0 || v > MAX_CPU_SAMPLE_MS) {
    throw invalidArgument(`invalid cpu sample period ${v} ms: use 0..${MAX_CPU_SAMPLE_MS} ms`);
  }
  return v;
}

/**
 * The `percent` of SetGCPercent. The field has explicit presence (proto3 `optional`): a request without it is
 * refused rather than read as 0, which would set GOGC=0 (collect continuously).
 */
export function requireGcPercent(percent: number | undefined): number {
  if (percent === undefined || percent === null) throw invalidArgument("percent is required");
  if (!Number.isInteger(percent) || percent < MIN_GC_PERCENT || percent > MAX_GC_PERCENT) {
    throw invalidArgument(
      `invalid GC percent ${percent}: use -1 (off) or an integer between 0 and ${MAX_GC_PERCENT}`,
    );
  }
  return percent;
}

const MIN_WATCH_INTERVAL_MS = 500;
const MAX_WATCH_INTERVAL_MS = 3_600_000;
const DEFAULT_WATCH_INTERVAL_MS = 1_000;
const MAX_WATCH_PIDS = 4096;

/** WatchStats' interval: 0 = 1 s, else 500 ms..1 h. */
export function requireWatchInterval(ms: number | undefined): number {
  const v = ms ?? 0;
  if (v === 0) return DEFAULT_WATCH_INTERVAL_MS;
  if (!Number.isInteger(v) || v < MIN_WATCH_INTERVAL_MS || v > MAX_WATCH_INTERVAL_MS) {
    throw invalidArgument(`invalid watch interval ${v} ms: use ${MIN_WATCH_INTERVAL_MS}..${MAX_WATCH_INTERVAL_MS} ms`);
  }
  return v;
}

/** WatchStats' pids: each a valid pid, at most 4096 of them. */
export function requireWatchPids(pids: readonly number[] | undefined): number[] {
  const list = [...(pids ?? [])];
  if (list.length > MAX_WATCH_PIDS) throw invalidArgument(`too many pids (${list.length}): watch at most ${MAX_WATCH_PIDS}`);
  for (const p of list) requirePid(p);
  return list;
}
