// Small, bounded, non-blocking reads of the container runtimes' state files on the host (Docker's config.v2.json,
// Podman's containers.json, the kubelet's pod directories): regular files only (a FIFO or device is refused
// without blocking: O_NONBLOCK), at most `maxBytes`. Files a target controls (under /proc/PID/root) are read with
// ProcFs.readFileUnder (target-file.ts) instead.
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";

/** Reads a regular file of at most `maxBytes` (longer: an error, not a truncation). Throws errno errors. */
export function readBoundedFile(path: string, maxBytes: number): Buffer {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw Object.assign(new Error(`${path} is not a regular file`), { code: "EINVAL" });
    if (st.size > maxBytes) throw Object.assign(new Error(`${path} is larger than ${maxBytes} bytes`), { code: "EFBIG" });
    let buf = Buffer.allocUnsafe(Math.min(maxBytes, Math.max(st.size, 4096)) + 1);
    let n = 0;
    for (;;) {
      if (n === buf.length) {
        // It grew since fstat: read on, still within maxBytes + 1.
        const bigger = Buffer.allocUnsafe(Math.min(maxBytes + 1, buf.length * 2));
        buf.copy(bigger, 0, 0, n);
        buf = bigger;
      }
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
