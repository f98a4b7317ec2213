// The I/O edge: Go build info of an executable on disk (or /proc/<pid>/exe). A handful of small
// positioned reads on one descriptor; the descriptor is always closed.
import { closeSync, constants, fstatSync, openSync } from "node:fs";
import { BuildInfoError } from "./build-info-error.js";
import { fdReadAt } from "./fd-read-at.js";
import { type GoBuildInfo, readGoBuildInfo } from "./go-build-info.js";

/**
 * Throws BuildInfoError for files that are not ELF, carry no build info or are corrupt (the message names
 * the file); errors of open/fstat/read (ENOENT, EACCES, ...) are thrown unchanged.
 */
export function readGoBuildInfoFromFile(path: string): GoBuildInfo {
  // O_NONBLOCK: a FIFO or a device at `path` must not block the open; fstat then refuses anything irregular.
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new BuildInfoError("not-elf", "not a regular file");
    return readGoBuildInfo(fdReadAt(fd), stat.size);
  } catch (e) {
    if (e instanceof BuildInfoError) throw new BuildInfoError(e.kind, `${path}: ${e.message}`);
    throw e;
  } finally {
    closeSync(fd);
  }
}
