// Go string literal quoting as used by the "build" lines of Go module info (strconv.Quote,
// strconv.QuotedPrefix + Unquote). Go strings are bytes: escapes like \xff produce raw bytes, so
// unquoting builds bytes and decodes them as UTF-8 at the end.

/** Made at first use: a pattern of Unicode classes is ~1 ms of a CLI's start to create. */
let printable: RegExp | undefined;
const SIMPLE_ESCAPES: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, "\\": 0x5c, '"': 0x22 };
const ESCAPE_OF: Record<number, string> = { 7: "\\a", 8: "\\b", 12: "\\f", 10: "\\n", 13: "\\r", 9: "\\t", 11: "\\v" };
const HEX_DIGITS: Record<string, number> = { x: 2, u: 4, U: 8 };

/** Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
const isPrint = (ch: string): boolean => ch === " " || (printable ??= /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u).test(ch);

/** strconv.Quote: a double-quoted Go string literal. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const r = ch.codePointAt(0)!;
    if (ch === '"' || ch === "\\") out += "\\" + ch;
    else if (isPrint(ch)) out += ch;
    else if (ESCAPE_OF[r] !== undefined) out += ESCAPE_OF[r];
    else if (r < 0x20 || r === 0x7f) out += "\\x" + r.toString(16).padStart(2, "0");
    else if (r < 0x10000) out += "\\u" + r.toString(16).padStart(4, "0");
    else out += "\\U" + r.toString(16).padStart(8, "0");
  }
  return out + '"';
}

/**
 * The Go string literal (double- or back-quoted) at the start of `s`: its value and the index just after
 * its closing quote, or undefined when `s` does not start with a valid literal.
 */
export function goUnquotePrefix(s: string): { value: string; end: number } | undefined {
  if (s.startsWith("`")) {
    const close = s.indexOf("`", 1);
    if (close < 0) return undefined;
    return { value: s.slice(1, close).replaceAll("\r", ""), end: close + 1 };
  }
  if (!s.startsWith('"')) return undefined;
  const bytes: number[] = [];
  let i = 1;
  for (;;) {
    if (i >= s.length) return undefined;
    const c = s[i]!;
    if (c === '"') break;
    if (c === "\n") return undefined;
    if (c !== "\\") {
      const ch = String.fromCodePoint(s.codePointAt(i)!);
      bytes.push(...Buffer.from(ch, "utf8"));
      i += ch.length;
      continue;
    }
    const e = s[i + 1];
    if (e === undefined) return undefined;
    const simple = SIMPLE_ESCAPES[e];
    const hexLen = HEX_DIGITS[e];
    if (simple !== undefined) {
      bytes.push(simple);
      i += 2;
    } else if (hexLen !== undefined) {
      const digits = s.slice(i + 2, i + 2 + hexLen);
      if (digits.length !== hexLen || !/^[0-9a-fA-F]+$/.test(digits)) return undefined;
      const v = parseInt(digits, 16);
      if (e === "x") bytes.push(v);
      else if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) return undefined;
      else bytes.push(...Buffer.from(String.fromCodePoint(v), "utf8"));
      i += 2 + hexLen;
    } else if (/^[0-7]{3}$/.test(s.slice(i + 1, i + 4))) {
      const v = parseInt(s.slice(i + 1, i + 4), 8);
      if (v > 255) return undefined;
      bytes.push(v);
      i += 4;
    } else {
      return undefined;
    }
  }
  return { value: Buffer.from(bytes).toString("utf8"), end: i + 1 };
}

/** strconv.Unquote: `s` must be exactly one Go string literal. */
export function goUnquote(s: string): string | undefined {
  const q = goUnquotePrefix(s);
  return q !== undefined && q.end === s.length ? q.value : undefined;
}
