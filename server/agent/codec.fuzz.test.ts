// Seeded, bounded fuzz of the agent reply parsers (memstats, stats, version, setgc, gc) and the port file
// content parser: mutations of real replies plus random bytes. Holds for every input: only ReplyFormatError
// is thrown, the result (and any error message) stays within a budget proportional to the input, typed
// memstats encode as protobuf, a port is an integer in 1..65535. A hang fails the test by its timeout.
// Longer run: FUZZ_ITERATIONS=200000 [FUZZ_SEED=n] node --import tsx --test server/agent/codec.fuzz.test.ts
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FUZZ_SEED, Rng, fuzzIterations, mutateText } from "../../integration/fuzz-kit.js";
import { MemStats } from "../../proto/index.js";
import { ReplyFormatError, parseGCReply, parseMemStats, parseSetGCReply, parseStats, parseVersion } from "./codec.js";
import { parsePortFile } from "./port-file.js";

const ITERATIONS = fuzzIterations(4000);
/** Error messages quote at most 120 characters of the input: a 1 MiB reply must not make a 1 MiB message. */
const MAX_MESSAGE = 1024;

const MEMSTATS = `alloc: 134.91KB (138152 bytes)
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
stack-mspan-inuse: 1.50KB (1536 bytes)
mspan-in-use: 43.59KB (44640 bytes)
mcache-sys: 15.23KB (15600 bytes)
buck-hash-sys: 3.86KB (3948 bytes)
other-sys: 1.00TB (1099511627776 bytes)
gc-sys: 2.00PB (2251799813685248 bytes)
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
const STATS = "goroutines: 12\nOS threads: 9\nGOMAXPROCS: 2\nnum CPU: 4\n";
const ALPHABET = [":", ": ", " ", "\r", "\n", "(", ")", "bytes", "KB", "PB", "e", "-", "+", ".", "9", "0", "µs", "h", "ms", "x", "\0", "\u00ff", "\u2028"];

function check(what: string, where: string, input: string, f: () => unknown): void {
  let out: unknown;
  try {
    out = f();
  } catch (e) {
    if (!(e instanceof ReplyFormatError)) assert.fail(`${where}: ${what} threw ${String(e)} for ${JSON.stringify(input.slice(0, 200))}`);
    assert.ok(e.message.length <= MAX_MESSAGE, `${where}: ${what} error message of ${e.message.length} characters`);
    return;
  }
  assert.ok(JSON.stringify(out ?? null).length <= 6 * input.length + 4096, `${where}: ${what} result larger than its input allows (JSON may escape each character to 6)`);
}

describe(`fuzz: agent reply parsers and the port file parser (seed ${FUZZ_SEED}, ${ITERATIONS} iterations each)`, () => {
  it("memstats and stats replies", { timeout: 120_000 }, () => {
    const rng = new Rng(FUZZ_SEED);
    for (let i = 0; i < ITERATIONS; i++) {
      const where = `seed ${FUZZ_SEED} iteration ${i}`;
      const mem = mutateText(rng, MEMSTATS, ALPHABET);
      check("parseMemStats", where, mem, () => {
        const { stats } = parseMemStats(mem);
        // What the parser returns must be sendable: gopsd encodes it as protobuf next.
        MemStats.encode(stats).finish();
        return stats;
      });
      const st = mutateText(rng, STATS, ALPHABET);
      check("parseStats", where, st, () => {
        const r = parseStats(st);
        // int32 fields on the wire.
        for (const v of Object.values(r)) assert.ok(Number.isInteger(v) && v >= 0 && v < 2 ** 31, `${where}: stats value ${v}`);
        return r;
      });
    }
  });

  it("version, setgc and gc replies", { timeout: 120_000 }, () => {
    const rng = new Rng(FUZZ_SEED + 1);
    for (let i = 0; i < ITERATIONS; i++) {
      const where = `seed ${FUZZ_SEED} iteration ${i}`;
      const v = mutateText(rng, "go1.19.8\n", ALPHABET);
      check("parseVersion", where, v, () => parseVersion(v));
      const s = mutateText(rng, "New GC percent set to 50. Previous value was 100.\n", ALPHABET);
      check("parseSetGCReply", where, s, () => parseSetGCReply(s));
      const g = mutateText(rng, "ok", ALPHABET);
      check("parseGCReply", where, g, () => parseGCReply(g));
    }
  });

  it("port file content", { timeout: 120_000 }, () => {
    const rng = new Rng(FUZZ_SEED + 2);
    for (let i = 0; i < ITERATIONS; i++) {
      const text = rng.int(3) === 0 ? String.fromCharCode(...Array.from({ length: rng.int(80) }, () => rng.int(256))) : mutateText(rng, "4242\n", ALPHABET);
      const raw = Buffer.from(text, "latin1");
      const port = parsePortFile(raw);
      if (port !== undefined) {
        assert.ok(Number.isInteger(port) && port >= 1 && port <= 65535, `seed ${FUZZ_SEED} iteration ${i}: port ${port}`);
        assert.equal(Number(raw.toString("latin1").trim()), port);
        assert.ok(raw.length <= 64);
      }
    }
  });
});
