import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ReplyFormatError } from "../agent/codec.js";
import { nestsDeeperThan, parseExpvarMemStats, parseHeapMemStats, parseProfileTotal } from "./parse.js";

const zeros = (n: number, v = "0") => Array.from({ length: n }, () => v).join(" ");
/** The tail of a real Go 1.19 heap?debug=1 (values from a run of the httpprog fixture, one GC done). */
const HEAP_TAIL = `heap profile: 3: 3072 [1000: 1024000] @ heap/1048576
1: 1024 [1: 1024] @ 0x4 0x5

# runtime.MemStats
# Alloc = 326696
# TotalAlloc = 426696
# Sys = 14398728
# Lookups = 0
# Mallocs = 1550
# Frees = 60
# HeapAlloc = 326696
# HeapSys = 3768320
# HeapIdle = 2785280
# HeapInuse = 983040
# HeapReleased = 2785280
# HeapObjects = 1490
# Stack = 425984 / 425985
# MSpan = 21024 / 32544
# MCache = 2400 / 15600
# BuckHashSys = 1444413
# GCSys = 8067928
# OtherSys = 643939
# NextGC = 4194304
# LastGC = 1764662400123456789
# PauseNs = [41000 ${zeros(255)}]
# PauseEnd = [1764662400123456789 ${zeros(255)}]
# NumGC = 1
# NumForcedGC = 0
# GCCPUFraction = 1.5e-05
# DebugGC = false
# MaxRSS = 6066176
`;

describe("parseHeapMemStats", () => {
  it("maps the # Name = value block onto the agent's MemStats fields and names what it lacks", () => {
    const m = parseHeapMemStats(HEAP_TAIL);
    assert.equal(m.stats.alloc, 326696);
    assert.equal(m.stats.totalAlloc, 426696);
    assert.equal(m.stats.heapInUse, 983040);
    assert.equal(m.stats.stackInUse, 425984);
    assert.equal(m.stats.stackSys, 425985);
    assert.equal(m.stats.mspanSys, 32544);
    assert.equal(m.stats.mcacheInUse, 2400);
    assert.equal(m.stats.nextGc, 4194304);
    assert.equal(m.stats.numGc, 1);
    assert.equal(m.stats.gcPauseNs, 41000, "the latest pause: PauseNs[(NumGC+255)%256]");
    assert.equal(m.pauseNs?.length, 256, "the ring, for go_gc_duration_seconds' quantiles");
    assert.equal(m.pauseNs?.[0], 41000);
    assert.equal(m.stats.gcPauseEndUnixMs, 1764662400123);
    assert.equal(m.stats.lastGcUnixMs, 1764662400123);
    assert.equal(m.stats.lastGc, "2025-12-02 08:00:00.123 +0000 UTC");
    assert.equal(m.stats.gcCpuFraction, 1.5e-5);
    assert.equal(m.stats.debugGc, false);
    assert.deepEqual(m.unknownFields, ["gc_pause_total_ns", "enable_gc"]);
    assert.deepEqual(m.unknownKeys, []);
    assert.ok(m.raw.startsWith("# runtime.MemStats\n# Alloc = 326696\n"));
  });

  it("refuses a text without the block, a malformed line or value, and a PauseNs that is not 256 numbers", () => {
    assert.throws(() => parseHeapMemStats("heap profile: 0: 0 [0: 0] @ heap/1\n"), ReplyFormatError);
    assert.throws(() => parseHeapMemStats(HEAP_TAIL.replace("# Alloc = 326696", "# Alloc = -1")), ReplyFormatError);
    assert.throws(() => parseHeapMemStats(HEAP_TAIL.replace("# Alloc = 326696", "Alloc 326696")), ReplyFormatError);
    assert.throws(() => parseHeapMemStats(HEAP_TAIL.replace("# Stack = 425984 / 425985", "# Stack = 425984")), ReplyFormatError);
    assert.throws(() => parseHeapMemStats(HEAP_TAIL.replace("[41000 ", "[")), ReplyFormatError);
    assert.throws(() => parseHeapMemStats(HEAP_TAIL.replace("# Sys = 14398728", `# Sys = ${"9".repeat(21)}`)), ReplyFormatError);
    assert.throws(() => parseHeapMemStats(HEAP_TAIL.replace("# DebugGC = false", "# DebugGC = maybe")), ReplyFormatError);
  });
});

describe("parseExpvarMemStats", () => {
  const memstats = {
    Alloc: 1000, TotalAlloc: 2000, Sys: 3000, Lookups: 0, Mallocs: 10, Frees: 5, HeapAlloc: 1000, HeapSys: 2000,
    HeapIdle: 500, HeapInuse: 1500, HeapReleased: 100, HeapObjects: 5, StackInuse: 64, StackSys: 64, MSpanInuse: 1,
    MSpanSys: 2, MCacheInuse: 3, MCacheSys: 4, BuckHashSys: 5, GCSys: 6, OtherSys: 7, NextGC: 4194304, LastGC: 0,
    PauseTotalNs: 0, PauseNs: Array(256).fill(0), PauseEnd: Array(256).fill(0), NumGC: 0, NumForcedGC: 0,
    GCCPUFraction: 0, EnableGC: true, DebugGC: false, BySize: [{ Size: 8, Mallocs: 1, Frees: 0 }],
  };

  it("maps runtime.MemStats names; every field known; an unknown key is reported", () => {
    const m = parseExpvarMemStats(JSON.stringify({ cmdline: ["x"], memstats: { ...memstats, NewField: 1 } }))!;
    assert.equal(m.stats.heapInUse, 1500);
    assert.equal(m.stats.enableGc, true);
    assert.equal(m.stats.lastGc, "-");
    assert.deepEqual(m.unknownFields, []);
    assert.deepEqual(m.unknownKeys, ["NewField"]);
  });

  it("undefined when expvar has no memstats; errors for non-JSON and wrong types", () => {
    assert.equal(parseExpvarMemStats(JSON.stringify({ cmdline: ["x"] })), undefined);
    assert.throws(() => parseExpvarMemStats("<html>"), ReplyFormatError);
    assert.throws(() => parseExpvarMemStats("[1]"), ReplyFormatError);
    assert.throws(() => parseExpvarMemStats(JSON.stringify({ memstats: { ...memstats, Alloc: "1" } })), ReplyFormatError);
    assert.throws(() => parseExpvarMemStats(JSON.stringify({ memstats: { ...memstats, Sys: -3 } })), ReplyFormatError);
    assert.throws(() => parseExpvarMemStats(JSON.stringify({ memstats: { ...memstats, EnableGC: 1 } })), ReplyFormatError);
    assert.throws(() => parseExpvarMemStats(JSON.stringify({ memstats: { ...memstats, PauseNs: [1, 2] } })), ReplyFormatError);
    assert.throws(() => parseExpvarMemStats(JSON.stringify({ memstats: { Foo: 1 } })), ReplyFormatError, "no MemStats field at all");
  });

  it("deep nesting is a one-line format error, not a stack overflow (issue 17 item 5)", () => {
    const deep = (n: number) => "[".repeat(n) + "]".repeat(n);
    // 1 MiB of brackets, at the top and hidden in an unknown memstats key (JSON.stringify of it overflowed).
    for (const text of [deep(512 * 1024), `{"memstats":{"Alloc":1,"X":${deep(500_000)}}}`, `{"memstats":${deep(65)}}`]) {
      assert.throws(
        () => parseExpvarMemStats(text),
        (e: unknown) => e instanceof ReplyFormatError && e.message === "/debug/vars nests JSON deeper than 64 levels",
      );
    }
    // Brackets inside strings (escaped quotes included) do not count; 64 levels are fine.
    const inString = JSON.stringify({ cmdline: ["[".repeat(1000) + '\\"{'.repeat(100)], memstats });
    assert.equal(parseExpvarMemStats(inString)!.stats.heapInUse, 1500);
    assert.equal(parseExpvarMemStats(JSON.stringify({ memstats: { ...memstats, X: JSON.parse(deep(62)) } }))!.stats.heapInUse, 1500);
  });
});

describe("nestsDeeperThan", () => {
  it("counts arrays and objects outside strings", () => {
    assert.equal(nestsDeeperThan('{"a":[{"b":1}]}', 3), false);
    assert.equal(nestsDeeperThan('{"a":[{"b":1}]}', 2), true);
    assert.equal(nestsDeeperThan('"[[[[\\"[["', 1), false);
    assert.equal(nestsDeeperThan('["\\\\",[[]]]', 2), true, "an escaped backslash ends the escape");
  });
});

describe("parseProfileTotal", () => {
  it("reads N of '<name> profile: total N' and nothing else", () => {
    assert.equal(parseProfileTotal("goroutine profile: total 6", "goroutine"), 6);
    assert.equal(parseProfileTotal("threadcreate profile: total 12\r", "threadcreate"), 12);
    assert.throws(() => parseProfileTotal("threadcreate profile: total 12", "goroutine"), ReplyFormatError);
    assert.throws(() => parseProfileTotal("goroutine profile: total -1", "goroutine"), ReplyFormatError);
    assert.throws(() => parseProfileTotal("<html>", "goroutine"), ReplyFormatError);
  });
});
