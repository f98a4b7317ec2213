// Go time.Duration text, one parser for both sides: what agents print (memstats' pause times) and what users type
// (--timeout 30s, a period of 1m30s, or a bare number of seconds).
const NS_PER_UNIT: ReadonlyMap<string, bigint> = new Map([
  ["ns", 1n],
  ["us", 1_000n],
  ["µs", 1_000n], // U+00B5 micro sign: what Go prints
  ["μs", 1_000n], // U+03BC Greek mu: what Go also accepts
  ["ms", 1_000_000n],
  ["s", 1_000_000_000n],
  ["m", 60_000_000_000n],
  ["h", 3_600_000_000_000n],
]);

/** A Go time.Duration string (`0s`, `38.458µs`, `1.2ms`, `3m2.1s`, `1h2m3.5s`, `500ns`) → nanoseconds. */
export function parseGoDuration(s: string): number | undefined {
  if (s === "0") return 0;
  const re = /(\d*)(?:\.(\d*))?(ns|us|\u00b5s|\u03bcs|ms|s|m|h)/y;
  let total = 0n;
  let pos = 0;
  while (pos < s.length) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m || (m[1] === "" && (m[2] ?? "") === "")) return undefined;
    const unit = NS_PER_UNIT.get(m[3]!)!;
    const frac = m[2] ?? "";
    total += BigInt(m[1] || "0") * unit;
    if (frac !== "") total += (BigInt(frac) * unit) / 10n ** BigInt(frac.length);
    pos = re.lastIndex;
  }
  return pos === 0 ? undefined : Number(total);
}

/** A duration typed by a user: Go syntax with an optional sign, or a number of seconds; undefined when not one. */
export function parseDurationMs(text: string): number | undefined {
  const t = text.trim();
  if (t === "") return undefined;
  if (/^-?\d+(\.\d+)?$/.test(t)) return Number(t) * 1000;
  const sign = t.startsWith("-") ? -1 : 1;
  const ns = parseGoDuration(t.replace(/^[-+]/, ""));
  return ns === undefined ? undefined : (sign * ns) / 1e6;
}

export function formatDurationMs(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const s = ms / 1000;
  if (s < 60) return `${Number.isInteger(s) ? s : s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  const rest = Math.round(s - m * 60);
  return rest ? `${m}m${rest}s` : `${m}m`;
}
