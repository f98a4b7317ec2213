// Pure derivations of the Process row fields from parsed /proc data.
import { basename } from "node:path";
import type { HostSnapshot } from "./host-snapshot.js";
import type { ProcStat } from "./parse-stat.js";

/** TASK_COMM_LEN - 1: the kernel truncates comm to this many bytes. */
const COMM_MAX = 15;

/** comm may be truncated; then the full name is read from cmdline (what gops shows). */
export function commMayBeTruncated(comm: string): boolean {
  return Buffer.byteLength(comm) >= COMM_MAX;
}

/** comm, or the basename of argv[0] when comm is truncated and argv[0] starts with it. */
export function processName(comm: string, cmdline?: readonly string[]): string {
  const argv0 = cmdline?.[0];
  if (!argv0 || !commMayBeTruncated(comm)) return comm;
  const full = basename(argv0);
  return full.startsWith(comm) ? full : comm;
}

export function elapsedSeconds(stat: ProcStat, host: HostSnapshot): number {
  return Math.max(0, host.uptimeSeconds - stat.starttime / host.clockTicks);
}

export interface UsageFields {
  cpuPercent: number;
  rssBytes: number;
  memoryPercent: number;
  startTimeUnixMs: number;
}

export function usageFields(stat: ProcStat, host: HostSnapshot): UsageFields {
  const elapsed = elapsedSeconds(stat, host);
  const cpuSeconds = (stat.utime + stat.stime) / host.clockTicks;
  const rssBytes = stat.rssPages * host.pageSize;
  return {
    cpuPercent: elapsed > 0 ? (cpuSeconds / elapsed) * 100 : 0,
    rssBytes,
    memoryPercent: host.memTotalBytes > 0 ? (rssBytes / host.memTotalBytes) * 100 : 0,
    startTimeUnixMs: Math.round(host.bootTimeSeconds * 1000 + (stat.starttime * 1000) / host.clockTicks),
  };
}
