// THE reader of files a target process controls: anything under /proc/PID/root or /proc/PID/cwd (its port
// file, its /etc/passwd). Such a path may be a FIFO, a device (/dev/ptmx, a tape), a symlink to a root-only
// host file, or a chain of symlinks; opening it the ordinary way can block the event loop forever (a FIFO
// without a writer) or read, as root, something its owner could never read.
//
// How it is read:
// - The path is resolved one component at a time, like openat2(RESOLVE_IN_ROOT) would: every component is
//   opened with O_PATH|O_NOFOLLOW relative to the descriptor of its directory (/proc/self/fd/N/name), which
//   neither opens devices nor blocks on FIFOs. Symlinks are followed by hand (at most MAX_SYMLINKS), an
//   absolute target restarts at the PROCESS's root (never the host's), ".." never climbs above it.
// - Along the way every directory must be searchable, and the final file readable, by the target's own
//   credentials (fs uid, fs gid, supplementary groups from /proc/PID/status), judged from the owner and mode
//   bits of what was opened. A root target (fs uid 0) may read anything, as it could itself. ACLs and
//   capabilities other than root's are not modelled: they can only make us refuse more, never read more
//   than the mode bits allow.
// - Only a regular file is read: it is opened through its O_PATH descriptor with O_NONBLOCK|O_NOCTTY,
//   checked again with fstat (same inode, regular), and at most `maxBytes` are read; a longer file is an
//   error. Errors never name the file's size or content.
//
// Calls are synchronous like the rest of ProcFs: after the checks above only a bounded read of a regular
// file remains, which does not wait on other processes (a FUSE or hung NFS mount of the target is the one
// case left; see docs/HOSTILE.md).
import { closeSync, constants, fstatSync, openSync, readSync, readlinkSync, type Stats } from "node:fs";

/** O_PATH (Linux; the same value on x86-64 and arm64): a descriptor for lookups and fstat only. */
const O_PATH = 0o10000000;
const MAX_SYMLINKS = 40;
const MAX_COMPONENTS = 4096;

/** Whose eyes a path is seen with: the fs uid/gid and supplementary groups of the target process. */
export interface Credentials {
  uid: number;
  gid: number;
  groups: readonly number[];
}

export type TargetFileErrorCode =
  | "ENOENT" // a component does not exist
  | "ENOTDIR" // a non-final component is not a directory
  | "EACCES" // the target's credentials could not search a directory or read the file
  | "ELOOP" // too many symlinks
  | "ENOTREG" // the final component is not a regular file (FIFO, device, socket, directory)
  | "EFBIG" // longer than the caller's limit
  | "EIO"; // anything else the kernel said

/** The one error of this module; `code` is errno-like so errno classifiers (isGone, isDenied) still work. */
export class TargetFileError extends Error {
  override readonly name = "TargetFileError";
  constructor(
    readonly code: TargetFileErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const S_IFMT = constants.S_IFMT;

/** True when `who` may use `perm` (4 read, 1 search) on a file with these owner and mode bits. */
export function mayAccess(who: Credentials, st: Pick<Stats, "uid" | "gid" | "mode">, perm: 4 | 1): boolean {
  if (who.uid === 0) return true;
  const bits = st.mode & 0o777;
  if (st.uid === who.uid) return ((bits >> 6) & perm) !== 0;
  if (st.gid === who.gid || who.groups.includes(st.gid)) return ((bits >> 3) & perm) !== 0;
  return (bits & perm) !== 0;
}

function kernelError(e: unknown, what: string): TargetFileError {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === "ENOENT" || code === "ESRCH") return new TargetFileError("ENOENT", `${what}: no such file or directory`);
  if (code === "ENOTDIR") return new TargetFileError("ENOTDIR", `${what}: not a directory`);
  if (code === "EACCES" || code === "EPERM") return new TargetFileError("EACCES", `${what}: permission denied`);
  if (code === "ELOOP") return new TargetFileError("ELOOP", `${what}: too many levels of symbolic links`);
  return new TargetFileError("EIO", `${what}: ${code ?? "I/O error"}`);
}

function safeClose(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed or never valid: nothing to release
  }
}

/**
 * Reads at most `maxBytes` of the regular file `path` as the target sees it, from `base` (a host path to
 * the target's directory: /proc/PID/cwd, or /proc/PID/root, which is also `root`). `what` names the file in
 * error messages (e.g. the host path); it is never followed by size or content.
 */
export function readTargetFile(root: string, base: string, path: string, who: Credentials, maxBytes: number, what: string): Buffer {
  const held: number[] = [];
  const hold = (fd: number): number => (held.push(fd), fd);
  const openPath = (p: string, flags = constants.O_NOFOLLOW): number => {
    try {
      return hold(openSync(p, O_PATH | flags));
    } catch (e) {
      throw kernelError(e, what);
    }
  };
  try {
    // The root and base are /proc/PID/root and /proc/PID/cwd, magic links that must be followed.
    const rootFd = openPath(root, constants.O_DIRECTORY);
    const rootStat = fstatSync(rootFd);
    let dirFd = base === root ? rootFd : openPath(base, constants.O_DIRECTORY);
    let dirStat = dirFd === rootFd ? rootStat : fstatSync(dirFd);
    const pending = path.split("/").filter((c) => c !== "" && c !== ".").reverse();
    if (path.startsWith("/")) [dirFd, dirStat] = [rootFd, rootStat];
    let links = 0;
    let steps = 0;
    let final: { fd: number; st: Stats } | undefined;
    while (pending.length > 0) {
      if (++steps > MAX_COMPONENTS) throw new TargetFileError("ELOOP", `${what}: path too long`);
      const name = pending.pop()!;
      if (name === "." || name === "") continue;
      if (!mayAccess(who, dirStat, 1)) throw new TargetFileError("EACCES", `${what}: permission denied for uid ${who.uid}`);
      if (name === "..") {
        if (dirStat.dev === rootStat.dev && dirStat.ino === rootStat.ino) continue; // never above the process's root
        dirFd = openPath(`/proc/self/fd/${dirFd}/..`, constants.O_DIRECTORY | constants.O_NOFOLLOW);
        dirStat = fstatSync(dirFd);
        continue;
      }
      const fd = openPath(`/proc/self/fd/${dirFd}/${name}`);
      const st = fstatSync(fd);
      if (st.isSymbolicLink()) {
        if (++links > MAX_SYMLINKS) throw new TargetFileError("ELOOP", `${what}: too many levels of symbolic links`);
        let target: string;
        try {
          target = readlinkSync(`/proc/self/fd/${dirFd}/${name}`);
        } catch (e) {
          throw kernelError(e, what);
        }
        pending.push(...target.split("/").filter((c) => c !== "" && c !== ".").reverse());
        if (target.startsWith("/")) [dirFd, dirStat] = [rootFd, rootStat];
        if (pending.length > MAX_COMPONENTS) throw new TargetFileError("ELOOP", `${what}: path too long`);
        continue;
      }
      if (pending.length === 0) {
        final = { fd, st };
        break;
      }
      if (!st.isDirectory()) throw new TargetFileError("ENOTDIR", `${what}: not a directory`);
      dirFd = fd;
      dirStat = st;
    }
    if (final === undefined) throw new TargetFileError("ENOTREG", `${what}: not a regular file`);
    if ((final.st.mode & S_IFMT) !== constants.S_IFREG) throw new TargetFileError("ENOTREG", `${what}: not a regular file`);
    if (!mayAccess(who, final.st, 4)) throw new TargetFileError("EACCES", `${what}: permission denied for uid ${who.uid}`);
    let fd: number;
    try {
      fd = hold(openSync(`/proc/self/fd/${final.fd}`, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY));
    } catch (e) {
      throw kernelError(e, what);
    }
    const st = fstatSync(fd);
    if (!st.isFile() || st.ino !== final.st.ino || st.dev !== final.st.dev) {
      throw new TargetFileError("ENOTREG", `${what}: not a regular file`);
    }
    // Grown as the file turns out to need it, up to one byte past the limit (to tell "longer" from "exact").
    let buf = Buffer.allocUnsafe(Math.min(maxBytes + 1, 64 * 1024));
    let n = 0;
    for (;;) {
      if (n === buf.length) {
        if (buf.length === maxBytes + 1) break;
        const bigger = Buffer.allocUnsafe(Math.min(maxBytes + 1, buf.length * 2));
        buf.copy(bigger, 0, 0, n);
        buf = bigger;
      }
      let got: number;
      try {
        got = readSync(fd, buf, n, buf.length - n, null);
      } catch (e) {
        throw kernelError(e, what);
      }
      if (got === 0) break;
      n += got;
    }
    if (n > maxBytes) throw new TargetFileError("EFBIG", `${what}: longer than the ${maxBytes}-byte limit`);
    return Buffer.from(buf.subarray(0, n));
  } finally {
    for (const fd of held) safeClose(fd);
  }
}
