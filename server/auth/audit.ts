// The audit log: JSON lines to a private file (created 0600, narrowed to 0600 if wider) or to a stream such as
// stdout. A call that goes on to the service has a "start" line when it starts and its outcome line when it ends
// (so a call that kills or hangs the daemon is still on record); a refused call has one line, or is counted into a
// summary (refusals.ts). A record holds who/what/outcome only; it has no field that could carry a credential, and
// every string field is cut to MAX_AUDIT_FIELD characters so that no caller can make a line large.
import { constants as fsConstants, writeSync } from "node:fs";
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
  /** The failure's ErrorInfo reason (docs/ERRORS.md), as sent to the client. */
  readonly reason?: string;
  /** The backend that served a diagnostic call: "gops-agent" or "http-pprof"; absent when none was chosen. */
  readonly backend?: string;
  /**
   * Payload bytes sent: for a chunk message the chunk's length, for any other message its protobuf-encoded size;
   * gRPC framing is not counted. null for methods outside the Diagnostics service (health, reflection).
   */
  readonly bytes: number | null;
  readonly durationMs: number;
  /** "start" on the line written as a call is admitted to the service (outcome "STARTED"); absent otherwise. */
  readonly phase?: "start";
  /** On a summary of refusals: how many refused calls the line stands for (see refusals.ts). */
  readonly count?: number;
  /** A call gopsd made itself because a capture rule fired (server/capture/): the rule's name; subject is null. */
  readonly trigger?: string;
}

/** Longest string field in an audit line; longer ones are cut and end in "…". */
export const MAX_AUDIT_FIELD = 256;

const cut = <T extends string | null | undefined>(s: T): T =>
  (typeof s === "string" && s.length > MAX_AUDIT_FIELD ? `${s.slice(0, MAX_AUDIT_FIELD - 1)}…` : s) as T;

/** The record with every string field bounded. */
export function boundRecord(r: AuditRecord): AuditRecord {
  return {
    ...r,
    host: cut(r.host),
    subject: cut(r.subject),
    jti: cut(r.jti),
    peer: cut(r.peer),
    certSubject: cut(r.certSubject),
    method: cut(r.method),
    outcome: cut(r.outcome),
    ...(r.error !== undefined ? { error: cut(r.error) } : {}),
    ...(r.trigger !== undefined ? { trigger: cut(r.trigger) } : {}),
  };
}

export interface AuditSink {
  write(record: AuditRecord): void;
  /** Flushes and releases the sink (a file sink closes its file; a stream sink leaves the stream open). */
  close(): Promise<void>;
}

export const formatAuditLine = (r: AuditRecord) => `${JSON.stringify(boundRecord(r))}\n`;

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
 * Lines are written synchronously (one write(2) each, to the page cache): a line is on record before the call it
 * describes goes on, even if that call then blocks the event loop or gets the daemon killed. The rate of lines is
 * bounded by the limiters and by the aggregation of refusals.
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
  let closed = false;
  return {
    write: (r) => {
      if (closed) return;
      try {
        writeSync(handle.fd, formatAuditLine(r));
      } catch (e) {
        opts.onError(e as Error);
      }
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await handle.close();
    },
  };
}
