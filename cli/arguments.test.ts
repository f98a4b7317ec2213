import assert from "node:assert/strict";
import { test } from "node:test";
import { MAX_PID, parseGcPercent, parseOnlyPid, parsePeriod, parsePid } from "./arguments.js";
import { UsageError } from "./errors.js";

const usage = (fn: () => unknown, message: string) =>
  assert.throws(fn, (e: unknown) => e instanceof UsageError && e.message === message, message);

test("pids are integers from 1 to 4194304", () => {
  assert.equal(parsePid("1"), 1);
  assert.equal(parsePid("4132"), 4132);
  assert.equal(parsePid(String(MAX_PID)), 4_194_304);
  for (const bad of ["0", "4194305", "-1", "x", "1.5", " 1", "1e3", "", "0x10", "99999999999999999999"]) {
    usage(() => parsePid(bad), `invalid pid "${bad}"`);
  }
  usage(() => parsePid(undefined), "missing PID");
});

test("commands taking one pid reject extra arguments", () => {
  assert.equal(parseOnlyPid(["7"]), 7);
  usage(() => parseOnlyPid([]), "missing PID");
  usage(() => parseOnlyPid(["7", "8"]), 'too many arguments: "8"');
});

test("setgc percentages: -1..2147483647 or off", () => {
  assert.equal(parseGcPercent("off"), -1);
  assert.equal(parseGcPercent("-1"), -1);
  assert.equal(parseGcPercent("0"), 0);
  assert.equal(parseGcPercent("100"), 100);
  assert.equal(parseGcPercent("2147483647"), 2_147_483_647);
  const want = (v: string) => `invalid gc percentage "${v}" (want an integer from -1 to 2147483647, or off)`;
  for (const bad of ["-2", "2147483648", "1.5", "50%", "OFF", "on", "1e2", "", "abc"]) usage(() => parseGcPercent(bad), want(bad));
  usage(() => parseGcPercent(undefined), "missing gc percentage");
});

test("periods: Go durations or integer seconds, 0 to 1m, negative is a usage error", () => {
  assert.equal(parsePeriod(undefined), 0);
  assert.equal(parsePeriod("2s"), 2000);
  assert.equal(parsePeriod("3"), 3000);
  assert.equal(parsePeriod("1m"), 60_000);
  assert.equal(parsePeriod("250ms"), 250);
  assert.equal(parsePeriod("0"), 0);
  usage(() => parsePeriod("-1s"), 'invalid period "-1s": it must not be negative');
  usage(() => parsePeriod("-3"), 'invalid period "-3": it must not be negative');
  usage(() => parsePeriod("61s"), 'invalid period "61s": it must be at most 1m0s');
  assert.throws(() => parsePeriod("2 s"), /invalid period "2 s"/);
  assert.throws(() => parsePeriod("soon"), UsageError);
});
