// THE only /proc reader of the project: raw reads, no parsing. Everything else takes a ProcFs, so tests
// can hand in a fake built in memory. Calls are synchronous on purpose: /proc reads never block on disk
// and a scan makes thousands of them, where promise overhead would dominate.
// Errors are Node errno errors (ENOENT/ESRCH when the process is gone, EACCES/EPERM when not allowed).
import { closeSync, fstatSync, openSync, readFileSync, readSync, readdirSync, readlinkSync, statSync, type Stats } from "node:fs";
import { posix } from "node:path";
import { fdReadAt, type ReadAt } from "../elf/index.js";
import { readTargetFile, type Credentials } from "./target-file.js";
import { endianness } from "node:os";

/** Identity of an executable file; a changed binary changes at least one field. */
export interface FileId {
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
}

const fileIdOf = (s: Stats): FileId => ({ dev: s.dev, ino: s.ino, size: s.size, mtimeMs: s.mtimeMs });

/** An open /proc/PID/exe: works for deleted binaries and binaries in other mount namespaces. */
export interface ExeHandle {
  readonly id: FileId;
  readonly readAt: ReadAt;
  close(): void;
}

export type NetTable = "tcp" | "tcp6" | "udp" | "udp6" | "unix";

/** Where a path of the target process is resolved: its root directory or its working directory. */
export type PidDir = "root" | "cwd";

export type HostFile = "meminfo" | "stat" | "uptime";

/** One open file descriptor of a process and what it points at. */
export interface FdEntry {
  fd: number;
  link: string;
}

export interface ProcFs {
  /** USER_HZ: the unit of the times in /proc/PID/stat. */
  readonly clockTicks: number;
  /** Bytes per page: the unit of rss in /proc/PID/stat. */
  readonly pageSize: number;
  /** Pids of all processes (thread-group leaders), ascending. */
  listPids(): number[];
  readStat(pid: number): string;
  readStatus(pid: number): string;
  readCmdline(pid: number): Buffer;
  readEnviron(pid: number): Buffer;
  /** Target of /proc/PID/exe as the kernel reports it (may end in " (deleted)"). */
  readExeLink(pid: number): string;
  /** stat(2) of the executable behind /proc/PID/exe. */
  statExe(pid: number): FileId;
  openExe(pid: number): ExeHandle;
  /** Targets of the /proc/PID/fd/* links, e.g. "socket:[12345]", "/dev/null". */
  readFdLinks(pid: number): string[];
  /** The same, with each descriptor's number. */
  readFdEntries(pid: number): FdEntry[];
  /** How many descriptors the process has open (the entries of /proc/PID/fd; no link is read). */
  countFds(pid: number): number;
  /** /proc/PID/limits: the resource limits table. */
  readLimits(pid: number): string;
  /** Target of one /proc/PID/fd/N link (ENOENT when that descriptor is closed). */
  readFdLink(pid: number, fd: number): string;
  /**
   * /proc/PID/net/<table>: the sockets of the process's network namespace. `listening`: only as far as the
   * listening sockets go (see readListening); a caller that wants listeners must still filter by state.
   */
  readNet(pid: number, table: NetTable, listening?: "listening"): string;
  /** Target of /proc/PID/ns/net, e.g. "net:[4026531840]": equal for processes sharing a network namespace. */
  readNetNamespace(pid: number): string;
  /** Opens /proc/PID/ns/net read-only (libuv sets close-on-exec); the caller closes the descriptor. */
  openNetNamespace(pid: number): number;
  /** /proc/PID/cgroup: one "ID:controllers:/path" line per cgroup hierarchy. */
  readCgroup(pid: number): string;
  /** Host path of `path` as seen by the process (under /proc/PID/root or /proc/PID/cwd). */
  pathUnder(pid: number, dir: PidDir, path: string): string;
  /**
   * Reads the regular file `path` as seen by the process, with its credentials `as` (see target-file.ts):
   * never blocks, never opens FIFOs or devices, refuses what `as` could not read, and throws
   * TargetFileError (EFBIG) when the file holds more than maxBytes.
   */
  readFileUnder(pid: number, dir: PidDir, path: string, maxBytes: number, as: Credentials): Buffer;
  readHostFile(name: HostFile): string;
  /** The host's /etc/passwd (that of pid 1's root, else gopsd's own). */
  readHostPasswd(): Buffer;
}

const ROOT: Credentials = { uid: 0, gid: 0, groups: [] };
const MAX_HOST_PASSWD_BYTES = 4 * 1024 * 1024;

let hostConstants: { clockTicks: number; pageSize: number } | undefined;

/**
 * USER_HZ and the page size, once per process, from our own auxiliary vector (/proc/self/auxv: AT_CLKTCK and
 * AT_PAGESZ, what getconf reports) without starting a process: two `getconf` runs were ~15% of a local
 * `gopsctl ps`. Linux's USER_HZ is 100 and pages are 4 KiB on the usual machines: the fallbacks.
 */
function getHostConstants(): { clockTicks: number; pageSize: number } {
  if (hostConstants) return hostConstants;
  let auxv: Buffer | undefined;
  try {
    auxv = readFileSync("/proc/self/auxv");
  } catch {
    // no /proc/self: the fallbacks
  }
  const word = ["arm", "ia32", "mips", "mipsel", "ppc"].includes(process.arch) ? 4 : 8;
  const { clockTicks, pageSize } = auxv === undefined ? {} : parseAuxv(auxv, { word, littleEndian: endianness() === "LE" });
  hostConstants = { clockTicks: clockTicks ?? 100, pageSize: pageSize ?? 4096 };
  return hostConstants;
}

/** A /proc/net/tcp line ("  sl  local_address rem_address   st ...") of a socket in state LISTEN (0A). */
function isListening(line: string): boolean {
  return line.trim().split(/\s+/, 4)[3] === "0A";
}

const AT_PAGESZ = 6;
const AT_CLKTCK = 17;

/** AT_CLKTCK and AT_PAGESZ from an auxiliary vector of (type, value) words, when plausible (1..2^24). */
export function parseAuxv(auxv: Buffer, opts: { word: 4 | 8; littleEndian: boolean }): { clockTicks?: number; pageSize?: number } {
  const read = (off: number): number =>
    opts.word === 8
      ? Number(opts.littleEndian ? auxv.readBigUInt64LE(off) : auxv.readBigUInt64BE(off))
      : opts.littleEndian
        ? auxv.readUInt32LE(off)
        : auxv.readUInt32BE(off);
  const out: { clockTicks?: number; pageSize?: number } = {};
  for (let off = 0; off + 2 * opts.word <= auxv.length; off += 2 * opts.word) {
    const type = read(off);
    if (type === 0) break; // AT_NULL
    const value = read(off + opts.word);
    if (value < 1 || value > 2 ** 24) continue;
    if (type === AT_CLKTCK) out.clockTicks = value;
    else if (type === AT_PAGESZ) out.pageSize = value;
  }
  return out;
}

export function createProcFs(root: string = process.env.HOST_PROC ?? "/proc"): ProcFs {
  const { clockTicks, pageSize } = getHostConstants();
  // One small scratch buffer reused by every read. A file that does not fit is read into a bigger one (doubled
  // as needed), which serves that read only: the next read starts from the small one again, so the big one is
  // garbage once its caller is done with the view (a busy host's net/tcp is megabytes; a daemon that kept the
  // largest buffer it ever needed would hold them for its whole life).
  const small = Buffer.allocUnsafe(64 * 1024);
  let scratch = small;
  /** The scratch buffer with room after its first `n` bytes: when they fill it, a buffer twice as big holding them. */
  const room = (n: number): Buffer => {
    if (n === scratch.length) {
      const bigger = Buffer.allocUnsafe(scratch.length * 2);
      scratch.copy(bigger, 0, 0, n);
      scratch = bigger;
    }
    return scratch;
  };

  /**
   * Reads up to `max` bytes of a file into the scratch buffer and returns a view of them (valid until the next
   * read). The view is taken after the read: the read may replace `scratch` with a bigger buffer, so a caller
   * must never hold on to (or bind a method of) the buffer from before it. `oneRecord`
   * files (stat, status: single-record seq_files) return all their content in the first read when it
   * fits, so a short read is the end and the usual extra read that returns 0 is skipped.
   */
  function readInto(path: string, max: number, oneRecord = false): Buffer {
    scratch = small;
    const fd = openSync(path, "r");
    try {
      let n = 0;
      while (n < max) {
        const got = readSync(fd, room(n), n, Math.min(scratch.length, max) - n, null);
        if (got === 0) break;
        n += got;
        if (oneRecord && n < scratch.length) break;
      }
      return scratch.subarray(0, n);
    } finally {
      closeSync(fd);
    }
  }
  // Not `scratch.toString(..., readInto(...))`: JavaScript binds `scratch.toString` before evaluating the
  // arguments, so a read that grew the buffer would be cut to the old buffer's first 64 KiB.
  const readText = (path: string, oneRecord = false): string => readInto(path, Infinity, oneRecord).toString("utf8");

  /**
   * The header and the leading listening sockets of a /proc/net/tcp or tcp6 table. The kernel lists a table's
   * listening hash first, then the established hash (tcp_get_idx: listening_get_first, then established_get_first),
   * so the first socket in another state than LISTEN (0A) ends the listeners. On a host with tens of thousands of
   * connections the whole table is megabytes the kernel formats on every read; the listeners are a few lines.
   */
  function readListening(path: string): string {
    scratch = small;
    const fd = openSync(path, "r");
    try {
      let n = 0;
      let lineStart = 0;
      for (;;) {
        const got = readSync(fd, room(n), n, Math.min(scratch.length - n, 16 * 1024), null);
        if (got === 0) return scratch.toString("utf8", 0, n);
        n += got;
        // Whole lines only; the first is the header.
        for (let nl = scratch.indexOf(10, lineStart); nl >= 0 && nl < n; nl = scratch.indexOf(10, lineStart)) {
          if (lineStart > 0 && !isListening(scratch.toString("latin1", lineStart, nl))) return scratch.toString("utf8", 0, lineStart);
          lineStart = nl + 1;
        }
      }
    } finally {
      closeSync(fd);
    }
  }
  const readBytes = (path: string, max = Infinity): Buffer => Buffer.from(readInto(path, max));
  const pidPath = (pid: number, rest: string) => `${root}/${pid}/${rest}`;
  const pathUnder = (pid: number, dir: PidDir, path: string): string => {
    // Absolute paths are normalised so ".." cannot climb above the process's root.
    const rel = dir === "root" ? posix.normalize(`/${path}`) : `/${posix.normalize(path)}`;
    return `${root}/${pid}/${dir}${rel}`;
  };

  return {
    clockTicks,
    pageSize,
    listPids() {
      const pids: number[] = [];
      for (const name of readdirSync(root)) {
        const c = name.charCodeAt(0);
        if (c < 48 || c > 57) continue;
        const pid = Number(name);
        if (Number.isInteger(pid)) pids.push(pid);
      }
      return pids.sort((a, b) => a - b);
    },
    readStat: (pid) => readText(pidPath(pid, "stat"), true),
    readStatus: (pid) => readText(pidPath(pid, "status"), true),
    readCmdline: (pid) => readBytes(pidPath(pid, "cmdline")),
    readEnviron: (pid) => readBytes(pidPath(pid, "environ")),
    readExeLink: (pid) => readlinkSync(pidPath(pid, "exe")),
    statExe(pid) {
      return fileIdOf(statSync(pidPath(pid, "exe")));
    },
    openExe(pid) {
      const fd = openSync(pidPath(pid, "exe"), "r");
      try {
        const s = fstatSync(fd);
        let open = true;
        return {
          id: fileIdOf(s),
          readAt: fdReadAt(fd),
          close() {
            if (open) {
              open = false;
              closeSync(fd);
            }
          },
        };
      } catch (e) {
        closeSync(fd);
        throw e;
      }
    },
    readFdLinks(pid) {
      return this.readFdEntries(pid).map((e) => e.link);
    },
    readFdEntries(pid) {
      const dir = pidPath(pid, "fd");
      const entries: FdEntry[] = [];
      for (const name of readdirSync(dir)) {
        try {
          entries.push({ fd: Number(name), link: readlinkSync(`${dir}/${name}`) });
        } catch (e) {
          // An fd closed between readdir and readlink is simply no longer there.
          if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
        }
      }
      return entries;
    },
    countFds: (pid) => readdirSync(pidPath(pid, "fd")).length,
    readLimits: (pid) => readText(pidPath(pid, "limits")),
    readFdLink: (pid, fd) => readlinkSync(pidPath(pid, `fd/${fd}`)),
    readNet: (pid, table, listening) =>
      listening !== undefined && (table === "tcp" || table === "tcp6") ? readListening(pidPath(pid, `net/${table}`)) : readText(pidPath(pid, `net/${table}`)),
    readNetNamespace: (pid) => readlinkSync(pidPath(pid, "ns/net")),
    openNetNamespace: (pid) => openSync(pidPath(pid, "ns/net"), "r"),
    readCgroup: (pid) => readText(pidPath(pid, "cgroup")),
    pathUnder,
    readFileUnder: (pid, dir, path, maxBytes, as) =>
      readTargetFile(pidPath(pid, "root"), pidPath(pid, dir), path, as, maxBytes, pathUnder(pid, dir, path)),
    readHostFile: (name) => readText(`${root}/${name}`),
    readHostPasswd() {
      try {
        return readTargetFile(`${root}/1/root`, `${root}/1/root`, "/etc/passwd", ROOT, MAX_HOST_PASSWD_BYTES, "/etc/passwd of pid 1");
      } catch {
        return readBytes("/etc/passwd");
      }
    },
  };
}
