// ListProcesses: one pass over /proc. Go-ness comes from each executable's build info, cached by file
// identity so a warm scan reads no binary at all; a process that cannot be classified is counted by reason
// (and listed, unless it is a kernel thread, already gone, or merely not Go), never silently dropped.
import {
  ScanProblemKind,
  type Agent,
  type ListProcessesResponse,
  type Process,
  type ScanProblem,
} from "../../proto/index.js";
import { locateAgent } from "../agent/port-file.js";
import type { GoBuildInfo } from "../elf/index.js";
import { BuildInfoCache } from "./build-info-cache.js";
import type { ContainerResolver } from "./container-info.js";
import { describeProcess } from "./describe-process.js";
import { errorText, isDenied, isGone } from "./errno.js";
import { exeVerdict, type ExeVerdict, type ReadBuildInfo } from "./go-binary.js";
import { readHostSnapshot, type HostSnapshot } from "./host-snapshot.js";
import { NetTables } from "./net-tables.js";
import { parseCmdline } from "./parse-cmdline.js";
import { hasExited, isKernelThread, parseStat, type ProcStat } from "./parse-stat.js";
import { parseStatus } from "./parse-status.js";
import { commMayBeTruncated } from "./process-fields.js";
import type { ProcFs } from "./proc-fs.js";
import { UserNames } from "./user-names.js";
import { escapeLine } from "../../common/escape-text.js";

export type ScanResult = Omit<ListProcessesResponse, "host">;

export interface ProcessScannerOptions {
  /** Most executables whose verdict is kept (default 4096). */
  cacheSize?: number;
  /** A verdict not needed for this many scans is dropped (default 3). */
  maxIdleScans?: number;
  readBuildInfo?: ReadBuildInfo;
  /** How a Go process's agent is found (default locateAgent on this scanner's ProcFs). */
  locateAgent?: (pid: number, tables: NetTables) => Agent;
  /** Names each process's container (default: none). */
  containers?: ContainerResolver;
}

const K = ScanProblemKind;

class ProblemTally {
  private readonly byKind = new Map<ScanProblemKind, number>();
  readonly problems: ScanProblem[] = [];

  constructor(private readonly all: boolean) {}

  record(pid: number, kind: ScanProblemKind, detail: string): void {
    this.byKind.set(kind, (this.byKind.get(kind) ?? 0) + 1);
    const countOnly =
      kind === K.SCAN_PROBLEM_KIND_KERNEL_THREAD ||
      kind === K.SCAN_PROBLEM_KIND_EXITED ||
      (kind === K.SCAN_PROBLEM_KIND_NO_BUILD_INFO && !this.all);
    if (!countOnly) this.problems.push({ pid, kind, detail: escapeLine(detail) });
  }

  /** A read that failed for pid: the process went away, or a problem reading /proc. */
  recordError(pid: number, e: unknown): void {
    if (isGone(e)) this.record(pid, K.SCAN_PROBLEM_KIND_EXITED, "");
    else this.record(pid, problemKindOf(e), errorText(e));
  }

  counts() {
    return [...this.byKind].sort((a, b) => a[0] - b[0]).map(([kind, count]) => ({ kind, count }));
  }
}

const problemKindOf = (e: unknown) => (isDenied(e) ? K.SCAN_PROBLEM_KIND_PERMISSION_DENIED : K.SCAN_PROBLEM_KIND_IO_ERROR);

export class ProcessScanner {
  private readonly cache: BuildInfoCache<ExeVerdict>;
  private readonly users: UserNames;
  private readonly readBuildInfo: ReadBuildInfo | undefined;
  private readonly locate: (pid: number, tables: NetTables) => Agent;
  private readonly containers: ContainerResolver | undefined;
  /** Socket tables of the current scan, shared by the agent lookups of one network namespace. */
  private netTables: NetTables;
  private bootTimeSeconds: number | undefined;

  constructor(
    private readonly fs: ProcFs,
    opts: ProcessScannerOptions = {},
  ) {
    this.cache = new BuildInfoCache(opts.cacheSize ?? 4096, opts.maxIdleScans ?? 3);
    this.users = new UserNames(fs);
    this.readBuildInfo = opts.readBuildInfo;
    this.locate = opts.locateAgent ?? ((pid, tables) => locateAgent(fs, pid, tables));
    this.netTables = new NetTables(fs);
    this.containers = opts.containers;
  }

  /** Number of executables whose verdict is cached. */
  get cachedExecutables(): number {
    return this.cache.size;
  }

  scan({ all }: { all: boolean }): ScanResult {
    const host = readHostSnapshot(this.fs, this.bootTimeSeconds);
    this.bootTimeSeconds = host.bootTimeSeconds;
    const pids = this.fs.listPids();
    const tally = new ProblemTally(all);
    const processes: Process[] = [];
    this.netTables = new NetTables(this.fs);
    this.cache.beginScan();
    try {
      for (const pid of pids) {
        const p = this.scanOne(pid, all, host, tally);
        if (p) processes.push(p);
      }
    } finally {
      this.cache.endScan();
    }
    this.containers?.retain(new Set(pids));
    return { processes, scanned: pids.length, problemCounts: tally.counts(), problems: tally.problems };
  }

  private scanOne(pid: number, all: boolean, host: HostSnapshot, tally: ProblemTally): Process | undefined {
    let verdict: ExeVerdict | undefined;
    try {
      verdict = this.verdictOf(pid);
    } catch (e) {
      if (!isGone(e)) verdict = { problem: problemKindOf(e), detail: errorText(e) };
    }
    if (verdict === undefined) return this.withoutExe(pid, all, host, tally);
    if ("go" in verdict) return this.tryDescribe(pid, host, tally, verdict.go);
    if (!all) {
      tally.record(pid, verdict.problem, verdict.detail);
      return undefined;
    }
    const p = this.tryDescribe(pid, host, tally);
    if (p) tally.record(pid, verdict.problem, verdict.detail);
    return p;
  }

  /** Throws the errno error of /proc/PID/exe (ENOENT: kernel thread, zombie or gone). */
  private verdictOf(pid: number): ExeVerdict {
    const cached = this.cache.get(this.fs.statExe(pid));
    if (cached) return cached;
    const exe = this.fs.openExe(pid);
    try {
      const v = exeVerdict(exe, this.readBuildInfo);
      this.cache.set(exe.id, v);
      return v;
    } finally {
      exe.close();
    }
  }

  /** No executable: a kernel thread, a zombie, or a process that is gone. */
  private withoutExe(pid: number, all: boolean, host: HostSnapshot, tally: ProblemTally): Process | undefined {
    let stat: ProcStat;
    try {
      stat = parseStat(this.fs.readStat(pid));
    } catch (e) {
      tally.recordError(pid, e);
      return undefined;
    }
    const kind = isKernelThread(stat)
      ? K.SCAN_PROBLEM_KIND_KERNEL_THREAD
      : hasExited(stat)
        ? K.SCAN_PROBLEM_KIND_EXITED
        : K.SCAN_PROBLEM_KIND_IO_ERROR;
    const p = all ? this.tryDescribe(pid, host, tally, undefined, stat) : undefined;
    if (!all || p) tally.record(pid, kind, `/proc/${pid}/exe is missing (state ${stat.state})`);
    return p;
  }

  private tryDescribe(
    pid: number,
    host: HostSnapshot,
    tally: ProblemTally,
    go?: GoBuildInfo,
    stat?: ProcStat,
  ): Process | undefined {
    try {
      return this.describe(pid, host, go, stat);
    } catch (e) {
      tally.recordError(pid, e);
      return undefined;
    }
  }

  private describe(pid: number, host: HostSnapshot, go: GoBuildInfo | undefined, stat?: ProcStat): Process {
    const st = stat ?? parseStat(this.fs.readStat(pid));
    const status = parseStatus(this.fs.readStatus(pid));
    let exe = "";
    try {
      exe = this.fs.readExeLink(pid);
    } catch (e) {
      // Kernel threads and zombies have none; without permission the problem is already counted.
      if (!isGone(e) && !isDenied(e)) throw e;
    }
    let cmdline: string[] | undefined;
    if (commMayBeTruncated(st.comm)) {
      try {
        cmdline = parseCmdline(this.fs.readCmdline(pid));
      } catch (e) {
        if (!isDenied(e)) throw e;
      }
    }
    return describeProcess(
      pid,
      {
        stat: st,
        uid: status.uid,
        user: this.users.nameOf(status.uid),
        exe,
        cmdline,
        go,
        agent: go ? this.locate(pid, this.netTables) : undefined,
        nspid: status.nspid,
        container: this.containers?.of(pid, st.starttime),
      },
      host,
    );
  }
}
