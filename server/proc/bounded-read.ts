// Small, bounded, non-blocking file reads for the container lookup: runtime state files on the host and files
// inside a container's root (which the container controls, so they are hostile). Regular files only (a FIFO or
// device is refused without blocking: O_NONBLOCK), at most `maxBytes`, and for paths under a container's root
// every symlink is resolved inside that root (an absolute link such as /var/run -> /run must not reach the host).
// TODO(merge): the safe reader for target-controlled paths being built in server/proc/ replaces this one.
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, readlinkSync } from "node:fs";
import { posix } from "node:path";

const MAX_SYMLINKS = 40;

/** Reads a regular file of at most `maxBytes` (longer: an error, not a truncation). Throws errno errors. */
export function readBoundedFile(path: string, maxBytes: number, noFollow = false): Buffer {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY | (noFollow ? constants.O_NOFOLLOW : 0));
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw Object.assign(new Error(`${path} is not a regular file`), { code: "EINVAL" });
    if (st.size > maxBytes) throw Object.assign(new Error(`${path} is larger than ${maxBytes} bytes`), { code: "EFBIG" });
    const buf = Buffer.allocUnsafe(Math.min(maxBytes, Math.max(st.size, 4096)) + 1);
    let n = 0;
    for (;;) {
      const got = readSync(fd, buf, n, buf.length - n, null);
      if (got === 0) break;
      n += got;
      if (n > maxBytes) throw Object.assign(new Error(`${path} is larger than ${maxBytes} bytes`), { code: "EFBIG" });
    }
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

/**
 * `path` (absolute, as a process sees it) resolved inside `root` (a host directory such as /proc/PID/root):
 * symlinks are followed the way they would be inside the root, ".." stops at the root. Returns a host path
 * whose last component is not a symlink. Throws ELOOP after 40 links, errno errors of lstat/readlink.
 */
export function resolveInRoot(root: string, path: string): string {
  const todo = path.split("/").filter((s) => s !== "" && s !== ".");
  const done: string[] = [];
  let links = 0;
  while (todo.length > 0) {
    const seg = todo.shift()!;
    if (seg === "..") {
      done.pop();
      continue;
    }
    const host = posix.join(root, ...done, seg);
    if (lstatSync(host).isSymbolicLink()) {
      if (++links > MAX_SYMLINKS) throw Object.assign(new Error(`too many symlinks in ${path}`), { code: "ELOOP" });
      const target = readlinkSync(host);
      if (target.startsWith("/")) done.length = 0;
      todo.unshift(...target.split("/").filter((s) => s !== "" && s !== "."));
      continue;
    }
    done.push(seg);
  }
  return posix.join(root, ...done);
}

/** A file as a process sees it under `root`, read with readBoundedFile (the last component is never followed). */
export function readUnderRoot(root: string, path: string, maxBytes: number): Buffer {
  return readBoundedFile(resolveInRoot(root, path), maxBytes, true);
}
