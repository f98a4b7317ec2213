import { test } from "node:test";
import assert from "node:assert/strict";
import { formatDurationMs, parseDurationMs } from "./duration.js";

test("parses Go durations and bare seconds", () => {
  assert.equal(parseDurationMs("30s"), 30_000);
  assert.equal(parseDurationMs("1m30s"), 90_000);
  assert.equal(parseDurationMs("250ms"), 250);
  assert.equal(parseDurationMs("1h"), 3_600_000);
  assert.equal(parseDurationMs("1.5s"), 1500);
  assert.equal(parseDurationMs("2"), 2000);
  assert.equal(parseDurationMs("-5s"), -5000);
  assert.equal(parseDurationMs("0"), 0);
  assert.equal(parseDurationMs("500us"), 0.5);
});

test("rejects what is not a duration", () => {
  for (const bad of ["", "s", "5x", "1m30", "abc", "5 s", "--5s"]) assert.equal(parseDurationMs(bad), undefined, bad);
});

test("formats milliseconds for messages", () => {
  assert.equal(formatDurationMs(250), "250ms");
  assert.equal(formatDurationMs(5000), "5s");
  assert.equal(formatDurationMs(1500), "1.5s");
  assert.equal(formatDurationMs(90_000), "1m30s");
  assert.equal(formatDurationMs(120_000), "2m");
});
