// The one place commands write their results: the table/text view (on a terminal and in a pipe alike), JSON when
// --json is given. Writes honour stream back-pressure and the call's AbortSignal.
//
// Every text written here goes through escapeControls (docs/ARCHITECTURE.md rule 12), on a terminal and in a pipe
// alike: a target's name, argv, paths or agent reply cannot retitle, clear or rewrite the terminal. Only the
// layout's own newline and tab pass (a stack dump keeps its lines and indentation; a CR is escaped). JSON is
// escaped by JSON itself (toJson) and is written as it is.
import { once } from "node:events";
import type { Writable } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import { escapeControls } from "../../common/escape-text.js";
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

/** The characters a text view may contain unescaped: its own line breaks and tab indentation. */
const LAYOUT = "\n\t";

/** JSON only for --json: a pipe gets the same tables and text as a terminal (`gopsctl ps | grep api`). */
export function wantsJson(out: Pick<OutputTarget, "isTTY" | "json">): boolean {
  return out.json;
}

export async function printView(out: OutputTarget, view: View): Promise<void> {
  if (wantsJson(out)) await writeJson(out, toJson(view.json));
  else await write(out.stdout, view.text(), out.signal);
}

export async function printJson(out: OutputTarget, value: unknown): Promise<void> {
  await writeJson(out, toJson(value));
}

/** One NDJSON line (across hosts: one per host result, as it arrives). */
export async function printJsonLine(out: Pick<OutputTarget, "stdout" | "signal">, value: unknown): Promise<void> {
  await writeJson(out, toJson(value, 0));
}

/**
 * Writes text, control characters escaped (see above), and waits for the stream to drain if it asked to (large
 * stack dumps into a slow pipe). Bytes are text in UTF-8: a character split across two chunks is decoded whole.
 */
export async function write(stream: Writable, chunk: string | Uint8Array, signal: AbortSignal): Promise<void> {
  const text = typeof chunk === "string" ? chunk : decoderFor(stream).write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  await writeRaw(stream, escapeControls(text, { keep: LAYOUT }), signal);
}

async function writeJson(out: Pick<OutputTarget, "stdout" | "signal">, json: string): Promise<void> {
  await writeRaw(out.stdout, `${json}\n`, out.signal);
}

async function writeRaw(stream: Writable, text: string, signal: AbortSignal): Promise<void> {
  if (text.length === 0) return;
  if (!stream.write(text)) await once(stream, "drain", { signal });
}

/** One streaming UTF-8 decoder per output stream (invalid bytes become U+FFFD, never a raw 8-bit control). */
const decoders = new WeakMap<Writable, StringDecoder>();

function decoderFor(stream: Writable): StringDecoder {
  let d = decoders.get(stream);
  if (d === undefined) decoders.set(stream, (d = new StringDecoder("utf8")));
  return d;
}
