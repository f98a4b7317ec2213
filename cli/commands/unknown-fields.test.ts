// memstats and stats from a backend that cannot tell every field (a net/http/pprof endpoint): `unknown`, not 0.
import assert from "node:assert/strict";
import { test } from "node:test";
import { MemStatsResponse, StatsResponse } from "../../proto/index.js";
import { fakeContext, fakeFleet } from "../fake-context.testkit.js";
import { gopsBytes, run as runMemstats } from "./memstats.js";
import { run as runStats } from "./stats.js";

const httpMem = MemStatsResponse.fromPartial({
  stats: { alloc: 138152, heapAlloc: 138152, sys: 500, numGc: 3, nextGc: 4194304, lastGc: "-", enableGc: true },
  raw: "# runtime.MemStats\n# Alloc = 138152\n",
  unknownKeys: [],
  unknownFields: { names: ["gc_pause_total_ns", "gc_cpu_fraction", "gc_pause_end_unix_ms"] },
});

test("gops byte sizes", () => {
  assert.equal(gopsBytes(512), "512 bytes");
  assert.equal(gopsBytes(138152), "134.91KB (138152 bytes)");
  assert.equal(gopsBytes(4194304), "4.00MB (4194304 bytes)");
});

test("memstats text: gops' lines from the typed fields, unknown fields read unknown; a gops agent's raw text as is", async () => {
  const f = fakeContext({ memStats: async () => httpMem });
  await runMemstats({ pid: 7 }, f.ctx);
  const lines = f.stdout.text().split("\n");
  assert.equal(lines[0], "alloc: 134.91KB (138152 bytes)");
  assert.ok(lines.includes("sys: 500 bytes"));
  assert.ok(lines.includes("next-gc: when heap-alloc >= 4.00MB (4194304 bytes)"));
  assert.ok(lines.includes("gc-pause-total: unknown"));
  assert.ok(lines.includes("gc-cpu-fraction: unknown"));
  assert.ok(lines.includes("gc-pause-end: unknown"));
  assert.ok(lines.includes("num-gc: 3"));
  assert.ok(lines.includes("enable-gc: true"));
  assert.equal(lines.length, 32, "31 lines and the final newline");

  const agent = fakeContext({ memStats: async () => MemStatsResponse.fromPartial({ stats: { alloc: 1 }, raw: "alloc: 1 bytes\n" }) });
  await runMemstats({ pid: 7 }, agent.ctx);
  assert.equal(agent.stdout.text(), "alloc: 1 bytes\n");
});

test("memstats --json keeps unknownFields; across hosts the table says unknown", async () => {
  const j = fakeContext({ memStats: async () => httpMem }, { json: true });
  await runMemstats({ pid: 7 }, j.ctx);
  const out = JSON.parse(j.stdout.text());
  assert.deepEqual(out.unknownFields, ["gc_pause_total_ns", "gc_cpu_fraction", "gc_pause_end_unix_ms"]);
  assert.equal(out.stats.heapAlloc, 138152);
  const fleet = fakeContext({}, { fleet: fakeFleet({ a: { memStats: async () => httpMem } }) });
  await runMemstats({ pid: 7 }, fleet.ctx);
  assert.match(fleet.stdout.text(), /^a\s+135kB\s.*\s3\s+4MB\s+unknown\n$/m);
});

test("stats: GOMAXPROCS and num CPU unknown from a pprof endpoint; JSON keeps unknownFields", async () => {
  const res = StatsResponse.fromPartial({ goroutines: 12, osThreads: 9, raw: "goroutines: 12\nOS threads: 9\n", unknownFields: { names: ["gomaxprocs", "num_cpu"] } });
  const f = fakeContext({ stats: async () => res });
  await runStats({ pid: 7 }, f.ctx);
  assert.equal(f.stdout.text(), "goroutines: 12\nOS threads: 9\nGOMAXPROCS: unknown\nnum CPU: unknown\n");
  const j = fakeContext({ stats: async () => res }, { json: true });
  await runStats({ pid: 7 }, j.ctx);
  assert.deepEqual(JSON.parse(j.stdout.text()).unknownFields, ["gomaxprocs", "num_cpu"]);
  const fleet = fakeContext({}, { fleet: fakeFleet({ a: { stats: async () => res } }) });
  await runStats({ pid: 7 }, fleet.ctx);
  assert.match(fleet.stdout.text(), /^a\s+12\s+9\s+unknown\s+unknown\n$/m);
  const agent = fakeContext({ stats: async () => StatsResponse.fromPartial({ goroutines: 1, raw: "goroutines: 1\nOS threads: 2\nGOMAXPROCS: 4\nnum CPU: 4\n" }) });
  await runStats({ pid: 7 }, agent.ctx);
  assert.equal(agent.stdout.text(), "goroutines: 1\nOS threads: 2\nGOMAXPROCS: 4\nnum CPU: 4\n");
});
