// The one place commands write their results: the table/text view (on a terminal and in a pipe alike), JSON when
// --json is given. Writes honour stream back-pressure and the call's AbortSignal.
import { once } from "node:events";
import type { Writable } from "node:stream";
import { toJson } from "./json.js";

export interface OutputTarget {
  stdout: Writable;
  isTTY: boolean;
  json: boolean;
  signal: AbortSignal;
}

/** A structured result: `json` is printed when JSON is wanted, else `text()`. */
export interface View {
  json: unknown;
  text: () => string;
}

/** JSON only for --json: a pipe gets the same tables and text as a terminal (`gopsctl ps | grep api`). */
export function wantsJson(out: Pick<OutputTarget, "isTTY" | "json">): boolean {
  return out.json;
}

export async function printView(out: OutputTarget, view: View): Promise<void> {
  await write(out.stdout, wantsJson(out) ? `${toJson(view.json)}\n` : view.text(), out.signal);
}

export async function printJson(out: OutputTarget, value: unknown): Promise<void> {
  await write(out.stdout, `${toJson(value)}\n`, out.signal);
}

/** One NDJSON line (across hosts: one per host result, as it arrives). */
export async function printJsonLine(out: Pick<OutputTarget, "stdout" | "signal">, value: unknown): Promise<void> {
  await write(out.stdout, `${toJson(value, 0)}\n`, out.signal);
}

/** Writes a chunk and waits for the stream to drain if it asked to (large stack dumps into a slow pipe). */
export async function write(stream: Writable, chunk: string | Uint8Array, signal: AbortSignal): Promise<void> {
  if (chunk.length === 0) return;
  if (!stream.write(chunk)) await once(stream, "drain", { signal });
}
