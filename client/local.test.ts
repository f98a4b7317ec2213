// The in-process backend honours the same call options as the gRPC client: a deadline becomes
// DEADLINE_EXCEEDED, the caller's AbortSignal cancels, and bad input is refused like gopsd refuses it.
import assert from "node:assert/strict";
import { test } from "node:test";
import { GopsError, Status } from "../common/errors.js";
import { createLocalDiagnostics } from "./local.js";

const local = createLocalDiagnostics({ hostName: "local-test" });
const code = (c: Status) => (e: unknown) => e instanceof GopsError && e.code === c;

test("lists processes with this host's name", async () => {
  const res = await local.listProcesses({ all: true });
  assert.equal(res.host, "local-test");
  assert.ok(res.processes.some((p) => p.pid === process.pid));
});

test("a deadline that passes during a sampled CPU reading is DEADLINE_EXCEEDED", async () => {
  await assert.rejects(local.getProcess({ pid: process.pid, cpuSampleMs: 10_000 }, { deadline: 50 }), (e: unknown) => {
    assert.ok(code(Status.DEADLINE_EXCEEDED)(e));
    assert.match((e as Error).message, /did not finish within 50ms/);
    return true;
  });
});

test("the caller's abort is not reported as a deadline", async () => {
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 30);
  await assert.rejects(
    local.getProcess({ pid: process.pid, cpuSampleMs: 10_000 }, { signal: ac.signal, deadline: 60_000 }),
    (e: unknown) => !code(Status.DEADLINE_EXCEEDED)(e),
  );
});

test("bad input is refused as gopsd refuses it", async () => {
  await assert.rejects(local.version({ pid: 0 }), code(Status.INVALID_ARGUMENT));
  await assert.rejects(local.setGCPercent({ pid: process.pid, percent: -5 }), code(Status.INVALID_ARGUMENT));
});

test("watchStats: bad intervals and pids are refused; a watch of a non-Go pid streams empty samples until aborted", async () => {
  const first = async (req: object) => {
    for await (const s of local.watchStats(req)) return s;
  };
  await assert.rejects(first({ intervalMs: 100 }), code(Status.INVALID_ARGUMENT));
  await assert.rejects(first({ intervalMs: 500, pids: [0] }), code(Status.INVALID_ARGUMENT));
  const ac = new AbortController();
  const seen: number[] = [];
  // This test process is Node, not Go: it is never among the samples.
  for await (const s of local.watchStats({ intervalMs: 500, pids: [process.pid] }, { signal: ac.signal })) {
    assert.equal(s.host, "local-test");
    assert.deepEqual(s.processes, []);
    seen.push(s.seq);
    if (seen.length === 2) ac.abort();
  }
  assert.deepEqual(seen, [1, 2]);
});
