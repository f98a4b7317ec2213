import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseBootTimeSeconds, parseMemTotalBytes, parseUptimeSeconds } from "./parse-host.js";

describe("host files", () => {
  it("MemTotal in bytes", () => {
    assert.equal(parseMemTotalBytes("MemTotal:       25276196 kB\nMemFree:        23000000 kB\n"), 25276196 * 1024);
    assert.throws(() => parseMemTotalBytes("MemFree: 1 kB\n"));
  });
  it("btime from /proc/stat", () => {
    const stat = "cpu  2255 34 2290 22625563 6290 127 456 0 0 0\ncpu0 1132 34 1441 11311718 3675 127 438 0 0 0\nintr 114930548\nctxt 1990473\nbtime 1795692437\nprocesses 2915\n";
    assert.equal(parseBootTimeSeconds(stat), 1795692437);
    assert.throws(() => parseBootTimeSeconds("cpu 1 2 3\n"));
  });
  it("uptime seconds", () => {
    assert.equal(parseUptimeSeconds("350735.47 234388.90\n"), 350735.47);
    assert.throws(() => parseUptimeSeconds("nope"));
  });
});
