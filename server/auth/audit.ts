// The audit log: one JSON line per RPC, to a private file (created 0600, narrowed to 0600 if wider) or to a
// stream such as stdout. A record holds who/what/outcome only; it has no field that could carry a credential.
import { constants as fsConstants } from "node:fs";
import { open } from "node:fs/promises";
import type { Writable } from "node:stream";

export interface AuditRecord {
  /** When the call arrived, ISO 8601 UTC. */
  readonly time: string;
  readonly host: string;
  /** The verified `sub`; null when the call was not authenticated (refused, or a public method). */
  readonly subject: string | null;
  /** The verified `jti`; null when absent. */
  readonly jti: string | null;
  /** Client address as gRPC reports it, e.g. "ipv4:127.0.0.1:53012". */
  readonly peer: string;
  /** Subject of the client's TLS certificate when mTLS is used; null otherwise. */
  readonly certSubject: string | null;
  /** Full gRPC method path, e.g. "/gops.v1.DiagnosticsService/ForceGC". */
  readonly method: string;
  /** `request.pid` when the request has one. */
  readonly pid: number | null;
  /** gRPC status name: "OK", "UNAUTHENTICATED", "PERMISSION_DENIED", ... */
  readonly outcome: string;
  /** The one-line status message of a failed call. */
  readonly error?: string;
  /** The backend that served a diagnostic call: "gops-agent" or "http-pprof"; absent when none was chosen. */
  readonly backend?: string;
  /**
   * Payload bytes sent: for a chunk message the chunk's length, for any other message its protobuf-encoded size;
   * gRPC framing is not counted. null for methods outside the Diagnostics service (health, reflection).
   */
  readonly bytes: number | null;
  readonly durationMs: number;
}

export interface AuditSink {
  write(record: AuditRecord): void;
  /** Flushes and releases the sink (a file sink closes its file; a stream sink leaves the stream open). */
  close(): Promise<void>;
}

const formatAuditLine = (r: AuditRecord) => `${JSON.stringify(r)}\n`;

/** Lines to a stream the caller owns (process.stdout); close() only waits for what was written to drain. */
export function streamAuditSink(out: Writable): AuditSink {
  return {
    write: (r) => void out.write(formatAuditLine(r)),
    close: () =>
      new Promise<void>((resolve) => {
        if (out.writableLength === 0) resolve();
        else out.once("drain", () => resolve());
      }),
  };
}

const AUDIT_FILE_MODE = 0o600;

/**
 * Opens `path` for append, creating it with mode 0600 (never following a symlink at the last component) and
 * narrowing an existing file's mode to 0600. Write errors go to `onError`; audit lines are never silently lost.
 */
export async function openAuditFile(
  path: string,
  opts: { onError: (e: Error) => void; signal?: AbortSignal },
): Promise<AuditSink> {
  opts.signal?.throwIfAborted();
  const flags = fsConstants.O_WRONLY | fsConstants.O_APPEND | fsConstants.O_CREAT | fsConstants.O_NOFOLLOW;
  const handle = await open(path, flags, AUDIT_FILE_MODE);
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new Error(`audit log ${path} is not a regular file`);
    if ((st.mode & 0o777) !== AUDIT_FILE_MODE) await handle.chmod(AUDIT_FILE_MODE);
    opts.signal?.throwIfAborted();
  } catch (e) {
    await handle.close();
    throw e;
  }
  const out = handle.createWriteStream({ encoding: "utf8" });
  out.on("error", opts.onError);
  return {
    write: (r) => void out.write(formatAuditLine(r)),
    close: () => new Promise<void>((resolve) => out.end(resolve)),
  };
}
