import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { hasExited, isKernelThread, parseStat } from "./parse-stat.js";

// Real lines from a Linux 6.18 machine.
const WEIRD =
  "16121 (we ird) (x) S 16120 16115 3339 0 -1 4194304 133 0 0 0 7 3 0 0 20 0 1 0 71738 2990080 410 18446744073709551615 94682593259520 94682593277449 140724366191936 0 0 0 0 6 0 1 0 0 17 0 0 0 0 0 0 94682593291536 94682593292800 94683588538368 140724366195422 140724366195438 140724366195438 140724366196715 0\n";
const KTHREADD =
  "2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 25 0 0 18446744073709551615 0 0 0 0 0 0 0 2147483647 0 1 0 0 0 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n";

describe("parseStat", () => {
  it("reads comm with spaces and parentheses up to the LAST ')'", () => {
    const s = parseStat(WEIRD);
    assert.equal(s.pid, 16121);
    assert.equal(s.comm, "we ird) (x");
    assert.equal(s.state, "S");
    assert.equal(s.ppid, 16120);
    assert.equal(s.flags, 4194304);
    assert.equal(s.utime, 7);
    assert.equal(s.stime, 3);
    assert.equal(s.numThreads, 1);
    assert.equal(s.starttime, 71738);
    assert.equal(s.rssPages, 410);
    assert.equal(s.vsizeBytes, 2990080);
    assert.equal(isKernelThread(s), false);
    assert.equal(hasExited(s), false);
  });

  it("comm that ends in ') ' is not mistaken for the end of comm", () => {
    const s = parseStat(WEIRD.replace("(we ird) (x)", "(a) S 1 2 )"));
    assert.equal(s.comm, "a) S 1 2 ");
    assert.equal(s.ppid, 16120);
  });

  it("recognises kernel threads by PF_KTHREAD", () => {
    const s = parseStat(KTHREADD);
    assert.equal(s.comm, "kthreadd");
    assert.equal(s.ppid, 0);
    assert.equal(isKernelThread(s), true);
  });

  it("recognises zombies", () => {
    assert.equal(hasExited(parseStat(WEIRD.replace(") S ", ") Z "))), true);
  });

  it("rejects truncated or malformed text", () => {
    assert.throws(() => parseStat("123 (x) S 1 2 3"), /only/);
    assert.throws(() => parseStat("no parens here"), /malformed/);
    assert.throws(() => parseStat(WEIRD.replace(" 16120 ", " x ")), /field 4/);
  });
});
