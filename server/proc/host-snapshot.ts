// Host-wide numbers every process row needs, read once per scan.
import { parseBootTimeSeconds, parseMemTotalBytes, parseUptimeSeconds } from "./parse-host.js";
import type { ProcFs } from "./proc-fs.js";

export interface HostSnapshot {
  memTotalBytes: number;
  uptimeSeconds: number;
  bootTimeSeconds: number;
  clockTicks: number;
  pageSize: number;
}

/** bootTimeSeconds never changes while the machine runs: pass the last snapshot's to skip /proc/stat. */
export function readHostSnapshot(fs: ProcFs, bootTimeSeconds?: number): HostSnapshot {
  return {
    memTotalBytes: parseMemTotalBytes(fs.readHostFile("meminfo")),
    uptimeSeconds: parseUptimeSeconds(fs.readHostFile("uptime")),
    bootTimeSeconds: bootTimeSeconds ?? parseBootTimeSeconds(fs.readHostFile("stat")),
    clockTicks: fs.clockTicks,
    pageSize: fs.pageSize,
  };
}
