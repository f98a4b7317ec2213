import assert from "node:assert/strict";
import { test } from "node:test";
import { findOutliers, isOutlier, median, type OutlierInput } from "./outliers.js";

const p = (group: string, goroutines?: number, heap?: number, pause?: number): OutlierInput => ({
  group,
  values: { ...(goroutines !== undefined ? { goroutines } : {}), ...(heap !== undefined ? { heap } : {}), ...(pause !== undefined ? { pause } : {}) },
});
const MiB = 1 << 20;

test("median of odd and even counts", () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.ok(Number.isNaN(median([])));
});

test("the one leaking replica of many is marked, on goroutines only", () => {
  const items = [...Array.from({ length: 39 }, (_, i) => p("app", 40 + (i % 5), 30 * MiB + i * 100_000, 0)), p("app", 900, 31 * MiB, 0)];
  const out = findOutliers(items);
  assert.deepEqual(out.at(-1), ["goroutines"]);
  assert.ok(out.slice(0, -1).every((o) => o.length === 0));
});

test("MAD = 0 (identical idle replicas): the relative rule marks a value far above the median", () => {
  const out = findOutliers([p("a", 4), p("a", 4), p("a", 4), p("a", 60)]);
  assert.deepEqual(out, [[], [], [], ["goroutines"]]);
  // Just above the median, under the floor: not marked.
  assert.deepEqual(findOutliers([p("a", 4), p("a", 4), p("a", 4), p("a", 12)]), [[], [], [], []]);
});

test("fewer than 3 processes of a program: nothing is compared", () => {
  assert.deepEqual(findOutliers([p("a", 4), p("a", 4000)]), [[], []]);
  // Unknown values do not count towards the 3.
  assert.deepEqual(findOutliers([p("a", 4), p("a", 4000), p("a")]), [[], [], []]);
});

test("programs are compared only with themselves; an unknown program never", () => {
  const items = [p("a", 4), p("a", 4), p("a", 4), p("b", 500), p("b", 500), p("b", 500), p("", 9999), p("", 4), p("", 4)];
  assert.ok(findOutliers(items).every((o) => o.length === 0));
});

test("only values above the median are marked", () => {
  assert.deepEqual(findOutliers([p("a", 500), p("a", 510), p("a", 505), p("a", 0)]), [[], [], [], []]);
});

test("heap and GC pause: robust z over 3.5, with their floors", () => {
  const heaps = [20, 21, 22, 23, 24].map((x) => x * MiB);
  assert.equal(isOutlier(80 * MiB, [...heaps, 80 * MiB], "heap"), true);
  assert.equal(isOutlier(25 * MiB, [...heaps, 25 * MiB], "heap"), false);
  const pauses = [0, 0, 0, 0, 5_000_000];
  assert.equal(isOutlier(5_000_000, pauses, "pause"), true);
  assert.equal(isOutlier(500_000, [0, 0, 0, 500_000], "pause"), false, "under the 1 ms floor");
  const out = findOutliers([p("a", 4, 20 * MiB, 0), p("a", 4, 21 * MiB, 0), p("a", 4, 22 * MiB, 0), p("a", 4, 90 * MiB, 3_000_000)]);
  assert.deepEqual(out.at(-1), ["heap", "pause"]);
});
