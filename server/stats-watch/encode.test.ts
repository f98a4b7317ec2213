import assert from "node:assert/strict";
import { test } from "node:test";
import { AgentKind, DiagnosticsServiceDefinition, WatchStatsResponse, type ProcessStats } from "../../proto/index.js";
import { encodeWatchStatsShared, withSharedWatchStatsEncoding } from "./encode.js";

const stats = (pid: number): ProcessStats => ({
  pid,
  name: `svc-${pid}`,
  modulePath: "example.com/svc",
  backend: AgentKind.AGENT_KIND_GOPS_AGENT,
  cpuPercent: 12.5,
  rssBytes: 50e6,
  threads: 12,
  goroutines: 100 + pid,
  heapInUseBytes: 30e6,
  heapObjects: 100_000,
  gcCycles: 1,
  gcPauseNs: 150_000,
  numGc: 100,
  gcPauseTotalNs: 1e7,
  gcCpuFraction: 0.002,
  gogc: 100,
  gogcSource: "env",
  gomaxprocs: 4,
  startTimeUnixMs: 1_700_000_000_000,
  unknownFields: pid % 2 ? ["gogc"] : [],
  staleFields: pid % 3 ? [] : ["goroutines", "heap_in_use"],
  detail: pid % 3 ? "" : "no answer within 800 ms",
});

test("the shared encoding is byte for byte the generated one, for every stream sharing a processes array", () => {
  const processes = [stats(1), stats(2), stats(3)];
  for (const seq of [1, 2, 77]) {
    const m: WatchStatsResponse = { host: "node-1", timeUnixMs: 1_700_000_000_123 + seq, intervalMs: 1000 * seq, seq, processes };
    assert.deepEqual(encodeWatchStatsShared(m).finish(), WatchStatsResponse.encode(m).finish());
  }
  const empty: WatchStatsResponse = { host: "", timeUnixMs: 0, intervalMs: 0, seq: 0, processes: [] };
  assert.deepEqual(encodeWatchStatsShared(empty).finish(), WatchStatsResponse.encode(empty).finish());
});

test("the definition gopsd serves: WatchStats encoded as it is (no fromPartial copy), every other method unchanged", () => {
  const def = withSharedWatchStatsEncoding(DiagnosticsServiceDefinition);
  assert.equal(def.methods.watchStats.responseType.encode, encodeWatchStatsShared);
  assert.equal((def.methods.watchStats.responseType as { fromPartial?: unknown }).fromPartial, undefined);
  assert.equal(def.methods.watchStats.responseType.decode, WatchStatsResponse.decode);
  assert.equal(def.methods.stack, DiagnosticsServiceDefinition.methods.stack);
  assert.equal(def.fullName, DiagnosticsServiceDefinition.fullName);
});
