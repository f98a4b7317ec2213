// JSON text for --json and piped output (indented; or one line per value for NDJSON across hosts). Byte fields become base64 strings (never {"type":"Buffer",...}),
// bigints become decimal strings.

export function toJson(value: unknown, indent = 2): string {
  return JSON.stringify(
    value,
    function (this: Record<string, unknown>, key: string, v: unknown) {
      const original = this[key];
      if (original instanceof Uint8Array) return Buffer.from(original.buffer, original.byteOffset, original.byteLength).toString("base64");
      if (typeof original === "bigint") return original.toString();
      return v;
    },
    indent,
  );
}
