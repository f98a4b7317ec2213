import assert from "node:assert/strict";
import { test } from "node:test";
import { CapturedStream } from "./fake-context.testkit.js";
import { formatBytes, renderProgress, startProgress } from "./progress.js";

const label = "CPU profile of pid 4132";

test("a timed capture: a bar filling up, elapsed of expected and what is left", () => {
  assert.equal(
    renderProgress({ elapsedMs: 0, expectedMs: 30_000, bytes: 0, width: 80, label }),
    `${label} [${"-".repeat(33)}] 0s of 30s, 30s left`,
  );
  const half = renderProgress({ elapsedMs: 15_400, expectedMs: 30_000, bytes: 0, width: 80, label });
  assert.equal(half, `${label} [${"#".repeat(16)}${"-".repeat(16)}] 15s of 30s, 15s left`);
  assert.equal(half.length, 79, "one column short of the width: never wraps");
  assert.equal(
    renderProgress({ elapsedMs: 4_999, expectedMs: 5_000, bytes: 0, width: 200, label: "execution trace of pid 1" }),
    `execution trace of pid 1 [${"#".repeat(40)}] 4s of 5s, 1s left`,
    "the bar is at most 40 wide; a part of a second left counts as one",
  );
});

test("overdue: a full bar, waiting for the data", () => {
  assert.equal(
    renderProgress({ elapsedMs: 31_200, expectedMs: 30_000, bytes: 0, width: 80, label }),
    `${label} [${"#".repeat(20)}] 31s of 30s, waiting for the data`,
  );
});

test("bytes arriving during the capture's time (a trace's header) are added to the bar", () => {
  assert.equal(
    renderProgress({ elapsedMs: 2_100, expectedMs: 5_000, bytes: 16, width: 80, label: "execution trace of pid 1" }),
    `execution trace of pid 1 [${"#".repeat(8)}${"-".repeat(12)}] 2s of 5s, 3s left, 16B received`,
  );
});

test("after the capture's time with bytes (or an untimed capture): bytes received and time taken", () => {
  assert.equal(renderProgress({ elapsedMs: 31_500, expectedMs: 30_000, bytes: 1_300_000, width: 80, label }), `${label}: received 1.2MB in 31s`);
  assert.equal(renderProgress({ elapsedMs: 700, expectedMs: 0, bytes: 0, width: 80, label: "heap" }), "heap: waiting for the data in 0s");
  assert.equal(renderProgress({ elapsedMs: 65_000, expectedMs: 0, bytes: 512, width: 80 }), "received 512B in 1m5s");
});

test("narrow terminals: no bar below 10 columns of room, then the line is cut", () => {
  assert.equal(renderProgress({ elapsedMs: 1000, expectedMs: 30_000, bytes: 0, width: 50, label }), `${label}: 1s of 30s, 29s left`);
  const cut = renderProgress({ elapsedMs: 1000, expectedMs: 30_000, bytes: 0, width: 20, label });
  assert.equal(cut, "CPU profile of pid…");
  assert.equal(cut.length, 19);
  assert.equal(renderProgress({ elapsedMs: 0, expectedMs: 0, bytes: 0, width: 1 }), "");
});

test("byte sizes in powers of 1024", () => {
  assert.deepEqual([0, 1023, 1024, 1536, 15 * 1024 * 1024, 150 * 1024 * 1024, 3 * 1024 ** 3].map(formatBytes), ["0B", "1023B", "1kB", "1.5kB", "15MB", "150MB", "3GB"]);
});

test("startProgress draws at once, redraws changes at most every 100 ms, and erases the line on stop", async () => {
  const out = new CapturedStream();
  let clock = 0;
  const p = startProgress(out, { label: "x", expectedMs: 0, columns: 80, now: () => clock });
  assert.equal(out.text(), "\rx: waiting for the data in 0s\x1b[K");
  p.received(2048);
  assert.equal(out.text(), "\rx: waiting for the data in 0s\x1b[K", "bytes wait for the next tick");
  clock = 1500;
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(out.text(), "\rx: waiting for the data in 0s\x1b[K\rx: received 2kB in 1s\x1b[K");
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(out.chunks.length, 2, "an unchanged line is not redrawn");
  p.stop();
  assert.ok(out.text().endsWith("\r\x1b[K"));
  const after = out.chunks.length;
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(out.chunks.length, after, "no drawing after stop");
});
