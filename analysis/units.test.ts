import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { autoUnit, percentage, reportUnit, scaledLabel, unitFamily } from "./units.js";

describe("units", () => {
  it("scales bytes by 1024 and time by 1000 like pprof", () => {
    assert.equal(autoUnit(1023, "bytes"), "B");
    assert.equal(autoUnit(1024, "bytes"), "kB");
    assert.equal(autoUnit(3 * 1024 ** 3, "bytes"), "GB");
    assert.equal(autoUnit(999_999, "nanoseconds"), "us");
    assert.equal(autoUnit(2_010_000_000, "nanoseconds"), "s");
    assert.equal(autoUnit(2 * 3600e9, "nanoseconds"), "hrs");
    assert.equal(autoUnit(5, "count"), undefined);
    assert.equal(unitFamily("Bytes"), "bytes");
    assert.equal(unitFamily("nanoseconds"), "time");
    assert.equal(unitFamily("count"), undefined);
  });

  it("prints two decimals without a trailing .00, and a bare 0", () => {
    assert.equal(scaledLabel(30828031, "bytes", "kB"), "30105.50kB");
    assert.equal(scaledLabel(20_000_000, "nanoseconds", "s"), "0.02s");
    assert.equal(scaledLabel(2 * 1024 * 1024, "bytes", "MB"), "2MB");
    assert.equal(scaledLabel(5461, "count", "count"), "5461");
    assert.equal(scaledLabel(0, "bytes", "MB"), "0");
    assert.equal(scaledLabel(1, "bytes", "GB"), "0", "values that round to zero print as 0");
    assert.equal(scaledLabel(-1536, "bytes", "kB"), "-1.50kB");
  });

  it("rounds exact ties to even like Go's %.2f", () => {
    assert.equal(scaledLabel(1152, "bytes", "kB"), "1.12kB"); // 1.125
    assert.equal(scaledLabel(1408, "bytes", "kB"), "1.38kB"); // 1.375
    assert.equal(scaledLabel(640, "bytes", "kB"), "0.62kB"); // 0.625
    assert.equal(scaledLabel(1300, "bytes", "kB"), "1.27kB"); // 1.2695..., not a tie
  });

  it("formats percentages like pprof's columns", () => {
    assert.equal(percentage(100, 100), "  100%");
    assert.equal(percentage(9801, 10000), "98.01%");
    assert.equal(percentage(2, 201), "    1%"); // 0.995% -> %.2g -> 1
    assert.equal(percentage(66, 8049), " 0.82%");
    assert.equal(percentage(0, 5), "    0%");
    assert.equal(percentage(12, 1_000_000), "0.0012%");
    assert.equal(percentage(1234, 10_000_000_000), "1.2e-05%");
    assert.equal(percentage(5, 0), "    0%");
    // Exact ties round to even, as Go's %.2g does: 1/160 = 0.625%, 1/1600 = 0.0625%, 7/8000 = 0.0875%.
    assert.equal(percentage(10_000_000, 1_600_000_000), " 0.62%");
    assert.equal(percentage(1, 1600), "0.062%");
    assert.equal(percentage(7, 8000), "0.088%");
    assert.equal(percentage(3, 400), " 0.75%");
  });

  it("chooses one report unit: the smallest node's, moved up when it is 100 times below the total", () => {
    assert.equal(reportUnit(20_000_000, 2_010_000_000, "nanoseconds"), "s");
    assert.equal(reportUnit(524336, 33613979, "bytes"), "kB");
    assert.equal(reportUnit(1048576, 67227958, "bytes"), "MB");
    assert.equal(reportUnit(0, 5000, "bytes"), "kB");
    assert.equal(reportUnit(3, 8049, "count"), "count");
  });
});
