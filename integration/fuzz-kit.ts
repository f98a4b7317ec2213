// Test-only (never in dist/): a seeded generator and mutators for the bounded fuzz tests.
// FUZZ_SEED picks the seed (default fixed, so `npm test` is deterministic); FUZZ_ITERATIONS scales every
// fuzz test by iterations per target (default: the small count each test names). A failure message names
// the seed and iteration, which replay it exactly.

export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 0x5eed_2026) >>> 0;

/** Iterations for one target: FUZZ_ITERATIONS when set, else `dflt`. */
export function fuzzIterations(dflt: number): number {
  const n = Number(process.env.FUZZ_ITERATIONS);
  return Number.isInteger(n) && n > 0 ? n : dflt;
}

/** mulberry32: small, fast, good enough to drive mutations. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
}

/** Values that break parsers: zero, ones, sign and size boundaries. */
export const INTERESTING = [0, 1, 0x7f, 0x80, 0xff, 0xffff, 0xff00, 0x7fffffff, 0x80000000, 0xffffffff, 2 ** 53, 2 ** 53 - 1, 2 ** 63, 2 ** 64 - 1];

/** Writes `v` as a little- or big-endian integer of `width` bytes at `at` (clipped to the buffer). */
export function writeInt(b: Buffer, at: number, width: 1 | 2 | 4 | 8, v: number, le: boolean): void {
  let x = BigInt.asUintN(64, BigInt(Math.floor(v)));
  for (let i = 0; i < width && at + i < b.length; i++) {
    b[le ? at + i : at + width - 1 - i] = Number(x & 0xffn);
    x >>= 8n;
  }
}

/** Replaces, inserts, deletes or repeats a slice of text. */
export function mutateText(rng: Rng, text: string, alphabet: readonly string[]): string {
  let t = text;
  for (let k = 1 + rng.int(4); k > 0; k--) {
    const at = rng.int(t.length + 1);
    switch (rng.int(6)) {
      case 0:
        t = t.slice(0, at) + rng.pick(alphabet) + t.slice(at);
        break;
      case 1:
        t = t.slice(0, at) + t.slice(at + 1 + rng.int(20));
        break;
      case 2:
        t = t.slice(0, at) + String(rng.pick(INTERESTING)) + t.slice(at);
        break;
      case 3: {
        const piece = t.slice(at, at + 1 + rng.int(40));
        t = t.slice(0, at) + piece.repeat(1 + rng.int(200)) + t.slice(at);
        break;
      }
      case 4:
        t = t.slice(0, at) + String.fromCharCode(rng.int(256)) + t.slice(at + 1);
        break;
      default:
        t = t.slice(0, at) + "\n" + t.slice(at);
    }
  }
  return t;
}
