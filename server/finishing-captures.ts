// Where the Governor keeps the timed captures that were abandoned while the gops agent runs them on (it cannot be
// told to stop: a CPU profile lasts its 30 s, a trace its 5 s, whoever is still listening). gopsd lives across
// calls, so memory is enough; gopsctl without --host is a new process on every run, so its in-process backend keeps
// them in a small file per process in a directory of the user's own, until the capture's end.
import { closeSync, lstatSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

export interface FinishingCapture {
  /** "a trace", "a CPU profile". */
  label: string;
  /** When the agent is done with it (ms since the epoch). */
  untilMs: number;
}

export interface FinishingStore {
  save(pid: number, capture: FinishingCapture): void;
  load(pid: number): FinishingCapture | undefined;
}

/** The start time of a pid's process (a pid reused by another process has another), undefined when it is gone. */
export type StartTimeOf = (pid: number) => number | undefined;

/** In memory, for a process that outlives the call (gopsd). Records end with their capture or their process. */
export function memoryFinishingStore(startOf?: StartTimeOf): FinishingStore {
  const records = new Map<number, FinishingCapture & { starttime: number | undefined }>();
  return {
    save(pid, capture) {
      records.set(pid, { ...capture, starttime: startOf?.(pid) });
    },
    load(pid) {
      const r = records.get(pid);
      if (r === undefined) return undefined;
      if (r.untilMs <= Date.now() || (startOf !== undefined && startOf(pid) !== r.starttime)) {
        records.delete(pid);
        return undefined;
      }
      return { label: r.label, untilMs: r.untilMs };
    },
  };
}

/**
 * The directory of the file store: $XDG_RUNTIME_DIR/gopsctl/captures, else <tmp>/gopsctl-<uid>/captures. Both are
 * the user's own; a directory someone else owns or can write to is not used (see fileFinishingStore).
 */
export function finishingDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_RUNTIME_DIR ? path.join(env.XDG_RUNTIME_DIR, "gopsctl") : path.join(tmpdir(), `gopsctl-${process.getuid?.() ?? "user"}`);
  return path.join(base, "captures");
}

/**
 * One small file per process (`<pid>`: label, end, the process's start time) in `dir`, for gopsctl's in-process
 * backend. The directory and its parent are made mode 0700 and used only when they are real directories (not
 * symlinks) of this user that nobody else can write to: anything else (a squatted /tmp/gopsctl-0) and any I/O
 * error make the store forget, which costs only the explicit message (the next call then waits on the agent).
 */
export function fileFinishingStore(dir: string, startOf: StartTimeOf): FinishingStore {
  const usable = (): boolean => {
    try {
      for (const d of [path.dirname(dir), dir]) {
        mkdirSync(d, { mode: 0o700, recursive: true });
        const st = lstatSync(d);
        if (!st.isDirectory() || st.uid !== process.getuid?.() || (st.mode & 0o022) !== 0) return false;
      }
      return true;
    } catch {
      return false;
    }
  };
  const file = (pid: number) => path.join(dir, String(pid));
  return {
    save(pid, capture) {
      if (!usable()) return;
      const tmp = `${file(pid)}.${process.pid}.tmp`;
      try {
        const fd = openSync(tmp, "wx", 0o600);
        try {
          writeSync(fd, JSON.stringify({ label: capture.label, untilMs: capture.untilMs, starttime: startOf(pid) ?? null }));
        } finally {
          closeSync(fd);
        }
        renameSync(tmp, file(pid));
      } catch {
        try {
          unlinkSync(tmp);
        } catch {
          // never written
        }
      }
    },
    load(pid) {
      let text: string;
      try {
        const st = lstatSync(file(pid));
        if (!st.isFile() || st.uid !== process.getuid?.() || st.size > 4096) return undefined;
        text = readFileSync(file(pid), "utf8");
      } catch {
        return undefined;
      }
      let r: { label?: unknown; untilMs?: unknown; starttime?: unknown };
      try {
        r = JSON.parse(text) as typeof r;
      } catch {
        r = {};
      }
      const valid = typeof r.label === "string" && typeof r.untilMs === "number" && r.untilMs > Date.now() && r.starttime === (startOf(pid) ?? null);
      if (!valid) {
        try {
          unlinkSync(file(pid));
        } catch {
          // gone already
        }
        return undefined;
      }
      return { label: r.label as string, untilMs: r.untilMs as number };
    },
  };
}
