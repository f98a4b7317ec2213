// CLI start-up: the bin (dist/cli/gopsctl.cjs, `npm run build` first) against `node -e 0`, each run under
// /usr/bin/time -f '%e %M' for its peak RSS, wall time measured here around the spawn; runs interleaved with the
// baseline (baseline, command, baseline, command, ...) so drift on a shared machine hits both; medians of RUNS.
//   ps       a local `gopsctl ps` (reads this machine's /proc; no gopsd) with the machine the issue measured on:
//            ~500 processes (BENCH_PROCESSES sleepers on top of what runs) and a Go program with an agent; the
//            same with the single executable release/gopsctl-linux-x64 when `npm run release` made it, each also
//            as the median of pair ratios (a run over the `node -e 0` run just before it)
//   remote   `gopsctl --host ADDR version PID` against a gopsd on 127.0.0.1 (no TLS: the CLI's own start-up
//            and one gRPC call, not a handshake)
//   help     `gopsctl help`
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startFixture, startGopsd } from "../integration/harness.js";
import type { Row } from "./rows.js";

const repoRoot = path.join(path.dirname(fileURLToPath(import.meta.url)), "..");
const RUNS = Number(process.env.BENCH_STARTUP_RUNS ?? 21);
const PROCESSES = Number(process.env.BENCH_PROCESSES ?? 500);

interface Sample {
  wallMs: number;
  rssKb: number;
}

async function timed(args: string[], env: NodeJS.ProcessEnv, program = process.execPath): Promise<Sample> {
  const dir = mkdtempSync(path.join(tmpdir(), "gopsctl-startup-"));
  const out = path.join(dir, "time");
  try {
    const t0 = performance.now();
    const code = await new Promise<number | null>((resolve, reject) => {
      const p = spawn("/usr/bin/time", ["-f", "%e %M", "-o", out, program, ...args], { stdio: "ignore", env });
      p.once("error", reject);
      p.once("exit", resolve);
    });
    const wallMs = performance.now() - t0;
    if (code !== 0) throw new Error(`${program} ${args.join(" ")} exited ${code}`);
    const rssKb = Number(readFileSync(out, "utf8").trim().split("\n").pop()!.split(" ")[1]);
    return { wallMs, rssKb };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Medians of RUNS interleaved pairs, and the median of the pairs' ratios (each pair ran back to back). */
async function compare(args: string[], env: NodeJS.ProcessEnv, program?: string): Promise<{ cmd: Sample; base: Sample; pairRatio: number }> {
  const cmd: Sample[] = [];
  const base: Sample[] = [];
  await timed(args, env, program); // page cache
  for (let i = 0; i < RUNS; i++) {
    base.push(await timed(["-e", "0"], env));
    cmd.push(await timed(args, env, program));
  }
  return {
    cmd: { wallMs: median(cmd.map((s) => s.wallMs)), rssKb: median(cmd.map((s) => s.rssKb)) },
    base: { wallMs: median(base.map((s) => s.wallMs)), rssKb: median(base.map((s) => s.rssKb)) },
    pairRatio: median(cmd.map((s, i) => s.wallMs / base[i]!.wallMs)),
  };
}

export async function startup(rows: Row[]): Promise<void> {
  const bin = path.join(repoRoot, "dist/cli/gopsctl.cjs");
  const seaBin = path.join(repoRoot, "release/gopsctl-linux-x64");
  // No config or fleet file of the user's: the CLI reads none.
  const home = mkdtempSync(path.join(tmpdir(), "gopsctl-startup-home-"));
  const env = { PATH: process.env.PATH, HOME: home, XDG_CONFIG_HOME: path.join(home, ".config") };
  const wallRow = (metric: string, r: { cmd: Sample; base: Sample }, goal: number): Row => ({
    bench: "startup",
    metric,
    value: r.cmd.wallMs,
    unit: "ms",
    baseline: "node -e 0",
    baselineValue: r.base.wallMs,
    ratio: r.cmd.wallMs / r.base.wallMs,
    goal: `<= ${goal}x`,
    ok: r.cmd.wallMs / r.base.wallMs <= goal,
  });
  const pairRow = (metric: string, r: { cmd: Sample; base: Sample; pairRatio: number }, goal: number): Row => ({
    bench: "startup",
    metric,
    value: r.pairRatio,
    unit: "x",
    baseline: "node -e 0 run just before",
    baselineValue: 1,
    ratio: r.pairRatio,
    goal: `<= ${goal}x`,
    ok: r.pairRatio <= goal,
  });
  const fixture = await startFixture("agentprog");
  const sleepers: ChildProcess[] = [];
  try {
    const running = readdirSync("/proc").filter((n) => /^\d+$/.test(n)).length;
    for (let i = running; i < PROCESSES; i++) sleepers.push(spawn("sleep", ["600"], { stdio: "ignore" }));
    const total = readdirSync("/proc").filter((n) => /^\d+$/.test(n)).length;
    const ps = await compare([bin, "ps"], env);
    // The single executable (npm run release), when built: the same ps, as pair ratios beside the npm bin's.
    const sea = existsSync(seaBin) ? await compare(["ps"], env, seaBin) : undefined;
    for (const s of sleepers.splice(0)) s.kill("SIGKILL");
    rows.push(wallRow(`gopsctl ps (local, ${total} processes) wall, median of ${RUNS}`, ps, 1.5));
    rows.push(pairRow(`gopsctl ps (npm bin), median of ${RUNS} pair ratios`, ps, 1.5));
    if (sea !== undefined) {
      rows.push(wallRow(`gopsctl-linux-x64 ps (single executable) wall, median of ${RUNS}`, sea, 1.3));
      rows.push(pairRow(`gopsctl-linux-x64 ps (single executable), median of ${RUNS} pair ratios`, sea, 1.3));
    }
    rows.push({ bench: "startup", metric: "gopsctl ps (local) peak RSS", value: ps.cmd.rssKb / 1024, unit: "MB", baseline: "node -e 0", baselineValue: ps.base.rssKb / 1024, ratio: ps.cmd.rssKb / ps.base.rssKb, goal: "<= 1.5x", ok: ps.cmd.rssKb / ps.base.rssKb <= 1.5 });
    const help = await compare([bin, "help"], env);
    rows.push(wallRow(`gopsctl help wall, median of ${RUNS}`, help, 1.2));
    const gopsd = await startGopsd();
    try {
      const remote = await compare([bin, "--host", gopsd.address, "version", String(fixture.pid)], env);
      rows.push(wallRow(`gopsctl --host ADDR version PID wall, median of ${RUNS}`, remote, 2));
    } finally {
      await gopsd.stop();
    }
  } finally {
    for (const s of sleepers) s.kill("SIGKILL");
    await fixture.stop();
    rmSync(home, { recursive: true, force: true });
  }
}
