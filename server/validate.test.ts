import { test } from "node:test";
import assert from "node:assert/strict";
import { Status } from "../common/errors.js";
import { MAX_PID, requireCpuSampleMs, requireGcPercent, requirePid } from "./validate.js";

const invalid = (fn: () => unknown) =>
  assert.throws(fn, (e: { code?: Status }) => e.code === Status.INVALID_ARGUMENT);

test("pids are integers in 1..PID_MAX_LIMIT", () => {
  assert.equal(requirePid(1), 1);
  assert.equal(requirePid(MAX_PID), MAX_PID);
  for (const bad of [undefined, 0, -1, MAX_PID + 1, 1.5, Number.NaN]) invalid(() => requirePid(bad));
});

test("GC percent is -1 (off) or 0..2^31-1", () => {
  for (const ok of [-1, 0, 100, 2 ** 31 - 1]) assert.equal(requireGcPercent(ok), ok);
  for (const bad of [undefined, -2, 2 ** 31, 1.5]) invalid(() => requireGcPercent(bad));
});

test("GC percent is required: an absent field is refused, not read as 0 (GOGC=0)", () => {
  assert.throws(() => requireGcPercent(undefined), (e: { code?: Status; message?: string }) => e.code === Status.INVALID_ARGUMENT && e.message === "percent is required");
});

test("CPU sample period is 0..60 s of whole milliseconds", () => {
  assert.equal(requireCpuSampleMs(undefined), 0);
  assert.equal(requireCpuSampleMs(60_000), 60_000);
  for (const bad of [-1, 60_001, 0.5]) invalid(() => requireCpuSampleMs(bad));
});
