// Benchmark (not a test): `npm run bench` (needs root). Agents in other network namespaces (containers) against the
// same number in gopsd's own namespace, measured in one run (ratios), through the same core and the same gopsd.
// gopsd reaches a namespaced agent with a socket it makes inside the agent's namespace (setns, no process).
//
//  phase A: N agents in gopsd's namespace (+ one more for the latency pair);
//  phase B: the same N agents' count, each in its own network namespace (unshare --net --pid), A's stopped.
//  In each phase:
//   - `top`: a real gopsd's CPU (with its children: cutime+cstime) while one client watches the N processes at a
//     1 s interval for WINDOW s (WatchStats with their pids, so other Go programs on this shared machine do not
//     count), and the processes gopsd started meanwhile (its children, sampled every 2 ms);
//   - ListProcesses warm p50 (in-process core; the whole host is listed, others' processes included).
//  Then Version p50 over CALLS calls each to a namespaced agent and to one in gopsd's namespace (in-process core,
//  interleaved blocks), and the difference: the extra cost of reaching into a namespace.
//
// Goals (issue 19): top B <= 1.3x top A, top A <= 15% of a core, no process started; extra latency p50 <= 0.3 ms;
// ListProcesses B <= 1.5x A.
import { loadavg } from "node:os";
import { connect } from "../client/index.js";
import { createHostDiagnostics } from "../server/host-diagnostics.js";
import { startFixture, startGopsd, type Fixture } from "../integration/harness.js";
import { childrenOf, relaysLeft, startNamespacedAgent, type Namespaced } from "../integration/namespaced.js";
import { percentile, procCpuMs, timeAsync } from "./measure.js";

if (process.getuid?.() !== 0) {
  console.error("bench/netns.ts needs root (unshare, setns)");
  process.exit(2);
}

const TARGETS = Number(process.env.BENCH_NETNS_TARGETS ?? 100);
const WINDOW_S = Number(process.env.BENCH_NETNS_WINDOW_S ?? 10);
const CALLS = Number(process.env.BENCH_NETNS_CALLS ?? 2000);
const BLOCK = 100;

interface Row {
  metric: string;
  ms: number;
  unit?: string;
  baseline: string;
  baselineMs: number;
  ratio: number;
  goal?: string;
}
const rows: Row[] = [];
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));


/** gopsd's CPU % of a core and the children it started while one client watches `pids` at 1 s for WINDOW_S. */
async function topCost(address: string, gopsdPid: number, pids: number[]): Promise<{ cpu: number; started: number; rounds: number; stale: number }> {
  const client = connect(address);
  const ctl = new AbortController();
  let rounds = 0;
  let stale = 0;
  const why = new Map<string, number>();
  const loop = (async () => {
    try {
      for await (const s of client.watchStats({ intervalMs: 1000, pids }, { signal: ctl.signal })) {
        rounds++;
        for (const p of s.processes) {
          if (p.detail === "") continue;
          stale++;
          const k = p.detail.replace(/\d+/g, "N");
          why.set(k, (why.get(k) ?? 0) + 1);
        }
      }
    } catch {
      // cancelled at the end of the window
    }
  })();
  await sleep(2500); // the first rounds (warm caches, koffi loaded) are not measured
  const before = new Set(childrenOf(gopsdPid));
  const born = new Set<number>();
  const census = setInterval(() => {
    for (const c of childrenOf(gopsdPid)) if (!before.has(c)) born.add(c);
  }, 2);
  const r0 = rounds;
  const s0 = stale;
  const c0 = procCpuMs(gopsdPid, { withChildren: true });
  const t0 = performance.now();
  await sleep(WINDOW_S * 1000);
  const cpu = ((procCpuMs(gopsdPid, { withChildren: true }) - c0) / (performance.now() - t0)) * 100;
  clearInterval(census);
  ctl.abort();
  await loop;
  client.close();
  if (why.size > 0) console.error(`stale samples by reason: ${JSON.stringify(Object.fromEntries(why))}`);
  return { cpu, started: born.size, rounds: rounds - r0, stale: stale - s0 };
}

async function inBatches<T>(n: number, start: () => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i += 10) out.push(...(await Promise.all(Array.from({ length: Math.min(10, n - i) }, start))));
  return out;
}

const hostAgent = await startFixture("agentprog");
const gopsd = await startGopsd();
const gpid = gopsd.proc.pid!;
let own: Fixture[] = [];
let namespaced: Namespaced[] = [];
try {
  const core = createHostDiagnostics({ hostName: "bench", agentTimeouts: {} });
  const list = () => core.listProcesses({});

  // Phase A: N agents in gopsd's own namespace.
  own = await inBatches(TARGETS, () => startFixture("agentprog"));
  await timeAsync(5, list);
  const listA = percentile(await timeAsync(30, list), 50);
  const topA = await topCost(gopsd.address, gpid, own.map((f) => f.pid));
  await Promise.all(own.map((f) => f.stop()));
  own = [];

  // Phase B: N agents, each in its own network namespace.
  namespaced = await inBatches(TARGETS, () => startNamespacedAgent());
  await timeAsync(5, list);
  const listB = percentile(await timeAsync(30, list), 50);
  const topB = await topCost(gopsd.address, gpid, namespaced.map((t) => t.pid));

  // Latency: Version to a namespaced agent vs one in gopsd's namespace, interleaved blocks.
  const nsPid = namespaced[0]!.pid;
  const inNs = () => core.version({ pid: hostAgent.pid });
  const intoNs = () => core.version({ pid: nsPid });
  await timeAsync(50, inNs);
  await timeAsync(50, intoNs);
  const a: number[] = [];
  const b: number[] = [];
  for (let done = 0; done < CALLS; done += BLOCK) {
    a.push(...(await timeAsync(BLOCK, inNs)));
    b.push(...(await timeAsync(BLOCK, intoNs)));
  }
  const load = loadavg().map((x) => x.toFixed(1)).join(" ");
  console.error(`load average after measuring: ${load} (a shared machine: read ratios, not absolute figures)`);
  console.error(`top A: ${topA.rounds} rounds, ${topA.stale} stale process samples; top B: ${topB.rounds} rounds, ${topB.stale} stale`);

  const ap50 = percentile(a, 50);
  const bp50 = percentile(b, 50);
  rows.push({ metric: `top CPU % (with children), ${TARGETS} agents in own namespaces`, ms: topB.cpu, unit: "%", baseline: `the same, ${TARGETS} agents in gopsd's namespace`, baselineMs: topA.cpu, ratio: topB.cpu / topA.cpu, goal: "ratio <= 1.3" });
  rows.push({ metric: `top CPU % (with children), ${TARGETS} agents in gopsd's namespace`, ms: topA.cpu, unit: "%", baseline: "one core", baselineMs: 100, ratio: topA.cpu / 100, goal: "<= 15 %" });
  rows.push({ metric: `processes started by gopsd in ${WINDOW_S}s of top, namespaced`, ms: topB.started, unit: "", baseline: "same, own namespace", baselineMs: topA.started, ratio: 0, goal: "<= 0 processes" });
  rows.push({ metric: `version into a namespace p50 (${CALLS} calls)`, ms: bp50, baseline: "version in gopsd's namespace p50", baselineMs: ap50, ratio: bp50 / ap50 });
  rows.push({ metric: "extra cost of a namespace p50 (into - in)", ms: bp50 - ap50, baseline: "version in gopsd's namespace p50", baselineMs: ap50, ratio: (bp50 - ap50) / ap50, goal: "<= 0.3 ms" });
  rows.push({ metric: "version into a namespace p90", ms: percentile(b, 90), baseline: "version in gopsd's namespace p90", baselineMs: percentile(a, 90), ratio: percentile(b, 90) / percentile(a, 90) });
  rows.push({ metric: `ListProcesses warm p50, ${TARGETS} namespaced agents`, ms: listB, baseline: `the same, ${TARGETS} agents in gopsd's namespace`, baselineMs: listA, ratio: listB / listA, goal: "ratio <= 1.5" });
  const left = await relaysLeft(gpid);
  if (left.length > 0) throw new Error(`relay processes left behind: ${left.join(", ")}`);
} finally {
  await Promise.all([hostAgent.stop(), gopsd.stop(), ...own.map((f) => f.stop()), ...namespaced.map((t) => t.stop())]);
}

const fmt = (n: number) => n.toFixed(3).padStart(9);
console.log(`${"bench".padEnd(6)} ${"metric".padEnd(62)} ${"value".padStart(9)} ${"baseline".padStart(9)} ${"ratio".padStart(7)}  goal`);
for (const r of rows) {
  console.log(`${"netns".padEnd(6)} ${r.metric.padEnd(62)} ${fmt(r.ms)} ${fmt(r.baselineMs)} ${r.ratio.toFixed(2).padStart(7)}  ${r.goal ?? ""}  (baseline: ${r.baseline})`);
}
console.log(JSON.stringify({ date: new Date().toISOString(), bench: "netns", rows }));
process.exit(0);
