// The one-line summary printed after saving a runtime trace: size, the trace format's Go version from
// the file header (`go 1.NN trace` padded with NULs to 16 bytes), the capture length, the open command.
import { invalidArgument } from "../common/errors.js";
import { shellQuote } from "../common/shell-quote.js";
import { scaledLabel, autoUnit } from "./units.js";

export interface TraceDescription {
  file: string;
  bytes: number;
  /** Trace format version from the header, e.g. "1.19". */
  goVersion: string;
  /** The capture length the caller asked for, when given. */
  durationMs?: number;
  /** `go tool trace FILE`, shell-quoted. */
  openCommand: string;
  /** e.g. `trace.out: 1.22MB runtime trace (go 1.19 format), 5s; open it with: go tool trace trace.out` */
  line: string;
}

const HEADER_BYTES = 16;
const HEADER = /^go (1\.\d+) trace\0*$/;

export interface DescribeTraceOptions {
  /** Where the trace was saved (used in the summary and the open command). */
  file: string;
  /** How long the capture ran, in milliseconds. */
  durationMs?: number;
}

export function describeTrace(bytes: Buffer | Uint8Array, opts: DescribeTraceOptions): TraceDescription {
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, HEADER_BYTES)).toString("latin1");
  const match = bytes.length >= HEADER_BYTES ? HEADER.exec(head) : null;
  if (!match) {
    const shown = JSON.stringify(head.replace(/\0+$/, ""));
    throw invalidArgument(`not a Go runtime trace: it does not start with "go 1.NN trace" (starts with ${shown})`);
  }
  const goVersion = match[1]!;
  const openCommand = `go tool trace ${shellQuote(opts.file)}`;
  const size = scaledLabel(bytes.length, "bytes", autoUnit(bytes.length, "bytes")!);
  let line = `${opts.file}: ${size} runtime trace (go ${goVersion} format)`;
  if (opts.durationMs !== undefined) line += `, ${formatMs(opts.durationMs)}`;
  line += `; open it with: ${openCommand}`;
  const result: TraceDescription = { file: opts.file, bytes: bytes.length, goVersion, openCommand, line };
  if (opts.durationMs !== undefined) result.durationMs = opts.durationMs;
  return result;
}

function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const seconds = Number((ms / 1000).toFixed(2));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  const rest = Number((seconds - minutes * 60).toFixed(2));
  return rest === 0 ? `${minutes}m` : `${minutes}m${rest}s`;
}
