import assert from "node:assert/strict";
import { test } from "node:test";
import { formatGoDuration, parseDuration } from "./duration.js";
import { UsageError } from "./errors.js";

test("formats like Go's time.Duration.String", () => {
  const cases: [number, string][] = [
    [0, "0s"],
    [0.5, "500µs"],
    [250, "250ms"],
    [1000, "1s"],
    [1500, "1.5s"],
    [60_000, "1m0s"],
    [90_000, "1m30s"],
    [3_600_000, "1h0m0s"],
    [3_723_500, "1h2m3.5s"],
    [-2000, "-2s"],
  ];
  for (const [ms, text] of cases) assert.equal(formatGoDuration(ms), text, String(ms));
});

test("parseDuration names what was wrong in its usage error", () => {
  assert.equal(parseDuration("1m30s", "timeout"), 90_000);
  assert.throws(
    () => parseDuration("10x", "timeout"),
    (e: unknown) => e instanceof UsageError && e.message.startsWith('invalid timeout "10x" (want a duration like 10s'),
  );
});
