// The ELF reader's work is bounded by fixed limits, not by what a hostile file's headers claim.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { BOMB_SECTIONS, sectionBomb } from "../../integration/hostile-files.js";
import { BuildInfoError } from "./build-info-error.js";
import { readElfLayout } from "./elf-layout.js";
import { FileView, READ_BUDGET_BYTES } from "./file-view.js";
import { readGoBuildInfo } from "./go-build-info.js";

/** A ReadAt over a buffer that counts the bytes handed out. */
function counted(buf: Buffer): { readAt: (p: number, n: number) => Buffer; total: () => number } {
  let total = 0;
  return {
    readAt: (p, n) => {
      const out = buf.subarray(p, p + n);
      total += out.length;
      return out;
    },
    total: () => total,
  };
}

describe("ELF bounds", () => {
  const bomb = sectionBomb(readFileSync("/bin/true"));

  it("a section-header bomb (65,535 headers over one 4 MiB name table without NUL) is damage, read within budget", () => {
    const r = counted(bomb);
    const layout = readElfLayout(new FileView(r.readAt, bomb.length));
    assert.deepEqual(layout.sections, []);
    assert.match(layout.damage.join("; "), new RegExp(`${BOMB_SECTIONS} entries is more than`));
    assert.ok(r.total() < 64 * 1024, `read ${r.total()} bytes`);
    const before = process.memoryUsage().rss;
    assert.throws(() => readGoBuildInfo(counted(bomb).readAt, bomb.length), BuildInfoError);
    assert.ok(process.memoryUsage().rss - before < 64 << 20, "no large allocation");
  });

  it("section names are cut at 64 bytes and the name table is read once, at most 64 KiB", () => {
    // Rewrite the bomb to 4,000 sections (under the cap): each still names the NUL-less 4 MiB table.
    const b = Buffer.from(bomb);
    const shoff = Number(b.readBigUInt64LE(40));
    b.writeBigUInt64LE(4000n, shoff + 32);
    const r = counted(b);
    const layout = readElfLayout(new FileView(r.readAt, b.length));
    assert.equal(layout.sections.length, 4000);
    assert.equal(layout.sections[1]!.name, "A".repeat(64));
    assert.ok(r.total() <= 4096 + 64 + 4000 * 64 + 64 * 1024, `read ${r.total()} bytes`);
  });

  it("a FileView refuses to read past its budget", () => {
    const big = Buffer.alloc(READ_BUDGET_BYTES + 8192);
    const view = new FileView(counted(big).readAt, big.length);
    assert.ok(view.read(8192, READ_BUDGET_BYTES / 2));
    assert.throws(() => view.read(8192, READ_BUDGET_BYTES / 2 + 1), (e: unknown) => e instanceof BuildInfoError && e.kind === "corrupt");
  });
});
