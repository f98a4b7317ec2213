import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { GopsError, Status } from "../../common/errors.js";
import {
  decodeSignedVarint,
  encodeRequest,
  encodeSignedVarint,
  parseByteSize,
  parseGCReply,
  parseGoDuration,
  parseGoFloat,
  parseGoTime,
  parseMemStats,
  parseSetGCReply,
  parseStats,
  parseVersion,
  ReplyFormatError,
} from "./codec.js";
import { Signal } from "./signals.js";

const hex = (b: Buffer) => b.toString("hex").replace(/(..)(?=.)/g, "$1 ");

describe("signed varint", () => {
  // The docs/agent-protocol.md §2.3 examples plus values checked against Go's binary.PutVarint (go1.19).
  const table: Array<[number | bigint, string]> = [
    [100, "c8 01"],
    [50, "64"],
    [10, "14"],
    [0, "00"],
    [200, "90 03"],
    [-1, "01"],
    [-64, "7f"],
    [64, "80 01"],
    [2 ** 31, "80 80 80 80 10"],
    [-(2 ** 31), "ff ff ff ff 0f"],
    [2n ** 53n, "80 80 80 80 80 80 80 20"],
    [2n ** 63n - 1n, "fe ff ff ff ff ff ff ff ff 01"],
    [-(2n ** 63n), "ff ff ff ff ff ff ff ff ff 01"],
  ];
  for (const [n, want] of table) {
    it(`encodes ${n} as ${want}`, () => {
      assert.equal(hex(encodeSignedVarint(n)), want);
      const d = decodeSignedVarint(encodeSignedVarint(n));
      assert.equal(d.value, BigInt(n));
      assert.equal(d.bytes, want.split(" ").length);
    });
  }

  it("uses at most 10 bytes and round-trips across the int64 range", () => {
    const samples: bigint[] = [];
    for (let bits = 0n; bits < 63n; bits++) {
      const p = 1n << bits;
      samples.push(p, p - 1n, -p, -p + 1n);
    }
    let x = 0x243f6a8885a308d3n;
    for (let i = 0; i < 200; i++) {
      x = (x * 6364136223846793005n + 1442695040888963407n) & ((1n << 64n) - 1n);
      samples.push(BigInt.asIntN(64, x));
    }
    for (const v of samples) {
      const enc = encodeSignedVarint(v);
      assert.ok(enc.length >= 1 && enc.length <= 10, `${v}: ${enc.length} bytes`);
      assert.ok(enc[enc.length - 1]! < 0x80, `${v}: last byte has the continuation bit`);
      assert.deepEqual(decodeSignedVarint(enc), { value: v, bytes: enc.length });
    }
  });

  it("accepts numbers and bigints alike", () => {
    assert.deepEqual(encodeSignedVarint(-12345), encodeSignedVarint(-12345n));
  });

  it("rejects non-integers, unsafe numbers and values outside int64", () => {
    for (const bad of [1.5, Number.NaN, Infinity, 2 ** 53, 2n ** 63n, -(2n ** 63n) - 1n]) {
      assert.throws(() => encodeSignedVarint(bad), (e: unknown) => e instanceof GopsError && e.code === Status.INVALID_ARGUMENT);
    }
  });

  it("decodes the stock CLI's zero-padded 10-byte form, stopping at the first byte below 0x80", () => {
    const padded = Buffer.alloc(10);
    Buffer.from([0xc8, 0x01]).copy(padded);
    assert.deepEqual(decodeSignedVarint(padded), { value: 100n, bytes: 2 });
  });

  it("rejects truncated and over-long encodings", () => {
    assert.throws(() => decodeSignedVarint(Buffer.alloc(0)), /truncated/);
    assert.throws(() => decodeSignedVarint(Buffer.from([0x80, 0x80])), /truncated/);
    assert.throws(() => decodeSignedVarint(Buffer.from([...Array(9).fill(0xff), 0x02])), /overflows/);
    assert.throws(() => decodeSignedVarint(Buffer.alloc(11, 0x80)), /overflows/);
  });
});

describe("encodeRequest", () => {
  it("is the signal byte followed by the argument", () => {
    assert.equal(hex(encodeRequest(Signal.MemStats)), "03");
    assert.equal(hex(encodeRequest(Signal.SetGCPercent, encodeSignedVarint(-1))), "10 01");
    assert.equal(hex(encodeRequest(Signal.SetGCPercent, encodeSignedVarint(100))), "10 c8 01");
  });
  it("rejects values that are not one byte", () => {
    for (const bad of [-1, 256, 1.5]) assert.throws(() => encodeRequest(bad), /one byte/);
  });
});

const HEAD_SAMPLE = `alloc: 134.91KB (138152 bytes)
total-alloc: 1.13MB (1184432 bytes)
sys: 6.71MB (7035920 bytes)
lookups: 0
mallocs: 4710
frees: 4251
heap-alloc: 134.91KB (138152 bytes)
heap-sys: 3.66MB (3833856 bytes)
heap-idle: 2.93MB (3072000 bytes)
heap-in-use: 744.00KB (761856 bytes)
heap-released: 2.88MB (3014656 bytes)
heap-objects: 459
stack-in-use: 352.00KB (360448 bytes)
stack-sys: 352.00KB (360448 bytes)
mspan-in-use: 43.59KB (44640 bytes)
mspan-sys: 48.00KB (49152 bytes)
mcache-in-use: 14.06KB (14400 bytes)
mcache-sys: 15.23KB (15600 bytes)
buck-hash-sys: 3.86KB (3948 bytes)
other-sys: 779.68KB (798388 bytes)
gc-sys: 1.66MB (1744128 bytes)
next-gc: when heap-alloc >= 4.00MB (4194304 bytes)
last-gc: 2026-11-26 11:02:57.360478838 +0000 UTC
gc-pause-total: 38.458µs
gc-pause: 38458
gc-pause-end: 1795690977360478838
num-gc: 1
num-forced-gc: 1
gc-cpu-fraction: 9.492930250785369e-05
enable-gc: true
debug-gc: false
`;

// v0.3.28 (the latest release): stack-m* key spellings, no buck-hash-sys, no GC yet.
const V0328_SAMPLE = `alloc: 512 bytes
total-alloc: 512 bytes
sys: 1.00GB (1073741824 bytes)
lookups: 0
mallocs: 7
frees: 0
heap-alloc: 512 bytes
heap-sys: 1023 bytes
heap-idle: 0 bytes
heap-in-use: 1.00KB (1024 bytes)
heap-released: 0 bytes
heap-objects: 7
stack-in-use: 32.00KB (32768 bytes)
stack-sys: 32.00KB (32768 bytes)
stack-mspan-inuse: 1.50KB (1536 bytes)
stack-mspan-sys: 16.00KB (16384 bytes)
stack-mcache-inuse: 2.34KB (2400 bytes)
stack-mcache-sys: 15.23KB (15600 bytes)
other-sys: 1.00TB (1099511627776 bytes)
gc-sys: 2.00PB (2251799813685248 bytes)
next-gc: when heap-alloc >= 4.00MB (4194304 bytes)
last-gc: -
gc-pause-total: 0s
gc-pause: 0
gc-pause-end: 0
num-gc: 0
num-forced-gc: 0
gc-cpu-fraction: 0
enable-gc: false
debug-gc: true
`;

describe("parseMemStats", () => {
  it("parses the HEAD key order and spellings", () => {
    const { stats, unknownKeys } = parseMemStats(HEAD_SAMPLE);
    assert.deepEqual(unknownKeys, []);
    assert.equal(stats.alloc, 138152);
    assert.equal(stats.totalAlloc, 1184432);
    assert.equal(stats.sys, 7035920);
    assert.equal(stats.lookups, 0);
    assert.equal(stats.mallocs, 4710);
    assert.equal(stats.frees, 4251);
    assert.equal(stats.heapAlloc, 138152);
    assert.equal(stats.heapSys, 3833856);
    assert.equal(stats.heapIdle, 3072000);
    assert.equal(stats.heapInUse, 761856);
    assert.equal(stats.heapReleased, 3014656);
    assert.equal(stats.heapObjects, 459);
    assert.equal(stats.stackInUse, 360448);
    assert.equal(stats.stackSys, 360448);
    assert.equal(stats.mspanInUse, 44640);
    assert.equal(stats.mspanSys, 49152);
    assert.equal(stats.mcacheInUse, 14400);
    assert.equal(stats.mcacheSys, 15600);
    assert.equal(stats.buckHashSys, 3948);
    assert.equal(stats.otherSys, 798388);
    assert.equal(stats.gcSys, 1744128);
    assert.equal(stats.nextGc, 4194304);
    assert.equal(stats.lastGc, "2026-11-26 11:02:57.360478838 +0000 UTC");
    assert.equal(stats.lastGcUnixMs, Date.UTC(2026, 10, 26, 11, 2, 57, 360));
    assert.equal(stats.gcPauseTotalNs, 38458);
    assert.equal(stats.gcPauseNs, 38458);
    assert.equal(stats.gcPauseEndUnixMs, 1795690977360); // ns above 2^53, converted exactly
    assert.equal(stats.numGc, 1);
    assert.equal(stats.numForcedGc, 1);
    assert.equal(stats.gcCpuFraction, 9.492930250785369e-5);
    assert.equal(stats.enableGc, true);
    assert.equal(stats.debugGc, false);
  });

  it("parses a v0.3.28 reply: old mspan/mcache spellings, no buck-hash-sys, no GC yet", () => {
    const { stats, unknownKeys } = parseMemStats(V0328_SAMPLE);
    assert.deepEqual(unknownKeys, []);
    assert.equal(stats.alloc, 512);
    assert.equal(stats.heapSys, 1023);
    assert.equal(stats.heapInUse, 1024);
    assert.equal(stats.sys, 1073741824);
    assert.equal(stats.mspanInUse, 1536);
    assert.equal(stats.mspanSys, 16384);
    assert.equal(stats.mcacheInUse, 2400);
    assert.equal(stats.mcacheSys, 15600);
    assert.equal(stats.buckHashSys, 0);
    assert.equal(stats.otherSys, 1099511627776);
    assert.equal(stats.gcSys, 2251799813685248);
    assert.equal(stats.lastGc, "-");
    assert.equal(stats.lastGcUnixMs, 0);
    assert.equal(stats.gcPauseTotalNs, 0);
    assert.equal(stats.gcCpuFraction, 0);
    assert.equal(stats.enableGc, false);
    assert.equal(stats.debugGc, true);
  });

  it("leaves missing keys at zero (pre-v0.3.11 agents) and reports extra keys", () => {
    const text = [
      "alloc: 2.00KB (2048 bytes)",
      "num-gc: 3",
      "future-thing: 12 bytes",
      "another-new-key: whatever it is",
      "last-gc: 2024-03-01 12:00:00.5 +0530 IST",
    ].join("\n");
    const { stats, unknownKeys } = parseMemStats(text);
    assert.equal(stats.alloc, 2048);
    assert.equal(stats.numGc, 3);
    assert.equal(stats.gcPauseEndUnixMs, 0);
    assert.equal(stats.numForcedGc, 0);
    assert.equal(stats.gcCpuFraction, 0);
    assert.equal(stats.lastGcUnixMs, Date.UTC(2024, 2, 1, 6, 30, 0, 500));
    assert.deepEqual(unknownKeys, ["future-thing", "another-new-key"]);
  });

  it("tolerates CRLF line ends and blank lines", () => {
    const { stats } = parseMemStats("\r\nalloc: 10 bytes\r\n\r\nnum-gc: 2\r\n");
    assert.equal(stats.alloc, 10);
    assert.equal(stats.numGc, 2);
  });

  it("rejects replies that are not memstats, and known keys with bad values", () => {
    const bad = [
      "",
      "goroutine 1 [running]:\nmain.main()",
      "unknown-a: 1\nunknown-b: 2",
      "alloc: lots",
      "alloc: 1.00KB",
      "alloc: 1.00KB (x bytes)",
      "next-gc: 4194304 bytes",
      "num-gc: -1",
      "gc-pause-total: 12",
      "gc-cpu-fraction: high",
      "enable-gc: yes",
      "last-gc: yesterday",
    ];
    for (const text of bad) assert.throws(() => parseMemStats(text), ReplyFormatError, JSON.stringify(text));
  });
});

describe("memstats value formats", () => {
  it("parses byte sizes", () => {
    assert.equal(parseByteSize("0 bytes"), 0);
    assert.equal(parseByteSize("1023 bytes"), 1023);
    assert.equal(parseByteSize("134.91KB (138152 bytes)"), 138152);
    assert.equal(parseByteSize("4.00MB (4194304 bytes)"), 4194304);
    assert.equal(parseByteSize("4.00 MB (4194304 bytes)"), undefined);
    assert.equal(parseByteSize("4194304"), undefined);
  });

  it("parses Go durations to nanoseconds (values checked with Go's time.ParseDuration)", () => {
    const table: Array<[string, number]> = [
      ["0s", 0],
      ["0", 0],
      ["38.458µs", 38458],
      ["1.5μs", 1500],
      ["2us", 2000],
      ["1.2ms", 1_200_000],
      ["3m2.1s", 182_100_000_000],
      ["1h2m3.5s", 3_723_500_000_000],
      ["500ns", 500],
      [".5s", 500_000_000],
      ["1.s", 1_000_000_000],
      ["2562047h47m16.854775807s", 9223372036854775807],
    ];
    for (const [s, ns] of table) assert.equal(parseGoDuration(s), ns, s);
    for (const s of ["", "5", "s", ".s", "1x", "1.2.3s", "1s ", "-", "1h 2m"]) {
      assert.equal(parseGoDuration(s), undefined, JSON.stringify(s));
    }
  });

  it("parses Go %v floats", () => {
    assert.equal(parseGoFloat("0"), 0);
    assert.equal(parseGoFloat("0.25"), 0.25);
    assert.equal(parseGoFloat("9.492930250785369e-05"), 9.492930250785369e-5);
    assert.equal(parseGoFloat("1e+06"), 1e6);
    for (const s of ["", "abc", "1,5", "0x10"]) assert.equal(parseGoFloat(s), undefined, s);
  });

  it("parses Go time strings using the numeric offset", () => {
    assert.equal(parseGoTime("2026-11-26 11:02:57.360478838 +0000 UTC"), Date.UTC(2026, 10, 26, 11, 2, 57, 360));
    // Checked with Go: time.Unix(0, 1795690977360478838) in a +05:30 zone.
    assert.equal(parseGoTime("2026-11-26 16:32:57.360478838 +0530 IST"), 1795690977360);
    assert.equal(parseGoTime("2024-01-01 00:00:00 -0800 PST"), Date.UTC(2024, 0, 1, 8));
    assert.equal(parseGoTime("2024-06-30 23:59:59.9 +0200 +02"), Date.UTC(2024, 5, 30, 21, 59, 59, 900));
    assert.equal(parseGoTime("2024-01-01 00:00:00 +0000 UTC m=+0.000123"), Date.UTC(2024, 0, 1));
    for (const s of ["-", "2024-01-01", "2024-13-01 00:00:00 +0000 UTC", "2024-01-01T00:00:00Z", "2024-01-01 00:00:00 UTC"]) {
      assert.equal(parseGoTime(s), undefined, s);
    }
  });
});

describe("other replies", () => {
  it("parses stats", () => {
    assert.deepEqual(parseStats("goroutines: 12\nOS threads: 9\nGOMAXPROCS: 2\nnum CPU: 4\n"), {
      goroutines: 12,
      osThreads: 9,
      gomaxprocs: 2,
      numCpu: 4,
    });
  });

  it("rejects stats with a missing or non-numeric line", () => {
    assert.throws(() => parseStats("goroutines: 12\nOS threads: 9\nGOMAXPROCS: 2\n"), /num CPU/);
    assert.throws(() => parseStats("goroutines: many\nOS threads: 9\nGOMAXPROCS: 2\nnum CPU: 4"), /goroutines/);
    assert.throws(() => parseStats(""), ReplyFormatError);
  });

  it("parses the setgc reply, including off (-1)", () => {
    assert.deepEqual(parseSetGCReply("New GC percent set to 50. Previous value was 100.\n"), { current: 50, previous: 100 });
    assert.deepEqual(parseSetGCReply("New GC percent set to -1. Previous value was 100.\n"), { current: -1, previous: 100 });
    assert.throws(() => parseSetGCReply("ok"), ReplyFormatError);
    assert.throws(() => parseSetGCReply("New GC percent set to x. Previous value was 100.\n"), ReplyFormatError);
  });

  it("parses versions", () => {
    assert.equal(parseVersion("go1.22.1\n"), "go1.22.1");
    assert.equal(parseVersion("go1.21.4 X:arenas\n"), "go1.21.4 X:arenas");
    assert.equal(parseVersion("devel +990dac2723 Mon Jan 1 00:00:00 2024 +0000\n"), "devel +990dac2723 Mon Jan 1 00:00:00 2024 +0000");
    assert.equal(parseVersion("go1.21rc2"), "go1.21rc2");
    for (const bad of ["", "\n", "1.22.1", "goroutine 1 [running]:", "go", "develop"]) {
      assert.throws(() => parseVersion(bad), ReplyFormatError, JSON.stringify(bad));
    }
  });

  it("accepts only exactly ok for gc", () => {
    parseGCReply("ok");
    for (const bad of ["", "ok\n", "OK", "okay"]) assert.throws(() => parseGCReply(bad), ReplyFormatError);
  });
});
