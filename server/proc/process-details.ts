// GetProcess (the `gops <pid>` view of any process, Go or not) and GetBuildInfo (`go version -m`).
import { setTimeout as sleep } from "node:timers/promises";
import type { Agent, GetBuildInfoResponse, GetProcessResponse } from "../../proto/index.js";
import { locateAgent } from "../agent/port-file.js";
import type { GoBuildInfo } from "../elf/index.js";
import { cancelled, notGo, permissionDenied, processNotFound } from "../../common/errors.js";
import { requireCpuSampleMs, requirePid } from "../validate.js";
import { readConnections } from "./connections.js";
import { describeProcess } from "./describe-process.js";
import { isDenied, isGone } from "./errno.js";
import { exeVerdict, toProtoBuildInfo, type ExeVerdict, type ReadBuildInfo } from "./go-binary.js";
import { readHostSnapshot } from "./host-snapshot.js";
import { parseCmdline } from "./parse-cmdline.js";
import { parseStat, type ProcStat } from "./parse-stat.js";
import { parseStatus } from "./parse-status.js";
import { elapsedSeconds } from "./process-fields.js";
import type { ProcFs } from "./proc-fs.js";
import { UserNames } from "./user-names.js";
import type { ContainerResolver } from "./container-info.js";

export interface ProcessDetailsOptions {
  /** Also measure CPU use over this many milliseconds (0..60000). */
  cpuSampleMs?: number;
  signal?: AbortSignal;
  readBuildInfo?: ReadBuildInfo;
  /** How a Go process's agent is found (default locateAgent on `fs`). */
  locateAgent?: (pid: number) => Agent;
  /** Names the process's container (default: none). */
  containers?: ContainerResolver;
}

/** Runs one read of pid's /proc data, turning "gone" and "denied" into domain errors. */
function step<T>(pid: number, what: string, read: () => T): T {
  try {
    return read();
  } catch (e) {
    if (isGone(e)) throw processNotFound(pid);
    if (isDenied(e)) throw permissionDenied(`${what} of pid ${pid}`, pid);
    throw e;
  }
}

/** The executable link, or "" when there is none (kernel thread, zombie). */
function exeLink(fs: ProcFs, pid: number): string {
  try {
    return fs.readExeLink(pid);
  } catch (e) {
    if (isGone(e)) return "";
    if (isDenied(e)) throw permissionDenied(`reading the executable of pid ${pid}`, pid);
    throw e;
  }
}

/** undefined when the process has no executable (kernel thread, zombie, or gone). */
function readVerdict(fs: ProcFs, pid: number, read?: ReadBuildInfo): ExeVerdict | undefined {
  let exe;
  try {
    exe = fs.openExe(pid);
  } catch (e) {
    if (isGone(e)) return undefined;
    if (isDenied(e)) throw permissionDenied(`reading the executable of pid ${pid}`, pid);
    throw e;
  }
  try {
    return step(pid, "reading the executable", () => exeVerdict(exe, read));
  } finally {
    exe.close();
  }
}

const cpuTicks = (s: ProcStat) => s.utime + s.stime;

async function sampleCpuPercent(fs: ProcFs, pid: number, ms: number, signal?: AbortSignal): Promise<number> {
  const before = step(pid, "reading the stat", () => parseStat(fs.readStat(pid)));
  const t0 = performance.now();
  try {
    await sleep(ms, undefined, { signal });
  } catch (e) {
    if (signal?.aborted) throw cancelled(`sampling the CPU use of pid ${pid}`);
    throw e;
  }
  const after = step(pid, "reading the stat", () => parseStat(fs.readStat(pid)));
  const seconds = (performance.now() - t0) / 1000;
  if (after.starttime !== before.starttime) throw processNotFound(pid); // the pid was reused meanwhile
  return ((cpuTicks(after) - cpuTicks(before)) / fs.clockTicks / seconds) * 100;
}

export async function getProcessDetails(
  fs: ProcFs,
  pid: number,
  opts: ProcessDetailsOptions = {},
): Promise<GetProcessResponse> {
  requirePid(pid);
  const sampleMs = requireCpuSampleMs(opts.cpuSampleMs);
  if (opts.signal?.aborted) throw cancelled(`reading pid ${pid}`);
  const host = readHostSnapshot(fs);
  const stat = step(pid, "reading the stat", () => parseStat(fs.readStat(pid)));
  const status = step(pid, "reading the status", () => parseStatus(fs.readStatus(pid)));
  const cmdline = step(pid, "reading the command line", () => parseCmdline(fs.readCmdline(pid)));
  const exe = exeLink(fs, pid);
  const verdict = readVerdict(fs, pid, opts.readBuildInfo);
  const go: GoBuildInfo | undefined = verdict && "go" in verdict ? verdict.go : undefined;
  const connections = step(pid, "reading the open sockets", () => readConnections(fs, pid));
  const process = describeProcess(
    pid,
    {
      stat,
      uid: status.uid,
      user: new UserNames(fs).nameOf(status.uid),
      exe,
      cmdline,
      go,
      agent: go ? (opts.locateAgent?.(pid) ?? locateAgent(fs, pid)) : undefined,
      nspid: status.nspid,
      container: opts.containers?.of(pid, stat.starttime),
    },
    host,
  );
  const sampled = sampleMs > 0 ? await sampleCpuPercent(fs, pid, sampleMs, opts.signal) : undefined;
  return {
    process,
    threads: status.threads,
    cmdline,
    elapsedSeconds: elapsedSeconds(stat, host),
    hasSampledCpu: sampled !== undefined,
    sampledCpuPercent: sampled ?? 0,
    cpuSampleMs: sampled !== undefined ? sampleMs : 0,
    connections,
    buildInfo: go ? toProtoBuildInfo(go) : undefined,
    nsPids: status.nspid.length > 0 ? [...status.nspid] : [pid],
  };
}

export function getBuildInfo(fs: ProcFs, pid: number, read?: ReadBuildInfo): GetBuildInfoResponse {
  requirePid(pid);
  const exe = exeLink(fs, pid);
  const verdict = readVerdict(fs, pid, read);
  if (verdict === undefined) {
    // No executable: either the process is gone or it never had one.
    step(pid, "reading the stat", () => fs.readStat(pid));
    throw notGo(pid, "it has no executable (a kernel thread or a zombie)");
  }
  if (!("go" in verdict)) throw notGo(pid, verdict.detail);
  return { pid, exe, buildInfo: toProtoBuildInfo(verdict.go) };
}

