// Pure codec for the gops agent protocol (docs/agent-protocol.md §2.3-§2.4): the request bytes, Go's signed varint, and
// parsers for the agent's text replies. No I/O here.
//
// Parsers throw ReplyFormatError (a plain Error: they do not know which agent sent the text). The caller,
// which knows the address, turns it into agentProtocol(addr, err.message).
import { parseGoDuration } from "../../common/duration.js";
import { MemStats } from "../../proto/index.js";
import { invalidArgument } from "../../common/errors.js";

export class ReplyFormatError extends Error {
  override readonly name = "ReplyFormatError";
}

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
/** Go's binary.MaxVarintLen64. */
const MAX_VARINT_BYTES = 10;

/** The bytes of one request: the signal byte followed by its argument, to be sent in ONE write. */
export function encodeRequest(sig: number, arg?: Buffer): Buffer {
  if (!Number.isInteger(sig) || sig < 0 || sig > 0xff) {
    throw invalidArgument(`a gops signal is one byte (0..255), got ${sig}`);
  }
  const head = Buffer.of(sig);
  return arg === undefined || arg.length === 0 ? head : Buffer.concat([head, arg]);
}

/**
 * Go's signed varint (binary.PutVarint): zig-zag (n >= 0 → 2n, n < 0 → -2n-1), then little-endian groups
 * of 7 bits with bit 7 as the continuation flag. Minimal encoding, 1..10 bytes. Accepts any int64; a
 * `number` must be a safe integer (use a bigint beyond 2^53).
 */
export function encodeSignedVarint(n: number | bigint): Buffer {
  let v: bigint;
  if (typeof n === "bigint") {
    v = n;
  } else {
    if (!Number.isSafeInteger(n)) {
      throw invalidArgument(`a varint needs an integer (a bigint beyond 2^53), got ${n}`);
    }
    v = BigInt(n);
  }
  if (v < INT64_MIN || v > INT64_MAX) {
    throw invalidArgument(`${v} does not fit in a signed 64-bit integer`);
  }
  let u = v >= 0n ? v << 1n : (-v << 1n) - 1n;
  const out: number[] = [];
  while (u >= 0x80n) {
    out.push(Number(u & 0x7fn) | 0x80);
    u >>= 7n;
  }
  out.push(Number(u));
  return Buffer.from(out);
}

/**
 * Reads one signed varint from the start of `b`, as Go's binary.ReadVarint does: it stops at the first byte
 * below 0x80, so trailing bytes (the stock CLI's zero padding) are not consumed. Throws on a truncated or
 * over-long (more than 10 bytes, or a 10th byte above 1) encoding.
 */
export function decodeSignedVarint(b: Buffer): { value: bigint; bytes: number } {
  let u = 0n;
  for (let i = 0; i < b.length && i < MAX_VARINT_BYTES; i++) {
    const byte = b[i]!;
    if (i === MAX_VARINT_BYTES - 1 && byte > 1) {
      throw invalidArgument("varint overflows 64 bits");
    }
    u |= BigInt(byte & 0x7f) << BigInt(7 * i);
    if (byte < 0x80) {
      const value = (u & 1n) === 0n ? u >> 1n : -(u >> 1n) - 1n;
      return { value, bytes: i + 1 };
    }
  }
  if (b.length >= MAX_VARINT_BYTES) throw invalidArgument("varint overflows 64 bits");
  throw invalidArgument(`truncated varint (${b.length} bytes, all with the continuation bit)`);
}

// ---- text replies ----

/** GC (0x02) replies exactly `ok`, with no newline, once the forced GC has finished. */
export function parseGCReply(text: string): void {
  if (text !== "ok") throw new ReplyFormatError(`gc reply should be "ok", got ${quote(text)}`);
}

/** Version (0x04): `go1.22.1\n`, `go1.21.4 X:arenas\n` or a `devel ...` string. Returns it trimmed.
 * "go" must be followed by a digit, so a stack dump (`goroutine 1 ...`) is not taken for a version. */
export function parseVersion(text: string): string {
  const v = text.trim();
  if (!/^(?:go\d|devel\b)/.test(v)) {
    throw new ReplyFormatError(`version reply should start with "go<digit>" or "devel", got ${quote(v)}`);
  }
  return v;
}

/** SetGCPercent (0x10): `New GC percent set to <new>. Previous value was <old>.\n` */
export function parseSetGCReply(text: string): { previous: number; current: number } {
  const m = /^New GC percent set to (-?\d+)\. Previous value was (-?\d+)\.\s*$/.exec(text);
  if (!m) throw new ReplyFormatError(`setgc reply not understood: ${quote(text)}`);
  return { current: safeInt(m[1]!, "new GC percent"), previous: safeInt(m[2]!, "previous GC percent") };
}

/** Stats (0x07): four `label: n` lines; all four are required. */
export function parseStats(text: string): {
  goroutines: number;
  osThreads: number;
  gomaxprocs: number;
  numCpu: number;
} {
  const map = keyValueLines(text, "stats");
  const get = (label: string): number => {
    const v = map.get(label);
    if (v === undefined) throw new ReplyFormatError(`stats reply has no "${label}" line: ${quote(text)}`);
    if (!/^\d+$/.test(v)) throw new ReplyFormatError(`stats "${label}" is not a count: ${quote(v)}`);
    return safeInt(v, `stats ${label}`);
  };
  return {
    goroutines: get("goroutines"),
    osThreads: get("OS threads"),
    gomaxprocs: get("GOMAXPROCS"),
    numCpu: get("num CPU"),
  };
}

// ---- memstats ----

type FieldOf<V> = { [K in keyof MemStats]: MemStats[K] extends V ? K : never }[keyof MemStats];
type NumberField = FieldOf<number>;
type BoolField = FieldOf<boolean>;

type Rule =
  | { kind: "bytes" | "count" | "unixNsToMs" | "nextGc" | "duration" | "float"; field: NumberField; max?: number }
  | { kind: "bool"; field: BoolField }
  | { kind: "lastGc" };

const bytes = (field: NumberField): Rule => ({ kind: "bytes", field });
/** `max`: exclusive upper bound of the proto field (uint64 unless said otherwise). */
const count = (field: NumberField, max = 2 ** 64): Rule => ({ kind: "count", field, max });

// Every key any released or HEAD agent prints. The mspan/mcache keys were `stack-...` up to v0.3.28 and were
// renamed on HEAD; both spellings map to the same field.
const MEMSTATS_KEYS: ReadonlyMap<string, Rule> = new Map<string, Rule>([
  ["alloc", bytes("alloc")],
  ["total-alloc", bytes("totalAlloc")],
  ["sys", bytes("sys")],
  ["lookups", count("lookups")],
  ["mallocs", count("mallocs")],
  ["frees", count("frees")],
  ["heap-alloc", bytes("heapAlloc")],
  ["heap-sys", bytes("heapSys")],
  ["heap-idle", bytes("heapIdle")],
  ["heap-in-use", bytes("heapInUse")],
  ["heap-released", bytes("heapReleased")],
  ["heap-objects", count("heapObjects")],
  ["stack-in-use", bytes("stackInUse")],
  ["stack-sys", bytes("stackSys")],
  ["mspan-in-use", bytes("mspanInUse")],
  ["stack-mspan-inuse", bytes("mspanInUse")],
  ["mspan-sys", bytes("mspanSys")],
  ["stack-mspan-sys", bytes("mspanSys")],
  ["mcache-in-use", bytes("mcacheInUse")],
  ["stack-mcache-inuse", bytes("mcacheInUse")],
  ["mcache-sys", bytes("mcacheSys")],
  ["stack-mcache-sys", bytes("mcacheSys")],
  ["buck-hash-sys", bytes("buckHashSys")],
  ["other-sys", bytes("otherSys")],
  ["gc-sys", bytes("gcSys")],
  ["next-gc", { kind: "nextGc", field: "nextGc" }],
  ["last-gc", { kind: "lastGc" }],
  ["gc-pause-total", { kind: "duration", field: "gcPauseTotalNs" }],
  ["gc-pause", count("gcPauseNs")],
  ["gc-pause-end", { kind: "unixNsToMs", field: "gcPauseEndUnixMs" }],
  ["num-gc", count("numGc", 2 ** 32)],
  ["num-forced-gc", count("numForcedGc", 2 ** 32)],
  ["gc-cpu-fraction", { kind: "float", field: "gcCpuFraction" }],
  ["enable-gc", { kind: "bool", field: "enableGc" }],
  ["debug-gc", { kind: "bool", field: "debugGc" }],
]);

/**
 * MemStats (0x03): `key: value` lines in any order. Missing keys stay 0/""/false (older agents lack some);
 * keys this parser does not know are returned in unknownKeys (newer agents). A reply with no known key at
 * all, a line without `: `, or a known key with an unparseable value is a ReplyFormatError.
 *
 * Values are JS numbers (the proto's uint64 with forceLong=number): exact below 2^53. gc-pause-end is Unix
 * nanoseconds (~1.8e18), above 2^53, so it is converted exactly (BigInt) to whole milliseconds.
 */
export function parseMemStats(text: string): { stats: MemStats; unknownKeys: string[] } {
  const stats = MemStats.create();
  const unknownKeys: string[] = [];
  let known = 0;
  for (const [key, value] of keyValueLines(text, "memstats")) {
    const rule = MEMSTATS_KEYS.get(key);
    if (rule === undefined) {
      unknownKeys.push(key);
      continue;
    }
    known++;
    const bad = () => new ReplyFormatError(`memstats ${key}: cannot parse ${quote(value)}`);
    switch (rule.kind) {
      case "bytes":
        stats[rule.field] = u64(parseByteSize(value)) ?? badValue(bad);
        break;
      case "nextGc": {
        const prefix = "when heap-alloc >= ";
        const n = value.startsWith(prefix) ? parseByteSize(value.slice(prefix.length)) : undefined;
        stats[rule.field] = u64(n) ?? badValue(bad);
        break;
      }
      case "count":
        stats[rule.field] = (/^\d+$/.test(value) && Number(value) < (rule.max ?? 2 ** 64) ? Number(value) : undefined) ?? badValue(bad);
        break;
      case "unixNsToMs":
        stats[rule.field] = (/^\d+$/.test(value) ? i64(Number(BigInt(value) / 1_000_000n)) : undefined) ?? badValue(bad);
        break;
      case "duration":
        stats[rule.field] = u64(parseGoDuration(value)) ?? badValue(bad);
        break;
      case "float":
        stats[rule.field] = parseGoFloat(value) ?? badValue(bad);
        break;
      case "bool":
        stats[rule.field] = value === "true" ? true : value === "false" ? false : badValue(bad);
        break;
      case "lastGc":
        stats.lastGc = value;
        stats.lastGcUnixMs = value === "-" ? 0 : (parseGoTime(value) ?? badValue(bad));
        break;
    }
  }
  if (known === 0) throw new ReplyFormatError(`memstats reply has no known key: ${quote(text)}`);
  return { stats, unknownKeys };
}

/** `<n> bytes` or `<x.xx><U> (<n> bytes)` with U in KB..PB; returns n. */
export function parseByteSize(s: string): number | undefined {
  const m = /^(?:(\d+) bytes|\d+(?:\.\d+)?[KMGTP]B \((\d+) bytes\))$/.exec(s);
  if (!m) return undefined;
  return Number(m[1] ?? m[2]);
}

/** A float64 printed with Go's %v: `0`, `0.5`, `9.492930250785369e-05`. */
export function parseGoFloat(s: string): number | undefined {
  if (!/^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$/i.test(s)) return undefined;
  return Number(s);
}

/**
 * A Go time.Time String(): `2006-01-02 15:04:05.999999999 -0700 MST`, optionally followed by a monotonic
 * reading `m=+0.1`. Returns Unix milliseconds (the fraction truncated), using the numeric offset.
 */
export function parseGoTime(s: string): number | undefined {
  const m =
    /^(-?\d{4,})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))? ([+-])(\d{2})(\d{2})(?: [^ ]+)?(?: m=[+-]\d+(?:\.\d+)?)?$/.exec(
      s,
    );
  if (!m) return undefined;
  const [, y, mo, d, h, mi, sec, frac = "", sign, oh, om] = m;
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1 || day > 31 || Number(h) > 23 || Number(mi) > 59 || Number(sec) > 59) {
    return undefined;
  }
  const date = new Date(0);
  date.setUTCFullYear(Number(y), month - 1, day);
  date.setUTCHours(Number(h), Number(mi), Number(sec), Number(frac.padEnd(3, "0").slice(0, 3)));
  const offsetMs = (Number(oh) * 60 + Number(om)) * 60_000 * (sign === "-" ? -1 : 1);
  const ms = date.getTime() - offsetMs;
  return Number.isFinite(ms) ? ms : undefined;
}

// ---- helpers ----

function keyValueLines(text: string, what: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const raw of text.split("\n")) {
    const line = raw.replace(/\r$/, "");
    if (line.trim() === "") continue;
    const i = line.indexOf(": ");
    if (i <= 0) throw new ReplyFormatError(`${what} line is not "key: value": ${quote(line)}`);
    map.set(line.slice(0, i).trim(), line.slice(i + 2).trim());
  }
  return map;
}

/** A value a uint64 / int64 field can hold (a hostile agent can print any number of digits), else undefined. */
const u64 = (n: number | undefined): number | undefined => (n !== undefined && n >= 0 && n < 2 ** 64 ? n : undefined);
const i64 = (n: number | undefined): number | undefined => (n !== undefined && n >= -(2 ** 63) && n < 2 ** 63 ? n : undefined);

function badValue(make: () => ReplyFormatError): never {
  throw make();
}

function safeInt(s: string, what: string): number {
  const n = Number(s);
  // int32 on the wire (Stats counts, GC percents).
  if (!Number.isSafeInteger(n) || n < -(2 ** 31) || n >= 2 ** 31) throw new ReplyFormatError(`${what} out of range: ${quote(s)}`);
  return n;
}

function quote(s: string): string {
  return JSON.stringify(s.length > 120 ? `${s.slice(0, 120)}...` : s);
}

export { parseGoDuration };
