// JSON text for --json and piped output (indented; or one line per value for NDJSON across hosts). Byte fields become base64 strings (never {"type":"Buffer",...}),
// bigints become decimal strings. Strings stay exact: JSON.stringify escapes C0 controls, and what it leaves raw
// but a terminal may act on (DEL, C1 controls such as the 8-bit CSI, bidi and other format characters, line and
// paragraph separators) is written as a \uXXXX escape too, which parses back to the same string.
const UNSAFE_IN_JSON = /[\x7f-\x9f\p{Cf}\u2028\u2029]/gu;

export function toJson(value: unknown, indent = 2): string {
  const text = JSON.stringify(
    value,
    function (this: Record<string, unknown>, key: string, v: unknown) {
      const original = this[key];
      if (original instanceof Uint8Array) return Buffer.from(original.buffer, original.byteOffset, original.byteLength).toString("base64");
      if (typeof original === "bigint") return original.toString();
      return v;
    },
    indent,
  ) as string | undefined;
  // Outside strings JSON text is ASCII punctuation, digits and keywords: these characters occur only inside strings.
  if (text === undefined) return text!;
  // ASCII text (nearly all of it) needs no look at the Unicode classes, whose pattern is slow to compile.
  return /^[\x00-\x7e]*$/.test(text) ? text : text.replace(UNSAFE_IN_JSON, unicodeEscape);
}

/** `\uXXXX` per UTF-16 unit (a character beyond the BMP is its surrogate pair, as JSON writes it). */
function unicodeEscape(c: string): string {
  let out = "";
  for (let i = 0; i < c.length; i++) out += `\\u${c.charCodeAt(i).toString(16).padStart(4, "0")}`;
  return out;
}
