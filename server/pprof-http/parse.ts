// Pure parsers of what a net/http/pprof (and expvar) endpoint serves, mapped to the same typed messages the
// gops agent path fills: runtime.MemStats from /debug/vars JSON or from the `# Name = value` block that
// heap?debug=1 prints at its end, and the "<name> profile: total N" header of a debug=1 profile.
// Replies are hostile: every value is checked; a bad one is a ReplyFormatError (the caller names the endpoint).
import { MemStats } from "../../proto/index.js";
import { ReplyFormatError } from "../agent/codec.js";

export interface ParsedMemStats {
  stats: MemStats;
  /** Keys of the reply this parser does not know. */
  unknownKeys: string[];
  /** MemStats fields (proto names) the reply does not carry: left at zero. */
  unknownFields: string[];
  /** PauseNs (256 pause durations, ns) when the reply carries it. */
  pauseNs?: number[];
}

type NumberField = { [K in keyof MemStats]: MemStats[K] extends number ? K : never }[keyof MemStats];
type BoolField = { [K in keyof MemStats]: MemStats[K] extends boolean ? K : never }[keyof MemStats];

/** runtime.MemStats field name → the proto field that has the same meaning. */
const PLAIN: ReadonlyMap<string, NumberField> = new Map<string, NumberField>([
  ["Alloc", "alloc"],
  ["TotalAlloc", "totalAlloc"],
  ["Sys", "sys"],
  ["Lookups", "lookups"],
  ["Mallocs", "mallocs"],
  ["Frees", "frees"],
  ["HeapAlloc", "heapAlloc"],
  ["HeapSys", "heapSys"],
  ["HeapIdle", "heapIdle"],
  ["HeapInuse", "heapInUse"],
  ["HeapReleased", "heapReleased"],
  ["HeapObjects", "heapObjects"],
  ["StackInuse", "stackInUse"],
  ["StackSys", "stackSys"],
  ["MSpanInuse", "mspanInUse"],
  ["MSpanSys", "mspanSys"],
  ["MCacheInuse", "mcacheInUse"],
  ["MCacheSys", "mcacheSys"],
  ["BuckHashSys", "buckHashSys"],
  ["GCSys", "gcSys"],
  ["OtherSys", "otherSys"],
  ["NextGC", "nextGc"],
  ["PauseTotalNs", "gcPauseTotalNs"],
  ["NumGC", "numGc"],
  ["NumForcedGC", "numForcedGc"],
]);
const BOOLS: ReadonlyMap<string, BoolField> = new Map<string, BoolField>([
  ["EnableGC", "enableGc"],
  ["DebugGC", "debugGc"],
]);
/** Keys that carry no MemStats field of ours but are known (not reported as unknown). */
const IGNORED = new Set(["BySize", "MaxRSS"]);

/** Every MemStats field, as proto names, and the keys whose presence fills each. */
const FIELD_SOURCES: ReadonlyArray<[string, string]> = [
  ...[...PLAIN].map(([k, f]) => [protoName(f), k] as [string, string]),
  ...[...BOOLS].map(([k, f]) => [protoName(f), k] as [string, string]),
  ["last_gc_unix_ms", "LastGC"],
  ["last_gc", "LastGC"],
  ["gc_pause_ns", "PauseNs"],
  ["gc_pause_end_unix_ms", "PauseEnd"],
  ["gc_cpu_fraction", "GCCPUFraction"],
];

function protoName(camel: string): string {
  return camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** The raw MemStats values by Go field name: numbers as bigint, floats as number, booleans, arrays of bigint. */
type RawValue = bigint | number | boolean | bigint[];

function build(values: ReadonlyMap<string, RawValue>): ParsedMemStats {
  const stats = MemStats.create();
  const unknownKeys: string[] = [];
  const bad = (key: string) => new ReplyFormatError(`memstats ${key}: not a value of the expected type`);
  const uint = (key: string, v: RawValue): number => {
    if (typeof v !== "bigint" || v < 0n || v >= 1n << 64n) throw bad(key);
    return Number(v);
  };
  for (const [key, v] of values) {
    const plain = PLAIN.get(key);
    const bool = BOOLS.get(key);
    if (plain) stats[plain] = uint(key, v);
    else if (bool) {
      if (typeof v !== "boolean") throw bad(key);
      stats[bool] = v;
    } else if (key === "LastGC") {
      if (typeof v !== "bigint" || v < 0n || v >= 1n << 64n) throw bad(key);
      stats.lastGcUnixMs = Number(v / 1_000_000n);
      stats.lastGc = v === 0n ? "-" : formatGoUtc(Number(v / 1_000_000n));
    } else if (key === "GCCPUFraction") {
      const f = typeof v === "bigint" ? Number(v) : v;
      if (typeof f !== "number" || !Number.isFinite(f)) throw bad(key);
      stats.gcCpuFraction = f;
    } else if (key === "PauseNs" || key === "PauseEnd") {
      if (!Array.isArray(v) || v.length !== 256 || v.some((x) => x < 0n || x >= 1n << 64n)) throw bad(key);
    } else if (!IGNORED.has(key)) unknownKeys.push(key);
  }
  // The latest pause, as the agent reports it: PauseNs[(NumGC+255)%256].
  const latest = (stats.numGc + 255) % 256;
  const pauseNs = values.get("PauseNs");
  const pauseEnd = values.get("PauseEnd");
  if (Array.isArray(pauseNs)) stats.gcPauseNs = stats.numGc === 0 ? 0 : Number(pauseNs[latest]);
  if (Array.isArray(pauseEnd)) stats.gcPauseEndUnixMs = stats.numGc === 0 ? 0 : Number(pauseEnd[latest]! / 1_000_000n);
  const known = FIELD_SOURCES.filter(([, k]) => values.has(k)).length;
  if (known === 0) throw new ReplyFormatError("memstats: the reply carries no runtime.MemStats field");
  const unknownFields = FIELD_SOURCES.filter(([, k]) => !values.has(k)).map(([f]) => f);
  return {
    stats,
    unknownKeys,
    unknownFields: [...new Set(unknownFields)],
    ...(Array.isArray(pauseNs) ? { pauseNs: pauseNs.map((x) => Number(x)) } : {}),
  };
}

/** Unix ms as Go prints a UTC time.Time: "2026-11-26 11:02:57.36 +0000 UTC". */
function formatGoUtc(ms: number): string {
  const iso = new Date(ms).toISOString(); // 2026-11-26T11:02:57.360Z
  const frac = iso.slice(20, 23).replace(/0+$/, "");
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${frac ? `.${frac}` : ""} +0000 UTC`;
}

/** Deepest nesting of arrays and objects accepted in /debug/vars (Go's expvar memstats is 4 deep). */
export const EXPVAR_MAX_DEPTH = 64;

/**
 * Whether JSON text opens more than `limit` arrays/objects inside each other (brackets inside strings do not
 * count). One pass, no allocation; says nothing about validity (JSON.parse judges that).
 */
export function nestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/**
 * /debug/vars (expvar): a JSON object whose "memstats" member is runtime.MemStats with Go's field names.
 * Returns undefined when the reply is JSON without a memstats object (expvar served, memstats not published).
 */
export function parseExpvarMemStats(text: string): (ParsedMemStats & { raw: string }) | undefined {
  // JSON.parse builds any depth, but JSON.stringify (and every other recursive walk) overflows the stack on
  // deep nesting (1 MiB of "[[[..." is 500k levels): refuse it before parsing.
  if (nestsDeeperThan(text, EXPVAR_MAX_DEPTH)) {
    throw new ReplyFormatError(`/debug/vars nests JSON deeper than ${EXPVAR_MAX_DEPTH} levels`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new ReplyFormatError("/debug/vars is not JSON");
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) throw new ReplyFormatError("/debug/vars is not a JSON object");
  const m = (doc as Record<string, unknown>).memstats;
  if (typeof m !== "object" || m === null || Array.isArray(m)) return undefined;
  const values = new Map<string, RawValue>();
  for (const [key, v] of Object.entries(m as Record<string, unknown>)) {
    if (typeof v === "boolean") values.set(key, v);
    else if (typeof v === "number") values.set(key, key === "GCCPUFraction" ? v : toBig(key, v));
    else if (Array.isArray(v) && (key === "PauseNs" || key === "PauseEnd")) values.set(key, v.map((x) => toBig(key, x)));
    else if (PLAIN.has(key) || BOOLS.has(key) || key === "LastGC" || key === "GCCPUFraction" || key === "PauseNs" || key === "PauseEnd") {
      throw new ReplyFormatError(`memstats ${key}: not a value of the expected type`);
    } else values.set(key, 0n); // unknown or ignored: only its name matters
  }
  return { ...build(values), raw: JSON.stringify(m) };
}

function toBig(key: string, v: unknown): bigint {
  // JSON numbers above 2^53 arrive rounded (LastGC, PauseEnd: Unix ns); whole milliseconds stay right.
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0 || !Number.isInteger(v)) {
    throw new ReplyFormatError(`memstats ${key}: not a non-negative integer`);
  }
  return BigInt(v);
}

/** Where the MemStats block starts in heap?debug=1 output. */
export const HEAP_MEMSTATS_MARKER = "\n# runtime.MemStats\n";

/**
 * The `# runtime.MemStats` block at the end of heap?debug=1: `# Name = value` lines; `Stack`, `MSpan` and
 * `MCache` print "inuse / sys"; PauseNs and PauseEnd print `[n n ...]` (256 numbers). Returns the fields
 * and the block's text.
 */
export function parseHeapMemStats(text: string): ParsedMemStats & { raw: string } {
  const at = text.lastIndexOf(HEAP_MEMSTATS_MARKER);
  if (at < 0) throw new ReplyFormatError("heap?debug=1 has no # runtime.MemStats block");
  const raw = text.slice(at + 1);
  const values = new Map<string, RawValue>();
  const int = (key: string, s: string): bigint => {
    if (!/^\d{1,20}$/.test(s)) throw new ReplyFormatError(`memstats ${key}: cannot parse ${JSON.stringify(s.slice(0, 40))}`);
    return BigInt(s);
  };
  for (const line of raw.split("\n").slice(1)) {
    if (line.trim() === "") continue;
    const m = /^# (\w+) = (.*)$/.exec(line);
    if (!m) throw new ReplyFormatError(`memstats line is not "# Name = value": ${JSON.stringify(line.slice(0, 80))}`);
    const [, key, value] = m as unknown as [string, string, string];
    const pair = /^(\d+) \/ (\d+)$/.exec(value);
    if (key === "Stack" || key === "MSpan" || key === "MCache") {
      if (!pair) throw new ReplyFormatError(`memstats ${key}: expected "inuse / sys"`);
      values.set(`${key}Inuse`, int(key, pair[1]!));
      values.set(`${key}Sys`, int(key, pair[2]!));
    } else if (key === "PauseNs" || key === "PauseEnd") {
      const arr = /^\[([\d ]*)\]$/.exec(value);
      if (!arr) throw new ReplyFormatError(`memstats ${key}: expected [n n ...]`);
      values.set(key, arr[1]!.split(" ").filter(Boolean).map((s) => int(key, s)));
    } else if (key === "GCCPUFraction") {
      if (!/^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$/i.test(value)) throw new ReplyFormatError(`memstats ${key}: not a number`);
      values.set(key, Number(value));
    } else if (BOOLS.has(key)) {
      if (value !== "true" && value !== "false") throw new ReplyFormatError(`memstats ${key}: not true/false`);
      values.set(key, value === "true");
    } else if (PLAIN.has(key) || key === "LastGC") {
      values.set(key, int(key, value));
    } else values.set(key, 0n);
  }
  return { ...build(values), raw };
}

/** N of the "<name> profile: total N" first line of a debug=1 profile (goroutine, threadcreate). */
export function parseProfileTotal(firstLine: string, name: string): number {
  const m = new RegExp(`^${name} profile: total (\\d{1,9})$`).exec(firstLine.replace(/\r$/, ""));
  if (!m) throw new ReplyFormatError(`${name}?debug=1 does not start with "${name} profile: total N"`);
  return Number(m[1]);
}
