// Benchmarks (not tests): `npm run bench`. Each figure is printed with a ratio against a baseline measured in the
// same run on the same machine, then the whole result as one JSON line.
//
//  discovery  ListProcesses cold (fresh cache) and warm with ~500 processes, against a bare /proc walk that
//             reads every /proc/PID/stat and nothing else (the least any lister must do).
//  gopsd      a unary call through gopsd (gRPC on 127.0.0.1 + verification + governor + agent) against the
//             same agent call made directly over TCP: the difference is gopsd's per-call overhead.
//  pprof-probe  ListProcesses with probe=true (net/http/pprof discovery) on ~500 processes with 20 Go programs
//             (10 serving pprof, 4 plain 404 HTTP servers, 2 silent TCP servers, 2 with gops agents, 2 plain),
//             cold (a new core: every candidate port probed) and warm (verified endpoints and non-pprof sockets
//             remembered), against a plain listing in the same run.
//  metrics    bench/metrics.ts: gopsd's CPU as a metrics exporter of 100 Go programs at the default interval, and
//             the latency of one scrape from the cached sample (issue 21).
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createChannel, createClient } from "nice-grpc";
import { HealthDefinition } from "nice-grpc-server-health";
import { connect } from "../client/index.js";
import { agentAddress, callAgent } from "../server/agent/client.js";
import { Signal } from "../server/agent/signals.js";
import { createHostDiagnostics } from "../server/host-diagnostics.js";
import { createProcFs } from "../server/proc/index.js";
import { PprofLocator } from "../server/pprof-http/index.js";
import { startFixture, startGopsd } from "../integration/harness.js";
import { percentile, timeAsync, timeSync } from "./measure.js";
import { gopsdFootprint, gopsdSecureOverhead } from "./gopsd.js";
import { printTable, writeResults, type Row } from "./rows.js";
import { startup } from "./startup.js";
import { captureRulesRows } from "./capture-rules.js";

const SLEEPERS = Number(process.env.BENCH_PROCESSES ?? 500);

const rows: Row[] = [];

function bareProcWalk(): void {
  for (const name of readdirSync("/proc")) {
    if (name.charCodeAt(0) < 48 || name.charCodeAt(0) > 57) continue;
    try {
      readFileSync(`/proc/${name}/stat`);
    } catch {
      // exited
    }
  }
}

async function discovery(): Promise<void> {
  const sleepers: ChildProcess[] = [];
  try {
    for (let i = 0; i < SLEEPERS; i++) sleepers.push(spawn("sleep", ["600"], { stdio: "ignore" }));
    const fixtures = await Promise.all([startFixture("agentprog"), startFixture("agentprog"), startFixture("plain")]);
    try {
      const newCore = () => createHostDiagnostics({ hostName: "bench", agentTimeouts: {} });
      const total = readdirSync("/proc").filter((n) => /^\d+$/.test(n)).length;
      const base = percentile(timeSync(30, bareProcWalk), 50);
      // Cold: a new core (empty build-info and agent caches) each run; the page cache is warm, as on a live host.
      const cold = percentile(await timeAsync(15, () => newCore().listProcesses({})), 50);
      const core = newCore();
      await core.listProcesses({});
      const warm = percentile(await timeAsync(30, () => core.listProcesses({})), 50);
      const found = (await core.listProcesses({})).processes.length;
      const label = `${total} processes (${found} Go)`;
      rows.push({ bench: "discovery", metric: `ListProcesses cold p50, ${label}`, value: cold, unit: "ms", baseline: "bare /proc stat walk", baselineValue: base, ratio: cold / base, goal: "<= 50 ms", ok: cold <= 50 });
      rows.push({ bench: "discovery", metric: `ListProcesses warm p50, ${label}`, value: warm, unit: "ms", baseline: "bare /proc stat walk", baselineValue: base, ratio: warm / base, goal: "<= 10 ms", ok: warm <= 10 });
    } finally {
      await Promise.all(fixtures.map((f) => f.stop()));
    }
  } finally {
    for (const s of sleepers) s.kill("SIGKILL");
  }
}

async function gopsdOverhead(): Promise<void> {
  const fixture = await startFixture("agentprog");
  const gopsd = await startGopsd();
  const client = connect(gopsd.address);
  try {
    const addr = agentAddress("127.0.0.1", fixture.port!);
    const direct = () => callAgent(addr, Signal.Version, undefined, { connectTimeoutMs: 3000, deadlineMs: 10_000 });
    const viaGopsd = () => client.version({ pid: fixture.pid }, { deadline: 10_000 });
    // The floor any gRPC call to gopsd pays: a health check does no work behind the transport.
    const healthChannel = createChannel(gopsd.address);
    const health = createClient(HealthDefinition, healthChannel);
    const grpcFloor = () => health.check({ service: "" });
    // Warm up both paths (JIT, channel connect, build-info cache).
    await timeAsync(50, direct);
    await timeAsync(50, viaGopsd);
    await timeAsync(50, grpcFloor);
    const d: number[] = [];
    const g: number[] = [];
    const h: number[] = [];
    for (let round = 0; round < 5; round++) {
      d.push(...(await timeAsync(100, direct)));
      g.push(...(await timeAsync(100, viaGopsd)));
      h.push(...(await timeAsync(100, grpcFloor)));
    }
    healthChannel.close();
    const dp50 = percentile(d, 50);
    const gp50 = percentile(g, 50);
    rows.push({ bench: "gopsd", metric: "version via gopsd p50", value: gp50, unit: "ms", baseline: "direct agent call p50", baselineValue: dp50, ratio: gp50 / dp50 });
    const hp50 = percentile(h, 50);
    rows.push({ bench: "gopsd", metric: "gRPC floor: health check via gopsd p50", value: hp50, unit: "ms", baseline: "direct agent call p50", baselineValue: dp50, ratio: hp50 / dp50 });
    rows.push({ bench: "gopsd", metric: "gopsd per-call overhead p50 (via − direct)", value: gp50 - dp50, unit: "ms", baseline: "direct agent call p50", baselineValue: dp50, ratio: (gp50 - dp50) / dp50, goal: "<= 1 ms", ok: gp50 - dp50 <= 1 });
  } finally {
    client.close();
    await gopsd.stop();
    await fixture.stop();
  }
}

async function pprofProbe(): Promise<void> {
  const sleepers: ChildProcess[] = [];
  try {
    for (let i = 0; i < SLEEPERS - 20; i++) sleepers.push(spawn("sleep", ["600"], { stdio: "ignore" }));
    const idle = ["-busy=false"];
    const fixtures = await Promise.all([
      ...Array.from({ length: 10 }, () => startFixture("httpprog", { args: idle })),
      ...Array.from({ length: 4 }, () => startFixture("httpprog", { args: ["-mode", "http404", ...idle] })),
      ...Array.from({ length: 2 }, () => startFixture("httpprog", { args: ["-mode", "rawtcp", ...idle] })),
      startFixture("agentprog"),
      startFixture("agentprog"),
      startFixture("plain"),
      startFixture("plain"),
    ]);
    try {
      const fs = createProcFs();
      // Probe only our fixtures: other Go programs on a shared machine are not ours to send requests to.
      const probeExe = [fixtures[0]!.exe];
      const newCore = (locator = new PprofLocator(fs, { probeExe })) => ({ locator, core: createHostDiagnostics({ hostName: "bench", agentTimeouts: {}, procFs: fs, pprof: { locator } }) });
      const total = readdirSync("/proc").filter((n) => /^\d+$/.test(n)).length;
      const { core, locator } = newCore();
      await core.listProcesses({});
      const plain = percentile(await timeAsync(20, () => core.listProcesses({})), 50);
      // Cold: a new core each run, so every candidate port of every Go program without an agent is probed.
      let coldRequests = 0;
      const cold = percentile(
        await timeAsync(5, async () => {
          const c = newCore();
          await c.core.listProcesses({ probe: true });
          coldRequests = c.locator.requestsSent;
        }),
        50,
      );
      await core.listProcesses({ probe: true });
      const before = locator.requestsSent;
      const warm = percentile(await timeAsync(20, () => core.listProcesses({ probe: true })), 50);
      const warmRequests = (locator.requestsSent - before) / 20;
      const marked = (await core.listProcesses({})).processes.filter((p) => p.agent?.kind === 2).length;
      const label = `${total} processes, 20 Go`;
      rows.push({ bench: "pprof", metric: `ListProcesses plain p50, ${label}`, value: plain, unit: "ms", baseline: "plain listing", baselineValue: plain, ratio: 1 });
      rows.push({ bench: "pprof", metric: `probe cold p50 (${coldRequests} requests, ${marked} marked)`, value: cold, unit: "ms", baseline: "plain listing", baselineValue: plain, ratio: cold / plain });
      rows.push({ bench: "pprof", metric: `probe warm p50 (${warmRequests} requests)`, value: warm, unit: "ms", baseline: "plain listing", baselineValue: plain, ratio: warm / plain });
    } finally {
      await Promise.all(fixtures.map((f) => f.stop()));
    }
  } finally {
    for (const s of sleepers) s.kill("SIGKILL");
  }
}

const only = process.argv[2];
const want = (name: string) => !only || only === name;
if (want("startup")) await startup(rows);
if (want("overhead")) await gopsdSecureOverhead(rows);
if (want("footprint")) {
  const idleSec = Number(process.env.BENCH_IDLE_SEC ?? 60);
  await gopsdFootprint(rows, { idleSec, clients: 200, callsPerClient: 100, recoverSec: 60 });
}
if (want("discovery")) await discovery();
if (want("gopsd")) await gopsdOverhead();
if (want("pprof-probe")) await pprofProbe();
if (want("fanout")) rows.push(...(await fanoutRows()));
if (want("netns")) rows.push(...(await netnsRows()));
if (want("watch-stats")) rows.push(...(await watchStatsRows()));
if (want("metrics")) rows.push(...(await childRows("metrics.ts", (j) => j.rows as Row[])));
if (want("capture-rules")) rows.push(...captureRulesRows());

console.log(printTable(rows));
const out = fileURLToPath(new URL("./results.json", import.meta.url));
if (!only) writeResults(out, rows);
process.exit(0);

/** A benchmark script in its own process (its last stdout line is its JSON), its rows in this table's shape. */
async function childRows(name: string, convert: (json: Record<string, unknown>) => Row[]): Promise<Row[]> {
  const script = fileURLToPath(new URL(`./${name}`, import.meta.url));
  const out = await new Promise<string>((resolve, reject) => {
    const p = spawn(process.execPath, ["--import", "tsx", script], { stdio: ["ignore", "pipe", "inherit"] });
    let text = "";
    p.stdout!.on("data", (d: Buffer) => (text += d.toString()));
    p.once("error", reject);
    p.once("exit", (code) => (code === 0 ? resolve(text) : reject(new Error(`bench/${name} exited ${code}`))));
  });
  return convert(JSON.parse(out.trim().split("\n").pop()!) as Record<string, unknown>);
}

/** bench/fleet.ts: fan-out against the simulated fleet, and the ssh tunnel. */
function fanoutRows(): Promise<Row[]> {
  return childRows("fleet.ts", (j) => (j.rows as Row[]).map((r) => (r.goal === undefined ? r : { ...r, ok: okByGoal(r) })));
}

/** bench/netns.ts: agents in other network namespaces against agents in gopsd's own (top, latency, listing). */
function netnsRows(): Promise<Row[]> {
  return childRows("netns.ts", (j) =>
    (j.rows as { metric: string; ms: number; unit?: string; baseline: string; baselineMs: number; ratio: number; goal?: string }[]).map((r) => {
      const row: Row = { bench: "netns", metric: r.metric, value: r.ms, unit: r.unit ?? "ms", baseline: r.baseline, baselineValue: r.baselineMs, ratio: r.ratio };
      return r.goal === undefined ? row : { ...row, goal: r.goal, ok: okByGoal(row, r.goal) };
    }),
  );
}

/** bench/watch-stats.ts: figures without a baseline of their own (ratio 0). */
function watchStatsRows(): Promise<Row[]> {
  return childRows("watch-stats.ts", (j) =>
    (j.watchStats as { bench: string; metric: string; value: number; baseline: string }[]).map((r) => ({
      bench: `watch ${r.bench}`,
      metric: r.metric,
      value: r.value,
      unit: "",
      baseline: r.baseline || "-",
      baselineValue: 0,
      ratio: 0,
    })),
  );
}

/** fleet.ts states goals as text; the ones it uses, checked. */
function okByGoal(r: Row, goal = r.goal!): boolean | undefined {
  const ratio = /^ratio (<=|>=) ([\d.]+)$/.exec(goal) ?? /^(<=|>=) ([\d.]+)x$/.exec(goal);
  if (ratio) return ratio[1] === "<=" ? r.ratio <= Number(ratio[2]) : r.ratio >= Number(ratio[2]);
  const abs = /^<= ([\d.]+) (ms|MiB|%|processes)$/.exec(goal);
  if (abs) return r.value <= Number(abs[1]);
  return undefined;
}
