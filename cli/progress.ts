// Progress of a capture or a big download on stderr when it is a terminal: one line, redrawn in place (\r) at
// most ten times a second and erased at the end. renderProgress is the pure part.
import type { Writable } from "node:stream";
import type { CommandContext } from "./command.js";
import { formatGoDuration } from "./duration.js";

export interface ProgressState {
  elapsedMs: number;
  /** How long the capture runs before its bytes arrive (CPU profile 30 s, trace 5 s); 0 = not a timed capture. */
  expectedMs: number;
  /** Bytes received so far. */
  bytes: number;
  /** Terminal columns: the line stays shorter, so it never wraps. */
  width: number;
  /** What is received, e.g. "CPU profile of pid 4132". */
  label?: string;
}

const BAR_MIN = 10;
const BAR_MAX = 40;
const DEFAULT_COLUMNS = 80;
const REDRAW_MS = 100;
/** Erase from the cursor to the end of the line (ANSI EL). */
const ERASE_LINE = "\x1b[K";

/**
 * One progress line without control characters. A timed capture shows a bar while it runs (a trace's
 * header arrives at once, so bytes are added to it):
 * `CPU profile of pid 4132 [#######-----------------]  9s of 30s, 21s left`,
 * `execution trace of pid 4132 [####----] 2s of 5s, 3s left, 16B received`; once the time is up, or for an
 * untimed capture from the start, what arrived: `CPU profile of pid 4132: received 1.2MB in 31s`.
 */
export function renderProgress(s: ProgressState): string {
  const label = s.label ?? "";
  const elapsed = formatGoDuration(wholeSeconds(s.elapsedMs));
  let line: string;
  if (s.expectedMs > 0 && (s.elapsedMs < s.expectedMs || s.bytes === 0)) {
    const fraction = Math.min(1, Math.max(0, s.elapsedMs / s.expectedMs));
    const expected = formatGoDuration(Math.ceil(s.expectedMs / 1000) * 1000);
    let tail =
      s.elapsedMs < s.expectedMs
        ? `${elapsed} of ${expected}, ${formatGoDuration(wholeSecondsUp(s.expectedMs - s.elapsedMs))} left`
        : `${elapsed} of ${expected}, waiting for the data`;
    if (s.bytes > 0) tail += `, ${formatBytes(s.bytes)} received`;
    const room = s.width - 1 - tail.length - (label === "" ? 0 : label.length + 1) - 3;
    const barWidth = Math.min(BAR_MAX, room);
    if (barWidth >= BAR_MIN) {
      const filled = Math.round(fraction * barWidth);
      const bar = `[${"#".repeat(filled)}${"-".repeat(barWidth - filled)}]`;
      line = `${label === "" ? "" : `${label} `}${bar} ${tail}`;
    } else {
      line = `${label === "" ? "" : `${label}: `}${tail}`;
    }
  } else {
    const what = s.bytes === 0 ? "waiting for the data" : `received ${formatBytes(s.bytes)}`;
    line = `${label === "" ? "" : `${label}: `}${what} in ${elapsed}`;
  }
  return truncate(line, s.width - 1);
}

/** 512B, 12.3kB, 1.2MB, 3.4GB (powers of 1024, like go tool pprof's byte units). */
export function formatBytes(bytes: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let value = bytes;
  let i = 0;
  while (value >= 1024 && i < units.length - 1) {
    value /= 1024;
    i++;
  }
  return i === 0 ? `${value}B` : `${value >= 100 ? Math.round(value) : Number(value.toFixed(1))}${units[i]}`;
}

export interface Progress {
  /** The total number of bytes received so far (drawn at the next redraw). */
  received(bytes: number): void;
  /** Stops redrawing and erases the line. */
  stop(): void;
}

export interface ProgressOptions {
  label: string;
  expectedMs: number;
  columns: number;
  /** Milliseconds clock; default performance.now. */
  now?: () => number;
}

/** Draws the line now, then redraws it every 100 ms while it changes, until stop(). */
export function startProgress(out: Writable, opts: ProgressOptions): Progress {
  const now = opts.now ?? (() => performance.now());
  const started = now();
  let bytes = 0;
  let shown = "";
  const draw = (): void => {
    const line = renderProgress({ elapsedMs: now() - started, expectedMs: opts.expectedMs, bytes, width: opts.columns, label: opts.label });
    if (line === shown) return;
    shown = line;
    out.write(`\r${line}${ERASE_LINE}`);
  };
  draw();
  const timer = setInterval(draw, REDRAW_MS);
  timer.unref();
  return {
    received(n) {
      bytes = n;
    },
    stop() {
      clearInterval(timer);
      if (shown !== "") out.write(`\r${ERASE_LINE}`);
      shown = "";
    },
  };
}

/** A progress line on the command's stderr when that is a terminal and --json was not given; else undefined. */
export function progressFor(ctx: CommandContext, label: string, expectedMs: number): Progress | undefined {
  if (!ctx.stderrIsTTY || ctx.json) return undefined;
  const columns = (ctx.stderr as Partial<NodeJS.WriteStream>).columns;
  return startProgress(ctx.stderr, { label, expectedMs, columns: columns !== undefined && columns > 0 ? columns : DEFAULT_COLUMNS });
}

function wholeSeconds(ms: number): number {
  return Math.max(0, Math.floor(ms / 1000)) * 1000;
}

function wholeSecondsUp(ms: number): number {
  return Math.max(0, Math.ceil(ms / 1000)) * 1000;
}

function truncate(s: string, max: number): string {
  if (max <= 0) return "";
  return s.length <= max ? s : `${s.slice(0, Math.max(0, max - 1))}…`;
}
