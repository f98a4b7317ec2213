// Seeded, bounded fuzz of the ELF / Go build info reader: mutations of a real Go binary (a Go toolchain
// tool), a C binary and the section-header bomb, aimed at the header tables, the name table and the build
// info blob. Holds for every input: only BuildInfoError is thrown, the reader asks for at most
// READ_BUDGET_BYTES of the file (the allocation budget: nothing is allocated that was not read, plus the
// bounded results), and a result is small. A hang fails the test by its timeout.
// Longer run: FUZZ_ITERATIONS=200000 [FUZZ_SEED=n] node --import tsx --test server/elf/build-info.fuzz.test.ts
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { FUZZ_SEED, INTERESTING, Rng, fuzzIterations, writeInt } from "../../integration/fuzz-kit.js";
import { sectionBomb } from "../../integration/hostile-files.js";
import { BuildInfoError } from "./build-info-error.js";
import { READ_BUDGET_BYTES } from "./file-view.js";
import { readGoBuildInfo } from "./go-build-info.js";

const ITERATIONS = fuzzIterations(5000);
/** A successful result: Go version (4 KiB) + module info (1 MiB) as objects; far less in practice. */
const MAX_RESULT_JSON = 4 << 20;

interface Seed {
  name: string;
  bytes: Buffer;
  /** [offset, length] ranges worth mutating. */
  regions: [number, number][];
}

function regionsOf(b: Buffer): [number, number][] {
  const regions: [number, number][] = [[0, 64]];
  if (b.length >= 64 && b[4] === 2 && b[5] === 1) {
    const phoff = Number(b.readBigUInt64LE(32));
    const shoff = Number(b.readBigUInt64LE(40));
    const phnum = b.readUInt16LE(56);
    let shnum = b.readUInt16LE(60);
    if (shnum === 0 && shoff > 0 && shoff + 64 <= b.length) shnum = Math.min(Number(b.readBigUInt64LE(shoff + 32)), 64);
    regions.push([phoff, phnum * 56], [shoff, Math.min(shnum, 64) * 64]);
    const strndx = b.readUInt16LE(62);
    if (strndx < shnum && shoff + strndx * 64 + 64 <= b.length) regions.push([Number(b.readBigUInt64LE(shoff + strndx * 64 + 24)), 256]);
  }
  const magic = b.indexOf(Buffer.from("\xff Go buildinf:", "latin1"));
  if (magic >= 0) regions.push([magic, 512]);
  return regions.filter(([o, n]) => o >= 0 && n > 0 && o < b.length);
}

function seeds(): Seed[] {
  const goTool = path.join(execFileSync("/usr/bin/go", ["env", "GOTOOLDIR"], { encoding: "utf8" }).trim(), "addr2line");
  const files: [string, Buffer][] = [
    ["go tool addr2line", readFileSync(goTool)],
    ["/bin/true", readFileSync("/bin/true")],
  ];
  files.push(["section bomb", sectionBomb(files[1]![1])]);
  return files.map(([name, bytes]) => ({ name, bytes, regions: regionsOf(bytes) }));
}

/** A ReadAt over `base` with single-byte patches, cut at `size`; counts the bytes it hands out. */
function overlay(base: Buffer, patches: Map<number, number>, size: number) {
  let total = 0;
  return {
    readAt(position: number, length: number): Buffer {
      const end = Math.min(size, position + length);
      const out = Buffer.from(base.subarray(position, Math.max(position, end)));
      for (const [at, v] of patches) if (at >= position && at < end) out[at - position] = v;
      total += out.length;
      return out;
    },
    total: () => total,
  };
}

describe(`fuzz: Go build info reader (seed ${FUZZ_SEED}, ${ITERATIONS} iterations per seed)`, () => {
  for (const seed of seeds()) {
    it(`mutations of ${seed.name}`, { timeout: 120_000 }, () => {
      const rng = new Rng(FUZZ_SEED ^ seed.bytes.length);
      const outcomes = new Map<string, number>();
      for (let i = 0; i < ITERATIONS; i++) {
        const patches = new Map<number, number>();
        const scratch = Buffer.alloc(8);
        for (let k = 1 + rng.int(8); k > 0; k--) {
          const [off, len] = rng.pick(seed.regions);
          const at = off + rng.int(len);
          if (rng.int(2) === 0) patches.set(at, rng.int(256));
          else {
            const width = rng.pick([2, 4, 8] as const);
            writeInt(scratch, 0, width, rng.pick(INTERESTING) + rng.int(3) - 1, true);
            for (let j = 0; j < width; j++) patches.set(at + j, scratch[j]!);
          }
        }
        const size = rng.int(10) === 0 ? rng.int(seed.bytes.length) : seed.bytes.length;
        const file = overlay(seed.bytes, patches, size);
        const where = `seed ${FUZZ_SEED} file ${seed.name} iteration ${i}`;
        try {
          const info = readGoBuildInfo(file.readAt, size);
          assert.ok(JSON.stringify(info).length <= MAX_RESULT_JSON, `${where}: result too large`);
          outcomes.set("ok", (outcomes.get("ok") ?? 0) + 1);
        } catch (e) {
          if (!(e instanceof BuildInfoError)) assert.fail(`${where}: threw ${String(e)}\n${(e as Error).stack}`);
          outcomes.set(e.kind, (outcomes.get(e.kind) ?? 0) + 1);
        }
        assert.ok(file.total() <= READ_BUDGET_BYTES, `${where}: read ${file.total()} bytes`);
      }
      // The mutations reach past the first check: not everything is rejected as "not ELF".
      assert.ok(outcomes.size >= 2, `outcomes ${JSON.stringify([...outcomes])}`);
    });
  }
});
