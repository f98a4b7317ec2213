import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { endianness } from "node:os";
import { test } from "node:test";
import { parseAuxv } from "./proc-fs.js";

function vector(word: 4 | 8, littleEndian: boolean, pairs: [number, number][]): Buffer {
  const b = Buffer.alloc((pairs.length + 1) * 2 * word);
  pairs.forEach(([t, v], i) => {
    for (const [off, x] of [[i * 2 * word, t], [i * 2 * word + word, v]] as const) {
      if (word === 8) littleEndian ? b.writeBigUInt64LE(BigInt(x), off) : b.writeBigUInt64BE(BigInt(x), off);
      else littleEndian ? b.writeUInt32LE(x, off) : b.writeUInt32BE(x, off);
    }
  });
  return b; // ends with AT_NULL (zeros)
}

test("parseAuxv reads AT_CLKTCK (17) and AT_PAGESZ (6) in either width and byte order, and stops at AT_NULL", () => {
  const pairs: [number, number][] = [[33, 0x7fff0000], [6, 16384], [17, 250], [3, 0x400040]];
  for (const word of [4, 8] as const) {
    for (const littleEndian of [true, false]) {
      assert.deepEqual(parseAuxv(vector(word, littleEndian, pairs), { word, littleEndian }), { clockTicks: 250, pageSize: 16384 });
    }
  }
  // After AT_NULL nothing counts; implausible values are ignored.
  const cut = Buffer.concat([vector(8, true, [[6, 4096]]), vector(8, true, [[17, 100]])]);
  assert.deepEqual(parseAuxv(cut, { word: 8, littleEndian: true }), { pageSize: 4096 });
  assert.deepEqual(parseAuxv(vector(8, true, [[17, 0], [6, 2 ** 30]]), { word: 8, littleEndian: true }), {});
  assert.deepEqual(parseAuxv(Buffer.alloc(5), { word: 8, littleEndian: true }), {});
});

test("this machine's auxiliary vector says what getconf says", () => {
  const got = parseAuxv(readFileSync("/proc/self/auxv"), { word: 8, littleEndian: endianness() === "LE" });
  const getconf = (name: string) => Number(execFileSync("getconf", [name], { encoding: "utf8" }).trim());
  assert.deepEqual(got, { clockTicks: getconf("CLK_TCK"), pageSize: getconf("PAGESIZE") });
});
