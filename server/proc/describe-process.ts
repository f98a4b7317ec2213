// The Process row (ListProcesses / GetProcess) from parsed /proc data.
import type { Agent, Container, Process } from "../../proto/index.js";
import type { GoBuildInfo } from "../elf/index.js";
import type { HostSnapshot } from "./host-snapshot.js";
import type { ProcStat } from "./parse-stat.js";
import { processName, usageFields } from "./process-fields.js";

export interface ProcessSources {
  stat: ProcStat;
  uid: number;
  user: string;
  exe: string;
  /** Needed only when comm may be truncated (see processName). */
  cmdline?: readonly string[];
  go?: GoBuildInfo;
  agent?: Agent;
  /** NSpid of /proc/PID/status: the pid in each pid namespace, outermost first. */
  nspid?: readonly number[];
  container?: Container;
}

/** The pid in the process's innermost pid namespace when it differs from `pid`, else 0. */
export function innerPid(pid: number, nspid: readonly number[] | undefined): number {
  const inner = nspid?.at(-1);
  return inner !== undefined && inner !== pid ? inner : 0;
}

export function describeProcess(pid: number, src: ProcessSources, host: HostSnapshot): Process {
  return {
    pid,
    ppid: src.stat.ppid,
    name: processName(src.stat.comm, src.cmdline),
    exe: src.exe,
    user: src.user,
    uid: src.uid,
    isGo: src.go !== undefined,
    goVersion: src.go?.goVersion ?? "",
    modulePath: src.go?.main?.path ?? "",
    moduleVersion: src.go?.main?.version ?? "",
    agent: src.agent,
    ...usageFields(src.stat, host),
    ...(innerPid(pid, src.nspid) !== 0 ? { nsPid: innerPid(pid, src.nspid) } : {}),
    container: src.container,
  };
}
