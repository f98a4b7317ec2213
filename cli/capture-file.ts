// Writing a capture (profile, trace) to disk: into a temporary file in the destination directory, renamed into
// place only when the whole capture has arrived; removed on any error or abort, so a file with the final name is
// always complete.
import { basename, dirname, join } from "node:path";

/** `<pid>-<kind>-<YYYYMMDD-HHMMSS><ext>` in local time, e.g. `4132-cpu-20261126-110257.pprof.gz`. */
export function defaultCaptureName(pid: number, kind: string, now: Date, ext: string): string {
  return `${pid}-${kind}-${captureTimestamp(now)}${ext}`;
}

/** Across hosts: `<host>-<pid>-<kind>-<YYYYMMDD-HHMMSS><ext>`, e.g. `web-1-4132-heap-20261126-110257.pprof.gz`. */
export function hostCaptureName(host: string, pid: number, kind: string, now: Date, ext: string): string {
  return `${host}-${defaultCaptureName(pid, kind, now, ext)}`;
}

/** `--merge`: `merged-<kind>-<YYYYMMDD-HHMMSS>.pprof.gz`. */
export function mergedCaptureName(kind: string, now: Date): string {
  return `merged-${kind}-${captureTimestamp(now)}.pprof.gz`;
}

/** `YYYYMMDD-HHMMSS` in local time. */
function captureTimestamp(now: Date): string {
  const two = (n: number) => String(n).padStart(2, "0");
  const date = `${now.getFullYear()}${two(now.getMonth() + 1)}${two(now.getDate())}`;
  const time = `${two(now.getHours())}${two(now.getMinutes())}${two(now.getSeconds())}`;
  return `${date}-${time}`;
}

/** Writes every chunk to `path` atomically; returns the number of bytes. An empty capture is an error. */
export async function writeCaptureFile(path: string, chunks: AsyncIterable<Uint8Array>, signal: AbortSignal): Promise<number> {
  // node:crypto costs a start-up ~8 ms of CPU: loaded by the commands that save a capture, when they do.
  const { randomBytes } = await import("node:crypto");
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString("hex")}.partial`);
  // node:fs/promises when first used (not at every start of the CLI).
  const { open, rename, unlink } = process.getBuiltinModule("node:fs/promises");
  const file = await open(temp, "wx", 0o644);
  let bytes = 0;
  try {
    try {
      for await (const chunk of chunks) {
        signal.throwIfAborted();
        for (let off = 0; off < chunk.length; ) off += (await file.write(chunk, off)).bytesWritten;
        bytes += chunk.length;
      }
      signal.throwIfAborted();
      if (bytes === 0) throw new Error("the capture is empty: the agent sent no bytes");
    } finally {
      await file.close();
    }
    await rename(temp, path);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  return bytes;
}

/** Writes `data` to `path` the same way: a temporary file renamed into place, removed on error or abort. */
export function writeFileAtomically(path: string, data: Uint8Array, signal: AbortSignal): Promise<number> {
  async function* once(): AsyncGenerator<Uint8Array> {
    yield data;
  }
  return writeCaptureFile(path, once(), signal);
}
