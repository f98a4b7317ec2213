// Fleet benchmarks (not tests): `node --import tsx bench/fleet.ts [fanout|tunnel]`. Each figure is printed with a
// ratio against a baseline measured in the same run, then the whole result as one JSON line.
//
//  fanout  memstats fanned out to N = 1, 32, 256 and 1,000 hosts as a real fleet behaves: each host is another
//          machine at RTT_MS (default 20 ms) distance. bench/sim-fleet.ts serves every host from ONE process (the
//          real gopsd stack over TLS with JWT auth; each host its own TCP listener relaying with RTT/2 each way, so
//          TCP, TLS and HTTP/2 set-up pay the distance too). Measured: the CLI (dist/, a fresh process per run,
//          under GNU time: wall, CPU, peak RSS) and the library (a fresh process per run reporting its own usage,
//          wall from opening the fleet to closing it after the last answer), each as a ratio to the 1-host run of
//          the same run. The CLI's 1-host run includes Node's start-up, which flatters its ratios: `gopsctl
//          --version` is timed too and the CLI's fan-out-only ratio, (T(N) - start-up) / (T(1) - start-up), printed.
//          Then a concurrency sweep at 1,000 hosts shows whether concurrency or per-host set-up is the limit, and
//          the simulator's CPU per call and its share of one core while serving shows whether it is the limit.
//  tunnel  a unary call (memstats) through the ssh2 tunnel against direct (goal p50 <= 2 ms), and a stream
//          (StreamBinary, the fixture's executable) through the tunnel against direct (goal >= 0.5x throughput).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { connect } from "../client/connect.js";
import type { Diagnostics } from "../common/diagnostics.js";
import { openSshTunnel } from "../client/ssh/index.js";
import { startFixture, startGopsd } from "../integration/harness.js";
import { startSimulatedFleet, type SimulatedFleet } from "./sim-fleet.js";
import { startSshd } from "../integration/sshd.js";
import { percentile, procCpuMs, timeAsync } from "./measure.js";

const FLEET_SIZES = (process.env.BENCH_FLEET_SIZES ?? "1,32,256,1000").split(",").map(Number);
const RTT_MS = Number(process.env.BENCH_FLEET_RTT_MS ?? 20);
const CONCURRENCY_SWEEP = [8, 16, 32, 64, 128, 512];

interface Row {
  bench: string;
  metric: string;
  value: number;
  unit: "ms" | "MiB/s" | "MiB" | "%";
  baseline: string;
  baselineValue: number;
  ratio: number;
  goal?: string;
}
const rows: Row[] = [];
const repoRoot = path.join(path.dirname(fileURLToPath(import.meta.url)), "..");
/** The CLI as installed: package.json "bin".gopsctl (the bundle's entry may change name). */
const cliBin = path.join(repoRoot, (JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8")) as { bin: { gopsctl: string } }).bin.gopsctl);

interface Usage {
  wallMs: number;
  cpuMs: number;
  maxRssMiB: number;
}

const median = (xs: number[]) => percentile(xs, 50);
function medianUsage(us: Usage[]): Usage {
  return { wallMs: median(us.map((u) => u.wallMs)), cpuMs: median(us.map((u) => u.cpuMs)), maxRssMiB: median(us.map((u) => u.maxRssMiB)) };
}

/** A fleet file with the first n simulated hosts: TLS with the simulator's CA and its token, as a real fleet. */
function fleetFile(dir: string, sim: SimulatedFleet, n: number): string {
  const file = path.join(dir, `fleet-${n}.yaml`);
  const hosts = sim.addresses.slice(0, n).map((a, i) => `  - { name: host-${i + 1}, address: "${a}" }`);
  writeFileSync(file, [`defaults:`, `  tls: { ca: "${sim.caFile}" }`, `  tokenFile: "${sim.tokenFile}"`, `hosts:`, ...hosts, ""].join("\n"));
  return file;
}

/** gopsctl ARGS from dist/, under GNU time: wall, user+sys CPU, peak RSS, and its stdout. */
function timeCli(args: string[], env: NodeJS.ProcessEnv): Usage & { stdout: string } {
  const out = spawnSync("/usr/bin/time", ["-f", "%e %U %S %M", process.execPath, cliBin, ...args], {
    env,
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
  });
  const last = out.stderr.trim().split("\n").pop() ?? "";
  const [e, u, s, m] = last.split(" ").map(Number);
  if (out.status !== 0 || m === undefined) throw new Error(`gopsctl failed (${out.status}): ${out.stderr.slice(-500)}`);
  return { wallMs: e! * 1000, cpuMs: (u! + s!) * 1000, maxRssMiB: m / 1024, stdout: out.stdout };
}

/** `gopsctl --fleet FILE --all memstats 1 --json`: every host must answer. */
function runCli(file: string, env: NodeJS.ProcessEnv): Usage {
  const { stdout, ...usage } = timeCli(["--fleet", file, "--all", "memstats", "1", "--json"], env);
  const lines = stdout.trim().split("\n").filter((l) => l.startsWith("{"));
  const failed = lines.filter((l) => l.includes('"error"')).length;
  if (failed > 0) throw new Error(`gopsctl: ${failed} hosts failed: ${lines.find((l) => l.includes('"error"'))}`);
  return usage;
}

/** The library: one fan-out in a fresh client process (bench/fleet-client-run.ts reports its own usage). */
function runLibrary(file: string, env: NodeJS.ProcessEnv, concurrency?: number, allowFailures = false): Usage & { failed: number } {
  const out = spawnSync(
    process.execPath,
    ["--import", "tsx", path.join(repoRoot, "bench/fleet-client-run.ts"), file, ...(concurrency !== undefined ? [String(concurrency)] : [])],
    { env, encoding: "utf8", cwd: repoRoot },
  );
  const r = JSON.parse(out.stdout.trim().split("\n").pop() ?? "{}") as Usage & { ok: number; failed: number; firstError?: string };
  if (out.status !== 0 || (r.failed !== 0 && !allowFailures)) throw new Error(`library run failed: ${r.firstError ?? out.stderr.slice(-500)}`);
  if (r.failed !== 0) process.stderr.write(`fanout: ${r.failed} hosts failed at concurrency ${concurrency}: ${r.firstError}\n`);
  return r;
}


async function fanout(): Promise<void> {
  const max = Math.max(...FLEET_SIZES);
  const dir = mkdtempSync(path.join(tmpdir(), "gopsctl-bench-fleet-"));
  const env = { ...process.env, XDG_CONFIG_HOME: dir, HOME: dir };
  const sim = await startSimulatedFleet(max, RTT_MS);
  try {
    const files = new Map(FLEET_SIZES.map((n) => [n, fleetFile(dir, sim, n)]));
    runCli(files.get(FLEET_SIZES[0]!)!, env); // warm the page cache
    const cli = new Map<number, Usage>();
    const lib = new Map<number, Usage>();
    const startups: Usage[] = [];
    let simCpuMs = 0;
    let simCalls = 0;
    // The simulator's share of one core while the largest fan-outs ran: near 100% it, not the client, is the limit.
    let simBusyAtMax = 0;
    for (const n of FLEET_SIZES) {
      const runs = n >= 256 ? 3 : 7;
      const c: Usage[] = [];
      const l: Usage[] = [];
      let simBusy = 0;
      for (let i = 0; i < runs; i++) {
        if (n === FLEET_SIZES[0]) startups.push(timeCli(["--version"], env));
        for (const [run, into] of [[runCli, c], [runLibrary, l]] as const) {
          const cpu0 = procCpuMs(sim.pid);
          const t0 = performance.now();
          into.push(run(files.get(n)!, env));
          const wall = performance.now() - t0;
          const cpu = procCpuMs(sim.pid) - cpu0;
          simCpuMs += cpu;
          simBusy = Math.max(simBusy, cpu / wall);
        }
      }
      simCalls += 2 * runs * n;
      if (n === max) simBusyAtMax = simBusy;
      cli.set(n, medianUsage(c));
      lib.set(n, medianUsage(l));
    }
    const one = FLEET_SIZES[0]!;
    const startup = medianUsage(startups);
    rows.push({ bench: "fanout", metric: "gopsctl --version (Node start-up + CLI load)", value: startup.wallMs, unit: "ms", baseline: `gopsctl ${one} host wall`, baselineValue: cli.get(one)!.wallMs, ratio: startup.wallMs / cli.get(one)!.wallMs });
    for (const n of FLEET_SIZES.filter((k) => k !== one)) {
      const net = cli.get(n)!.wallMs - startup.wallMs;
      const netOne = cli.get(one)!.wallMs - startup.wallMs;
      rows.push({ bench: "fanout", metric: `gopsctl memstats, ${n} hosts: wall less start-up`, value: net, unit: "ms", baseline: `${one} host wall less start-up`, baselineValue: netOne, ratio: net / netOne });
    }
    for (const [who, m] of [["gopsctl", cli], ["library", lib]] as const) {
      const base = m.get(one)!;
      for (const n of FLEET_SIZES) {
        const u = m.get(n)!;
        const goal = n === 32 ? "ratio <= 1.5" : n === 1000 ? "ratio <= 10" : undefined;
        rows.push({ bench: "fanout", metric: `${who} memstats, ${n} hosts: wall`, value: u.wallMs, unit: "ms", baseline: `${one} host wall`, baselineValue: base.wallMs, ratio: u.wallMs / base.wallMs, ...(goal ? { goal } : {}) });
        rows.push({ bench: "fanout", metric: `${who} memstats, ${n} hosts: client CPU`, value: u.cpuMs, unit: "ms", baseline: `${one} host CPU`, baselineValue: base.cpuMs, ratio: u.cpuMs / base.cpuMs });
        rows.push({ bench: "fanout", metric: `${who} memstats, ${n} hosts: client peak RSS`, value: u.maxRssMiB, unit: "MiB", baseline: `${one} host RSS`, baselineValue: base.maxRssMiB, ratio: u.maxRssMiB / base.maxRssMiB, ...(n === 1000 ? { goal: "<= 250 MiB" } : {}) });
      }
    }
    // Where the limit is: the same 1,000-host fan-out at other concurrencies (library, fresh process each).
    const sweepAt = FLEET_SIZES.includes(1000) ? 1000 : max;
    const base = lib.get(sweepAt)!;
    for (const c of CONCURRENCY_SWEEP) {
      // Failures allowed here (reported on stderr): past some concurrency, connection attempts time out.
      const u = medianUsage([1, 2, 3].map(() => runLibrary(files.get(sweepAt)!, env, c, true)));
      rows.push({ bench: "fanout", metric: `library, ${sweepAt} hosts, concurrency ${c}: wall`, value: u.wallMs, unit: "ms", baseline: "default concurrency wall", baselineValue: base.wallMs, ratio: u.wallMs / base.wallMs });
      rows.push({ bench: "fanout", metric: `library, ${sweepAt} hosts, concurrency ${c}: client CPU`, value: u.cpuMs, unit: "ms", baseline: "default concurrency CPU", baselineValue: base.cpuMs, ratio: u.cpuMs / base.cpuMs });
    }
    rows.push({ bench: "fanout", metric: "simulator CPU per call (TLS + auth + relay)", value: simCpuMs / simCalls, unit: "ms", baseline: "-", baselineValue: 0, ratio: 0 });
    rows.push({ bench: "fanout", metric: `simulator busiest share of a core, ${max} hosts`, value: 100 * simBusyAtMax, unit: "%", baseline: "-", baselineValue: 0, ratio: 0 });
  } finally {
    await sim.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function streamMiBps(client: Diagnostics, pid: number, rounds: number): Promise<number> {
  let bytes = 0;
  const t0 = performance.now();
  for (let i = 0; i < rounds; i++) {
    for await (const m of client.streamBinary({ pid })) if (m.payload?.$case === "chunk") bytes += m.payload.value.length;
  }
  return bytes / (1024 * 1024) / ((performance.now() - t0) / 1000);
}

async function tunnel(): Promise<void> {
  const [fixture, gopsd, sshd] = await Promise.all([startFixture("agentprog"), startGopsd({ args: ["--host-name", "bench"] }), startSshd()]);
  const t0 = performance.now();
  const tun = await openSshTunnel({
    target: { host: sshd.host, port: sshd.port, user: sshd.user, identityFiles: [sshd.identityFile], knownHostsFiles: [sshd.knownHostsFile], agentSocket: "" },
    forward: gopsd.address,
  });
  const tunnelUpMs = performance.now() - t0;
  const direct = connect(gopsd.address);
  const viaSsh = connect(tun.localAddress);
  try {
    const call = (c: Diagnostics) => () => c.memStats({ pid: fixture.pid });
    await timeAsync(50, call(direct));
    await timeAsync(50, call(viaSsh));
    const d: number[] = [];
    const s: number[] = [];
    for (let round = 0; round < 5; round++) {
      d.push(...(await timeAsync(100, call(direct))));
      s.push(...(await timeAsync(100, call(viaSsh))));
    }
    const dp = percentile(d, 50);
    const sp = percentile(s, 50);
    rows.push({ bench: "tunnel", metric: "ssh tunnel + SSH handshake (connection up)", value: tunnelUpMs, unit: "ms", baseline: "-", baselineValue: 0, ratio: 0 });
    rows.push({ bench: "tunnel", metric: "memstats via ssh2 tunnel p50", value: sp, unit: "ms", baseline: "memstats direct p50", baselineValue: dp, ratio: sp / dp, goal: "<= 2 ms" });
    rows.push({ bench: "tunnel", metric: "memstats via ssh2 tunnel p90", value: percentile(s, 90), unit: "ms", baseline: "memstats direct p90", baselineValue: percentile(d, 90), ratio: percentile(s, 90) / percentile(d, 90) });
    await streamMiBps(direct, fixture.pid, 2);
    await streamMiBps(viaSsh, fixture.pid, 2);
    const dm = await streamMiBps(direct, fixture.pid, 10);
    const sm = await streamMiBps(viaSsh, fixture.pid, 10);
    rows.push({ bench: "tunnel", metric: "StreamBinary via ssh2 tunnel", value: sm, unit: "MiB/s", baseline: "StreamBinary direct", baselineValue: dm, ratio: sm / dm, goal: "ratio >= 0.5" });
  } finally {
    direct.close();
    viaSsh.close();
    tun.close();
    await Promise.all([gopsd.stop(), fixture.stop(), sshd.stop()]);
  }
}

const only = process.argv[2];
if (!only || only === "fanout") await fanout();
if (!only || only === "tunnel") await tunnel();

const fmt = (n: number) => n.toFixed(3).padStart(10);
console.log(`${"bench".padEnd(8)} ${"metric".padEnd(44)} ${"value".padStart(10)} unit  ${"baseline".padStart(10)} ${"ratio".padStart(6)}  goal`);
for (const r of rows) {
  console.log(
    `${r.bench.padEnd(8)} ${r.metric.padEnd(44)} ${fmt(r.value)} ${r.unit.padEnd(5)} ${fmt(r.baselineValue)} ${r.ratio.toFixed(2).padStart(6)}  ${r.goal ?? ""}  (baseline: ${r.baseline})`,
  );
}
console.log(JSON.stringify({ date: new Date().toISOString(), rows }));
process.exit(0);
