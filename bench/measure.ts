// Timing and CPU helpers shared by the benchmarks.
import { readFileSync } from "node:fs";

export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

/** Wall-clock ms of each of `runs` sequential calls. */
export function timeSync(runs: number, fn: () => void): number[] {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    out.push(performance.now() - t0);
  }
  return out;
}

/** Wall-clock ms of each of `runs` sequential awaited calls. */
export async function timeAsync(runs: number, fn: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out;
}

/** Clock ticks per second of /proc/PID/stat's times (USER_HZ: 100 on Linux x86-64). */
const CLK_TCK = 100;

/**
 * CPU ms of pid so far (utime + stime, from /proc/PID/stat); with `withChildren`, plus the CPU of the children it
 * has waited for (cutime + cstime).
 */
export function procCpuMs(pid: number, opts: { withChildren?: boolean } = {}): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const x = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(x[11]) + Number(x[12]) + (opts.withChildren ? Number(x[13]) + Number(x[14]) : 0);
  return (ticks * 1000) / CLK_TCK;
}
