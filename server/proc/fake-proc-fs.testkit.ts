// An in-memory ProcFs for tests: processes are described by their fields and rendered into the exact
// text layouts of the real /proc files, so the real parsers run on them. Errors are Node errno errors.
import { posix } from "node:path";
import { TargetFileError, type Credentials } from "./target-file.js";
import type { ExeHandle, FdEntry, FileId, HostFile, NetTable, PidDir, ProcFs } from "./proc-fs.js";

export type FakeMethod =
  | "readStat"
  | "readStatus"
  | "readCmdline"
  | "readEnviron"
  | "readExeLink"
  | "statExe"
  | "openExe"
  | "readFdLinks"
  | "readFdEntries"
  | "readFdLink"
  | "countFds"
  | "readLimits"
  | "readNet"
  | "readNetNamespace"
  | "readCgroup";

export interface FakeExe {
  path: string;
  id: FileId;
  bytes: Buffer;
}

export interface FakeProcess {
  comm: string;
  state?: string;
  ppid?: number;
  flags?: number;
  utime?: number;
  stime?: number;
  starttime?: number;
  rssPages?: number;
  threads?: number;
  uid?: number;
  nspid?: number[];
  cmdline?: string[];
  environ?: Record<string, string>;
  /** undefined: no /proc/PID/exe (kernel thread). */
  exe?: FakeExe;
  fds?: string[];
  /** The "Max open files" soft limit /proc/PID/limits shows (default 1024). */
  maxOpenFiles?: number;
  net?: Partial<Record<NetTable, string>>;
  /** Network namespace inode (default: the host's). */
  netns?: number;
  /** /proc/PID/cgroup content (default: the root cgroup of a v2-only host). */
  cgroup?: string;
  /** Files as the process sees them (absolute paths); a string value that is an errno code fails with it. */
  files?: Record<string, string | Buffer | { errno: string }>;
  /** The process's working directory (absolute, as it sees it). */
  cwd?: string;
  /** Methods that fail with an errno code (e.g. EACCES). */
  errors?: Partial<Record<FakeMethod, string>>;
}

function errnoError(code: string, syscall: string, path: string): NodeJS.ErrnoException {
  const e: NodeJS.ErrnoException = new Error(`${code}: fake /proc, ${syscall} '${path}'`);
  e.code = code;
  e.syscall = syscall;
  e.path = path;
  return e;
}

const NET_HEADERS: Record<NetTable, string> = {
  tcp: "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
  tcp6: "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
  udp: "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops",
  udp6: "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops",
  unix: "Num       RefCount Protocol Flags    Type St Inode Path",
};

/** A tcp/udp table in the kernel's layout; addresses as the kernel prints them ("0100007F:1F90"). */
export function inetTable(
  table: "tcp" | "tcp6" | "udp" | "udp6",
  rows: { local: string; remote?: string; st: string; inode: number; uid?: number }[],
): string {
  const zero = table.endsWith("6") ? "00000000000000000000000000000000:0000" : "00000000:0000";
  const lines = rows.map(
    (r, i) =>
      `${String(i).padStart(4)}: ${r.local} ${r.remote ?? zero} ${r.st} 00000000:00000000 00:00000000 00000000 ${String(r.uid ?? 0).padStart(5)}        0 ${r.inode} 1 0000000000000000 100 0 0 10 0`,
  );
  return [NET_HEADERS[table], ...lines, ""].join("\n");
}

function statLine(pid: number, p: FakeProcess): string {
  const f = [
    `${pid} (${p.comm}) ${p.state ?? "S"} ${p.ppid ?? 1} ${pid} ${pid} 0 -1 ${p.flags ?? 4194560}`,
    `0 0 0 0 ${p.utime ?? 0} ${p.stime ?? 0} 0 0 20 0 ${p.threads ?? 1} 0 ${p.starttime ?? 0}`,
    `10000000 ${p.rssPages ?? 0} 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0`,
  ];
  return `${f.join(" ")}\n`;
}

function statusText(pid: number, p: FakeProcess): string {
  const uid = p.uid ?? 0;
  return [
    `Name:\t${p.comm}`,
    "Umask:\t0022",
    `State:\t${p.state ?? "S"} (sleeping)`,
    `Tgid:\t${pid}`,
    `Pid:\t${pid}`,
    `PPid:\t${p.ppid ?? 1}`,
    `Uid:\t${uid}\t${uid}\t${uid}\t${uid}`,
    `Gid:\t${uid}\t${uid}\t${uid}\t${uid}`,
    `NSpid:\t${(p.nspid ?? [pid]).join("\t")}`,
    `Threads:\t${p.threads ?? 1}`,
    "",
  ].join("\n");
}

export class FakeProcFs implements ProcFs {
  readonly clockTicks = 100;
  readonly pageSize = 4096;
  readonly processes = new Map<number, FakeProcess>();
  /** How often each method was called per pid, keyed "method:pid". */
  readonly calls = new Map<string, number>();
  meminfo = "MemTotal:        8000000 kB\nMemFree:         1000000 kB\n";
  hostStat = "cpu  1 2 3 4\nbtime 1700000000\nprocesses 100\n";
  uptime = "1000.00 1900.00\n";
  passwd = "root:x:0:0:root:/root:/bin/bash\n";

  add(pid: number, p: FakeProcess): this {
    this.processes.set(pid, p);
    return this;
  }

  callCount(method: FakeMethod, pid: number): number {
    return this.calls.get(`${method}:${pid}`) ?? 0;
  }

  /** Every read of /proc/PID/fd fails with the error given for readFdLinks (the directory is what is denied). */
  private fdDir(method: FakeMethod, pid: number, file: string): FakeProcess {
    const p = this.proc(method, pid, file);
    const code = p.errors?.readFdLinks;
    if (code) throw errnoError(code, "open", `/proc/${pid}/${file}`);
    return p;
  }

  private proc(method: FakeMethod, pid: number, file: string): FakeProcess {
    const key = `${method}:${pid}`;
    this.calls.set(key, (this.calls.get(key) ?? 0) + 1);
    const p = this.processes.get(pid);
    if (!p) throw errnoError("ENOENT", "open", `/proc/${pid}/${file}`);
    const code = p.errors?.[method];
    if (code) throw errnoError(code, "open", `/proc/${pid}/${file}`);
    return p;
  }

  listPids(): number[] {
    return [...this.processes.keys()].sort((a, b) => a - b);
  }
  readStat(pid: number): string {
    return statLine(pid, this.proc("readStat", pid, "stat"));
  }
  readStatus(pid: number): string {
    return statusText(pid, this.proc("readStatus", pid, "status"));
  }
  readCmdline(pid: number): Buffer {
    const p = this.proc("readCmdline", pid, "cmdline");
    return Buffer.from((p.cmdline ?? []).map((a) => `${a}\0`).join(""));
  }
  readEnviron(pid: number): Buffer {
    const p = this.proc("readEnviron", pid, "environ");
    return Buffer.from(Object.entries(p.environ ?? {}).map(([k, v]) => `${k}=${v}\0`).join(""));
  }
  private exe(method: FakeMethod, pid: number): FakeExe {
    const exe = this.proc(method, pid, "exe").exe;
    if (!exe) throw errnoError("ENOENT", "readlink", `/proc/${pid}/exe`);
    return exe;
  }
  readExeLink(pid: number): string {
    return this.exe("readExeLink", pid).path;
  }
  statExe(pid: number): FileId {
    return { ...this.exe("statExe", pid).id };
  }
  openExe(pid: number): ExeHandle {
    const exe = this.exe("openExe", pid);
    return {
      id: { ...exe.id },
      readAt: (position, length) => Buffer.from(exe.bytes.subarray(position, position + length)),
      close() {},
    };
  }
  readFdLinks(pid: number): string[] {
    return [...(this.proc("readFdLinks", pid, "fd").fds ?? [])];
  }
  /** `fds` lists the links by descriptor number: fds[3] is /proc/PID/fd/3. */
  readFdEntries(pid: number): FdEntry[] {
    return (this.fdDir("readFdEntries", pid, "fd").fds ?? []).map((link, fd) => ({ fd, link }));
  }
  countFds(pid: number): number {
    return (this.fdDir("countFds", pid, "fd").fds ?? []).length;
  }
  readLimits(pid: number): string {
    const n = this.proc("readLimits", pid, "limits").maxOpenFiles ?? 1024;
    return [
      "Limit                     Soft Limit           Hard Limit           Units     ",
      "Max cpu time              unlimited            unlimited            seconds   ",
      `Max open files            ${String(n).padEnd(21)}${String(n).padEnd(21)}files     `,
      "",
    ].join("\n");
  }
  readFdLink(pid: number, fd: number): string {
    const link = this.fdDir("readFdLink", pid, `fd/${fd}`).fds?.[fd];
    if (link === undefined) throw errnoError("ENOENT", "readlink", `/proc/${pid}/fd/${fd}`);
    return link;
  }
  readNet(pid: number, table: NetTable): string {
    const p = this.proc("readNet", pid, `net/${table}`);
    return p.net?.[table] ?? `${NET_HEADERS[table]}\n`;
  }
  readNetNamespace(pid: number): string {
    return `net:[${this.proc("readNetNamespace", pid, "ns/net").netns ?? 4026531840}]`;
  }
  /** There are no real namespaces behind a fake: opening one fails as if it were not there. */
  openNetNamespace(pid: number): number {
    this.proc("readNetNamespace", pid, "ns/net");
    throw errnoError("ENOENT", "open", `/proc/${pid}/ns/net`);
  }
  readCgroup(pid: number): string {
    return this.proc("readCgroup", pid, "cgroup").cgroup ?? "0::/\n";
  }
  pathUnder(pid: number, dir: PidDir, path: string): string {
    const rel = dir === "root" ? posix.normalize(`/${path}`) : `/${posix.normalize(path)}`;
    return `/fakeproc/${pid}/${dir}${rel}`;
  }
  readFileUnder(pid: number, dir: PidDir, path: string, maxBytes: number, _as: Credentials): Buffer {
    const p = this.processes.get(pid);
    const where = this.pathUnder(pid, dir, path);
    if (!p) throw errnoError("ENOENT", "open", where);
    const abs = dir === "root" ? posix.normalize(`/${path}`) : posix.resolve(p.cwd ?? "/", path);
    const content = p.files?.[abs];
    if (content === undefined) throw errnoError("ENOENT", "open", where);
    if (typeof content === "object" && !Buffer.isBuffer(content)) throw errnoError(content.errno, "open", where);
    if (Buffer.from(content).length > maxBytes) throw new TargetFileError("EFBIG", `${where}: longer than the ${maxBytes}-byte limit`);
    return Buffer.from(content);
  }
  readHostFile(name: HostFile): string {
    return name === "meminfo" ? this.meminfo : name === "stat" ? this.hostStat : this.uptime;
  }
  readHostPasswd(): Buffer {
    return Buffer.from(this.passwd);
  }
}
