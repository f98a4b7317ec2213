// Benchmark (not a test): the cost of `gopsctl top`. Part of `npm run bench`; prints a table, then one JSON line.
//
//  gopsd   CPU of a gopsd (as % of one core) while one client, then two clients, watch 50 Go processes (our agent
//          fixture) at a 1 s interval for WINDOW s, against the same gopsd idle for the same time. The two-watcher
//          figure shows that watchers share one sampler.
//  many    the red-team case of issue 19 (root only): STREAMS WatchStats streams (16 connections) at 1 s over
//          NS_PROCESSES agents each in its own network namespace: the time until every stream had its first sample
//          (a fresh gopsd), then for WINDOW s gopsd's peak RSS (VmHWM; goal < 256 MiB), the fewest rounds any stream
//          got (goal: every stream gets its rounds, stale marks allowed), and the share of process samples marked
//          stale.
//  cli     CPU of a `gopsctl top` process per refresh in a pipe (table per interval) across 2 hosts x 50 processes:
//          (CPU of a 1+N-refresh run - CPU of a 1-refresh run) / N, from dist/; and the in-process cost of one frame
//          (merge + outliers + sort + table) for 100 and 1000 rows.
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { connect } from "../client/index.js";
import { TopModel, renderTopTable } from "../cli/top/top-model.js";
import { AgentKind, type ProcessStats, type WatchStatsResponse } from "../proto/index.js";
import { repoRoot, startFixture, startGopsd, type Fixture } from "../integration/harness.js";
import { startNamespacedAgent, type Namespaced } from "../integration/namespaced.js";
import { percentile, procCpuMs, timeSync } from "./measure.js";

const PROCESSES = Number(process.env.BENCH_WATCH_PROCESSES ?? 50);
const WINDOW_S = Number(process.env.BENCH_WATCH_SECONDS ?? 15);
const REFRESHES = 10;
const STREAMS = Number(process.env.BENCH_WATCH_STREAMS ?? 384);
const NS_PROCESSES = Number(process.env.BENCH_WATCH_NS_PROCESSES ?? 120);
const CONNECTIONS = 16;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function gopsdCpuPercent(pid: number, during: () => Promise<void>): Promise<number> {
  const c0 = procCpuMs(pid);
  const t0 = performance.now();
  await during();
  return ((procCpuMs(pid) - c0) / (performance.now() - t0)) * 100;
}

async function watchFor(address: string, pids: number[], watchers: number): Promise<void> {
  const clients = Array.from({ length: watchers }, () => connect(address));
  const ctl = new AbortController();
  const loops = clients.map(async (c) => {
    try {
      for await (const s of c.watchStats({ intervalMs: 1000, pids }, { signal: ctl.signal })) {
        const stale = s.processes.filter((p) => p.staleFields.length > 0).length;
        if (s.processes.length !== pids.length || stale > 0) console.error(`sample ${s.seq}: ${s.processes.length} processes, ${stale} stale`);
      }
    } catch {
      // cancelled at the end of the window
    }
  });
  await sleep(WINDOW_S * 1000);
  ctl.abort();
  await Promise.all(loops);
  for (const c of clients) c.close();
}

/** gopsd's peak RSS in MiB (VmHWM). */
function peakRssMiB(pid: number): number {
  const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m![1]) / 1024;
}

/** STREAMS streams over NS_PROCESSES namespaced agents through a fresh gopsd: its peak RSS, rounds per stream, stale share. */
async function manyStreams(): Promise<{ rssMiB: number; idleRssMiB: number; firstMs: number; minRounds: number; maxRounds: number; staleShare: number; processes: number }> {
  const targets: Namespaced[] = [];
  const gopsd = await startGopsd({ args: ["--host-name", "many"] });
  try {
    for (let i = 0; i < NS_PROCESSES; i += 10) targets.push(...(await Promise.all(Array.from({ length: Math.min(10, NS_PROCESSES - i) }, () => startNamespacedAgent()))));
    const pids = targets.map((t) => t.pid);
    const gpid = gopsd.proc.pid!;
    const idleRssMiB = peakRssMiB(gpid);
    const clients = Array.from({ length: CONNECTIONS }, () => connect(gopsd.address));
    const ctl = new AbortController();
    const rounds = new Array<number>(STREAMS).fill(0);
    let samples = 0;
    let stale = 0;
    let measuring = false;
    const loops = rounds.map(async (_, i) => {
      try {
        for await (const s of clients[i % CONNECTIONS]!.watchStats({ intervalMs: 1000, pids }, { signal: ctl.signal })) {
          rounds[i]!++;
          if (measuring) {
            samples += s.processes.length;
            stale += s.processes.filter((p) => p.detail !== "").length;
          }
        }
      } catch {
        // cancelled at the end of the window
      }
    });
    // The first sample of every stream (a fresh gopsd: cold caches, 384 calls arriving at once), then the window.
    const t0 = performance.now();
    while (rounds.some((r) => r === 0) && performance.now() - t0 < 60_000) await sleep(100);
    const firstMs = performance.now() - t0;
    const before = [...rounds];
    measuring = true;
    await sleep(WINDOW_S * 1000);
    measuring = false;
    const inWindow = rounds.map((r, i) => r - before[i]!);
    ctl.abort();
    await Promise.all(loops);
    for (const c of clients) c.close();
    return {
      rssMiB: peakRssMiB(gpid),
      idleRssMiB,
      firstMs,
      minRounds: Math.min(...inWindow),
      maxRounds: Math.max(...inWindow),
      staleShare: samples === 0 ? 1 : stale / samples,
      processes: pids.length,
    };
  } finally {
    await Promise.all([gopsd.stop(), ...targets.map((t) => t.stop())]);
  }
}

function cliCpuMs(args: string[]): number {
  const out = spawnSync("/usr/bin/time", ["-f", "%U %S", process.execPath, path.join(repoRoot, "dist/cli/gopsctl.cjs"), ...args], {
    encoding: "utf8",
    maxBuffer: 64 << 20,
    env: { ...process.env, XDG_CONFIG_HOME: tmpdir() },
  });
  const [u, s] = (out.stderr.trim().split("\n").pop() ?? "").split(" ").map(Number);
  if (out.status !== 0 || s === undefined) throw new Error(`gopsctl top failed (${out.status}): ${out.stderr.slice(-500)}`);
  return (u! + s!) * 1000;
}

function fakeSample(host: string, n: number, seq: number): WatchStatsResponse {
  const processes: ProcessStats[] = Array.from({ length: n }, (_, i) => ({
    pid: 1000 + i,
    name: `svc-${i % 7}`,
    modulePath: `example.com/svc${i % 7}`,
    backend: AgentKind.AGENT_KIND_GOPS_AGENT,
    cpuPercent: (i * 7) % 100,
    rssBytes: 50e6 + i * 1e5,
    threads: 12,
    goroutines: 100 + ((i * 13) % 50) + (i === 3 ? seq * 50 : 0),
    heapInUseBytes: 30e6 + ((i * 31) % 100) * 1e4,
    heapObjects: 100_000 + i,
    gcCycles: i % 2,
    gcPauseNs: (i % 2) * 150_000,
    numGc: 100 + seq,
    gcPauseTotalNs: 1e7,
    gcCpuFraction: 0.002,
    gogc: 100,
    gogcSource: "env",
    gomaxprocs: 4,
    startTimeUnixMs: 1,
    unknownFields: [],
    staleFields: [],
    detail: "",
  }));
  return { host, timeUnixMs: Date.now(), intervalMs: 1000, seq, processes };
}

function frameMs(rows: number): number {
  const hosts = 10;
  const model = new TopModel();
  let seq = 0;
  return percentile(
    timeSync(30, () => {
      seq++;
      for (let h = 0; h < hosts; h++) model.update(`host-${h}`, fakeSample(`host-${h}`, rows / hosts, seq));
      renderTopTable(model.rows("goroutines"), true);
    }),
    50,
  );
}

const fixtures: Fixture[] = [];
const dir = mkdtempSync(path.join(tmpdir(), "gopsctl-bench-top-"));
const gopsds = await Promise.all([startGopsd({ args: ["--host-name", "b1"] }), startGopsd({ args: ["--host-name", "b2"] })]);
try {
  for (let i = 0; i < PROCESSES; i += 10) fixtures.push(...(await Promise.all(Array.from({ length: Math.min(10, PROCESSES - i) }, () => startFixture("agentprog")))));
  const pids = fixtures.map((f) => f.pid);
  const gpid = gopsds[0]!.proc.pid!;
  const idle = await gopsdCpuPercent(gpid, () => sleep(WINDOW_S * 1000));
  const one = await gopsdCpuPercent(gpid, () => watchFor(gopsds[0]!.address, pids, 1));
  const two = await gopsdCpuPercent(gpid, () => watchFor(gopsds[0]!.address, pids, 2));

  const fleet = path.join(dir, "fleet.yaml");
  writeFileSync(fleet, `hosts:\n${gopsds.map((g, i) => `  - name: b${i + 1}\n    address: "${g.address}"\n`).join("")}`);
  const base = ["--fleet", fleet, "--all", "top", "--interval", "1s", "--pid", pids.join(",")];
  const once = cliCpuMs([...base, "--iterations", "1"]);
  const many = cliCpuMs([...base, "--iterations", String(1 + REFRESHES)]);
  const perRefresh = (many - once) / REFRESHES;

  const rows = [
    { bench: "gopsd", metric: `CPU % of a core, ${PROCESSES} processes at 1s, 1 watcher`, value: one, baseline: `idle gopsd ${idle.toFixed(2)}%` },
    { bench: "gopsd", metric: `CPU % of a core, ${PROCESSES} processes at 1s, 2 watchers`, value: two, baseline: `1 watcher ${one.toFixed(2)}%` },
    { bench: "cli", metric: `CPU ms per refresh, 2 hosts x ${PROCESSES} processes, pipe`, value: perRefresh, baseline: `start-up + 1 refresh ${once.toFixed(0)} ms` },
    { bench: "cli", metric: "ms per frame in-process, 100 rows", value: frameMs(100), baseline: "" },
    { bench: "cli", metric: "ms per frame in-process, 1000 rows", value: frameMs(1000), baseline: "" },
  ];
  if (process.getuid?.() === 0) {
    const m = await manyStreams();
    rows.push(
      { bench: "many", metric: `gopsd peak RSS MiB, ${STREAMS} streams x ${m.processes} namespaced, ${WINDOW_S}s`, value: m.rssMiB, baseline: `before the streams ${m.idleRssMiB.toFixed(0)} MiB; goal < 256` },
      { bench: "many", metric: `ms until each of the ${STREAMS} streams had its first sample`, value: m.firstMs, baseline: "a fresh gopsd: cold caches" },
      { bench: "many", metric: `fewest rounds of any of the ${STREAMS} streams in the next ${WINDOW_S}s`, value: m.minRounds, baseline: `most ${m.maxRounds}; goal: every stream gets its rounds` },
      { bench: "many", metric: "share of process samples marked stale", value: m.staleShare, baseline: "stale marks allowed, no silence" },
    );
  }
  for (const r of rows) console.log(`${r.bench.padEnd(6)} ${r.metric.padEnd(58)} ${r.value.toFixed(2).padStart(8)}   ${r.baseline}`);
  console.log(JSON.stringify({ watchStats: rows }));
} finally {
  await Promise.all([...fixtures.map((f) => f.stop()), ...gopsds.map((g) => g.stop())]);
  rmSync(dir, { recursive: true, force: true });
}
