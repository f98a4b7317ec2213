// Text a target process controls (its name, argv, exe path, build info, its agent's replies, its config dir)
// reaches a terminal only with control characters escaped, as ps and ls do: a process must not be able to
// retitle, clear or rewrite the operator's terminal, or hide and forge lines. One rule for every text output
// (the CLI's output layer and error line, gopsd's one-line messages); JSON is escaped by JSON itself.

/**
 * The characters that are escaped: C0 controls, DEL, C1 controls (all of \p{Cc}), Unicode format characters
 * (\p{Cf}: bidi overrides and isolates, zero-width characters, BOM) and the line and paragraph separators.
 */
const UNSAFE = /[\p{Cc}\p{Cf}\u2028\u2029]/gu;

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

const NAMED: Readonly<Record<string, string>> = {
  "\x1b": "\\e",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
};

function escapeChar(c: string): string {
  const named = NAMED[c];
  if (named !== undefined) return named;
  const code = c.codePointAt(0)!;
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
}

export interface EscapeOptions {
  /** Characters left as they are: "\n" for multi-line text (a stack dump), "\n\t" for a rendered layout. */
  keep?: string;
}

/**
 * `text` with every control and format character written as an escape: ESC as `\e`, CR `\r`, LF `\n`, TAB `\t`,
 * other C0/C1 controls and DEL as `\xNN` (BEL `\x07`, CSI `\x9b`), format characters and separators as `\uNNNN`
 * (`\u202e`). Printable text, backslashes included, is left alone, so escaping twice changes nothing.
 */
export function escapeControls(text: string, opts: EscapeOptions = {}): string {
  // Printable ASCII, nearly all text, needs no look at the Unicode classes (whose pattern costs a CLI's start
  // ~0.5 ms to compile at its first use).
  if (PRINTABLE_ASCII.test(text)) return text;
  const keep = opts.keep ?? "";
  return text.replace(UNSAFE, (c) => (keep.includes(c) ? c : escapeChar(c)));
}

/** One line of text for a message: every control escaped, newlines included. */
export function escapeLine(text: string): string {
  return escapeControls(text);
}

/** Whether `text` holds a character escapeControls would escape (other than those in `keep`). */
export function hasControls(text: string, keep = ""): boolean {
  return escapeControls(text, { keep }) !== text;
}
