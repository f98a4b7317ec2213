// Benchmark (not a test): `npm run bench` (needs root). The per-call cost of reaching an agent in another network
// namespace through the relay (nsenter + bash /dev/tcp + cat, started per call) against the same call to an agent
// in gopsd's own namespace, measured in one run, interleaved, through the same core (verification, governor,
// wire client). Goal: the relay adds at most 5 ms at p50.
//
//  netns  version via relay p50   vs  version in gopsd's namespace p50   (ratio and difference)
//  netns  ListProcesses warm p50 with N namespaced agents   vs   with none of them (same host otherwise)
//  netns  a bare spawn of `true` p50, the floor of any per-call process on this machine at this moment (a loaded
//         machine slows every spawn several-fold: read the relay's cost against it)
import { spawn } from "node:child_process";
import { createHostDiagnostics } from "../server/host-diagnostics.js";
import { startFixture } from "../integration/harness.js";
import { relaysLeft, startNamespacedAgent, type Namespaced } from "../integration/namespaced.js";
import { percentile, timeAsync } from "./measure.js";

if (process.getuid?.() !== 0) {
  console.error("bench/netns.ts needs root (unshare, nsenter)");
  process.exit(2);
}

const TARGETS = Number(process.env.BENCH_NETNS_TARGETS ?? 50);
const ROUNDS = 10;
const PER_ROUND = 50;

interface Row {
  metric: string;
  ms: number;
  baseline: string;
  baselineMs: number;
  ratio: number;
  goal?: string;
}
const rows: Row[] = [];

const hostAgent = await startFixture("agentprog");
const nsAgent = await startNamespacedAgent();
const more: Namespaced[] = [];
try {
  const core = createHostDiagnostics({ hostName: "bench", agentTimeouts: {} });
  const inNs = () => core.version({ pid: hostAgent.pid });
  const bareSpawn = () =>
    new Promise<void>((resolve, reject) => spawn("true", [], { stdio: ["pipe", "pipe", "pipe"] }).once("close", () => resolve()).once("error", reject));
  const relayed = () => core.version({ pid: nsAgent.pid });
  // Warm up both paths (JIT, build-info and agent caches).
  await timeAsync(30, inNs);
  await timeAsync(30, relayed);
  const a: number[] = [];
  const b: number[] = [];
  const c: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    a.push(...(await timeAsync(PER_ROUND, inNs)));
    b.push(...(await timeAsync(PER_ROUND, relayed)));
    c.push(...(await timeAsync(PER_ROUND, bareSpawn)));
  }
  const cp50 = percentile(c, 50);
  const ap50 = percentile(a, 50);
  const bp50 = percentile(b, 50);
  rows.push({ metric: "version via relay p50", ms: bp50, baseline: "version in gopsd's namespace p50", baselineMs: ap50, ratio: bp50 / ap50 });
  rows.push({ metric: "version via relay p90", ms: percentile(b, 90), baseline: "version in gopsd's namespace p90", baselineMs: percentile(a, 90), ratio: percentile(b, 90) / percentile(a, 90) });
  rows.push({ metric: "relay extra cost p50 (via relay - in namespace)", ms: bp50 - ap50, baseline: "version in gopsd's namespace p50", baselineMs: ap50, ratio: (bp50 - ap50) / ap50, goal: "<= 5 ms" });
  rows.push({ metric: "relay extra cost p50, in bare spawns", ms: bp50 - ap50, baseline: "bare spawn of true p50 (this moment's floor)", baselineMs: cp50, ratio: (bp50 - ap50) / cp50 });
  console.error(`load average while measuring: ${(await import("node:os")).loadavg().map((x) => x.toFixed(1)).join(" ")}`);

  // ListProcesses with many namespaced agents: each namespace's socket table is read once per scan.
  const list = () => core.listProcesses({});
  await timeAsync(5, list);
  const without = percentile(await timeAsync(30, list), 50);
  for (let i = 0; i < TARGETS; i += 10) {
    more.push(...(await Promise.all(Array.from({ length: Math.min(10, TARGETS - i) }, () => startNamespacedAgent()))));
  }
  await timeAsync(5, list);
  const withTargets = percentile(await timeAsync(30, list), 50);
  rows.push({ metric: `ListProcesses warm p50 with ${TARGETS} more namespaced agents`, ms: withTargets, baseline: "ListProcesses warm p50 without them", baselineMs: without, ratio: withTargets / without });
  const left = await relaysLeft(process.pid);
  if (left.length > 0) throw new Error(`relay processes left behind: ${left.join(", ")}`);
} finally {
  await Promise.all([hostAgent.stop(), nsAgent.stop(), ...more.map((t) => t.stop())]);
}

const fmt = (n: number) => n.toFixed(3).padStart(9);
console.log(`${"bench".padEnd(6)} ${"metric".padEnd(58)} ${"ms".padStart(9)} ${"baseline ms".padStart(11)} ${"ratio".padStart(7)}  goal`);
for (const r of rows) {
  console.log(`${"netns".padEnd(6)} ${r.metric.padEnd(58)} ${fmt(r.ms)} ${fmt(r.baselineMs).padStart(11)} ${r.ratio.toFixed(2).padStart(7)}  ${r.goal ?? ""}  (baseline: ${r.baseline})`);
}
console.log(JSON.stringify({ date: new Date().toISOString(), bench: "netns", rows }));
process.exit(0);
