// The ReadAt of an open file descriptor: positioned reads (pread), so one descriptor serves any number of
// readers without a shared file offset. Used by the two I/O edges that read executables.
import { readSync } from "node:fs";
import type { ReadAt } from "./file-view.js";

/** A ReadAt over `fd`; it loops over short reads and returns fewer bytes only at end of file. */
export function fdReadAt(fd: number): ReadAt {
  return (position, length) => {
    const buf = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const n = readSync(fd, buf, done, length - done, position + done);
      if (n === 0) break;
      done += n;
    }
    return done === length ? buf : buf.subarray(0, done);
  };
}
