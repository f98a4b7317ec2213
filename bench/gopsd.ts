// gopsd as deployed: the bundled bin (dist/server/main.js, `npm run build` first) with TLS, JWT verification and an
// audit file, and what it costs.
//
//  overhead   Stack, MemStats and Version through gopsd (TLS + bearer token) against the same agent call made
//             straight to the agent over TCP, 2,000 calls each after a warm-up, interleaved in rounds: p50 and p99
//             differences, and gopsd's CPU per call (/proc/PID/stat: steadier than wall time on a shared machine).
//  footprint  gopsd's RSS (/proc/PID/status VmRSS) and CPU (/proc/PID/stat utime+stime) idle for 60 s after start,
//             its peak RSS while 200 concurrent clients (each its own TLS channel) call it, a health check answered
//             during that load, and how soon after the load RSS is back under 80 MB (checked for 60 s).
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { ChannelCredentials, createChannel, createClient } from "nice-grpc";
import { HealthDefinition } from "nice-grpc-server-health";
import { connect, type DiagnosticsHandle } from "../client/index.js";
import { gopsdAddress, startFixture } from "../integration/harness.js";
import { agentAddress, callAgent } from "../server/agent/client.js";
import { Signal } from "../server/agent/signals.js";
import { percentile } from "./measure.js";
import type { Row } from "./rows.js";
import { secureSetup } from "./secure-setup.js";

const repoRoot = path.join(path.dirname(fileURLToPath(import.meta.url)), "..");

export interface SecureGopsd {
  address: string;
  pid: number;
  caFile: string;
  token: string;
  /** A client with TLS (verifying the CA) and the token. */
  client(): DiagnosticsHandle;
  stop(): Promise<void>;
}

/** Starts dist/server/main.js with a fresh CA, server certificate, HS256 key, token and audit file. */
export async function startSecureGopsd(extraArgs: string[] = []): Promise<SecureGopsd> {
  const { dir, caFile, token, gopsdArgs } = secureSetup("gopsctl-bench-gopsd-", ["gops:read", "gops:stack"]);
  // The bin as deployed (its shebang's V8 flags apply), or BENCH_GOPSD_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof"
  // to run it under node with those flags instead.
  const nodeArgs = process.env.BENCH_GOPSD_NODE_ARGS?.split(" ").filter(Boolean);
  const bin = path.join(repoRoot, "dist/server/main.js");
  const proc: ChildProcess = spawn(
    nodeArgs === undefined ? bin : process.execPath,
    [
      ...(nodeArgs === undefined ? [] : [...nodeArgs, bin]),
      ...gopsdArgs,
      ...extraArgs,
    ],
    { cwd: dir, stdio: ["ignore", "ignore", "pipe"] },
  );
  const address = await gopsdAddress(proc);
  return {
    address,
    pid: proc.pid!,
    caFile,
    token,
    client: () => connect(address, { tls: { ca: readFileSync(caFile), serverName: "localhost" }, token }),
    async stop() {
      proc.kill("SIGTERM");
      await new Promise((resolve) => (proc.exitCode !== null ? resolve(undefined) : proc.once("exit", resolve)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** VmRSS of a process, MB. */
export function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m![1]) / 1024;
}

/** utime + stime of a process, seconds. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ is 100 on Linux
}

async function drain(stream: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of stream);
}

export async function gopsdSecureOverhead(rows: Row[], calls = 2000, warmupRounds = 500): Promise<void> {
  const fixture = await startFixture("agentprog");
  const gopsd = await startSecureGopsd();
  const client = gopsd.client();
  const ca = readFileSync(gopsd.caFile);
  const healthChannel = createChannel(gopsd.address, ChannelCredentials.createSsl(ca), { "grpc.ssl_target_name_override": "localhost" });
  try {
    const addr = agentAddress("127.0.0.1", fixture.port!);
    const agent = (sig: number) => () => callAgent(addr, sig, undefined, { connectTimeoutMs: 3000, deadlineMs: 10_000 });
    const pid = fixture.pid;
    // The floor of any call through gopsd on this machine: a health check over the same TLS channel (public, no work
    // behind the transport and the middleware chain).
    const health = createClient(HealthDefinition, healthChannel);
    const kinds = [
      { name: "Stack", direct: agent(Signal.StackTrace), via: () => drain(client.stack({ pid }, { deadline: 10_000 })) },
      { name: "MemStats", direct: agent(Signal.MemStats), via: () => client.memStats({ pid }, { deadline: 10_000 }) },
      { name: "Version", direct: agent(Signal.Version), via: () => client.version({ pid }, { deadline: 10_000 }) },
      { name: "gRPC+TLS floor (health check)", direct: agent(Signal.Version), via: () => health.check({ service: "" }) },
    ].map((k) => ({ ...k, d: [] as number[], g: [] as number[] }));

    // Warm-up, every kind alike: V8 tiers gopsd's hot path up over its first ~2,000 calls (a CPU profile shows the
    // optimising compiler busy until then), and what is measured is the overhead of a running daemon, not of its JIT
    // warm-up. Its CPU per call is reported next to the measured one.
    const cpuWarm0 = cpuSeconds(gopsd.pid);
    for (let i = 0; i < warmupRounds; i++) for (const k of kinds) await k.direct(), await k.via();
    const cpuWarm = (cpuSeconds(gopsd.pid) - cpuWarm0) / (warmupRounds * kinds.length);

    // Measured in rounds of one call of every kind, direct and via gopsd, which goes first alternating: every kind
    // sees the same drift of a shared machine and the same state of gopsd, and neither path always runs right
    // after the other (gopsd finishing a call while the next direct one runs).
    const time = async (f: () => Promise<unknown>, into: number[]) => {
      const t0 = performance.now();
      await f();
      into.push(performance.now() - t0);
    };
    const cpu0 = cpuSeconds(gopsd.pid);
    for (let i = 0; i < calls; i++) {
      for (const k of kinds) {
        if (i % 2 === 0) await time(k.direct, k.d), await time(k.via, k.g);
        else await time(k.via, k.g), await time(k.direct, k.d);
      }
    }
    const cpuMeasured = (cpuSeconds(gopsd.pid) - cpu0) / (calls * kinds.length);

    for (const { name, d, g } of kinds) {
      for (const p of [50, 99]) {
        const dp = percentile(d, p);
        const gp = percentile(g, p);
        const goal = p === 50 ? 0.8 : 3;
        const floor = name.startsWith("gRPC");
        rows.push({
          bench: "overhead",
          metric: floor ? `${name} p${p} − direct Version p${p}` : `${name} via gopsd (TLS+JWT) p${p} − direct p${p}`,
          value: gp - dp,
          unit: "ms",
          baseline: `direct agent call p${p}`,
          baselineValue: dp,
          ratio: gp / dp,
          ...(floor ? {} : { goal: `<= +${goal} ms`, ok: gp - dp <= goal }),
        });
      }
    }
    rows.push({
      bench: "overhead",
      metric: `gopsd CPU per call, measured calls (the four kinds mixed)`,
      value: cpuMeasured * 1000,
      unit: "ms",
      baseline: `the same over the ${warmupRounds * kinds.length} warm-up calls`,
      baselineValue: cpuWarm * 1000,
      ratio: cpuMeasured / cpuWarm,
    });
  } finally {
    healthChannel.close();
    client.close();
    await gopsd.stop();
    await fixture.stop();
  }
}

export async function gopsdFootprint(rows: Row[], opts = { idleSec: 60, clients: 200, callsPerClient: 100, recoverSec: 60 }): Promise<void> {
  const fixture = await startFixture("agentprog");
  const gopsd = await startSecureGopsd();
  try {
    // Idle: let start-up settle, then RSS and CPU over idleSec.
    const probe = gopsd.client();
    await probe.version({ pid: fixture.pid }, { deadline: 10_000 });
    probe.close();
    await sleep(5_000);
    const cpu0 = cpuSeconds(gopsd.pid);
    await sleep(opts.idleSec * 1000);
    const idleCpu = (cpuSeconds(gopsd.pid) - cpu0) / opts.idleSec;
    const idleRss = rssMb(gopsd.pid);
    const nodeBaseline = baselineNodeRssMb();
    rows.push({ bench: "gopsd", metric: "idle RSS", value: idleRss, unit: "MB", baseline: "node -e 'setInterval(()=>{},1e6)' RSS", baselineValue: nodeBaseline, ratio: idleRss / nodeBaseline, goal: "<= 55 MB", ok: idleRss <= 55 });
    rows.push({ bench: "gopsd", metric: `idle CPU over ${opts.idleSec} s`, value: idleCpu * 100, unit: "% core", baseline: "one core", baselineValue: 100, ratio: idleCpu, goal: "< 1 %", ok: idleCpu < 0.01 });

    // Load: many clients at once, each with its own TLS channel; health asked during the load.
    let peak = idleRss;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMb(gopsd.pid))), 50);
    const ca = readFileSync(gopsd.caFile);
    const clients = Array.from({ length: opts.clients }, () => gopsd.client());
    let healthOk = 0;
    let healthAsked = 0;
    const healthChannel = createChannel(gopsd.address, ChannelCredentials.createSsl(ca), { "grpc.ssl_target_name_override": "localhost" });
    const health = createClient(HealthDefinition, healthChannel);
    let loading = true;
    const healthLoop = (async () => {
      while (loading) {
        healthAsked++;
        try {
          await health.check({ service: "" }, { signal: AbortSignal.timeout(2_000) });
          healthOk++;
        } catch {
          // counted as not answered
        }
        await sleep(100);
      }
    })();
    let failed = 0;
    const t0 = performance.now();
    await Promise.all(
      clients.map(async (c) => {
        for (let i = 0; i < opts.callsPerClient; i++) {
          try {
            await (i % 2 === 0 ? c.version({ pid: fixture.pid }, { deadline: 30_000 }) : c.memStats({ pid: fixture.pid }, { deadline: 30_000 }));
          } catch {
            failed++;
          }
        }
      }),
    );
    const loadMs = performance.now() - t0;
    loading = false;
    await healthLoop;
    clearInterval(sampler);
    for (const c of clients) c.close();
    healthChannel.close();
    const total = opts.clients * opts.callsPerClient;
    rows.push({ bench: "gopsd", metric: `peak RSS, ${opts.clients} clients × ${opts.callsPerClient} calls (${failed} failed, ${(loadMs / 1000).toFixed(1)} s)`, value: peak, unit: "MB", baseline: "idle RSS", baselineValue: idleRss, ratio: peak / idleRss, goal: "<= 150 MB", ok: peak <= 150 && failed === 0 });
    rows.push({ bench: "gopsd", metric: `health answered during the load (${healthOk}/${healthAsked})`, value: healthOk, unit: "answers", baseline: "asked", baselineValue: healthAsked, ratio: healthAsked === 0 ? 0 : healthOk / healthAsked, goal: "all", ok: healthAsked > 0 && healthOk === healthAsked });
    void total;

    // Recovery: seconds until RSS is under 80 MB again.
    const r0 = performance.now();
    let recovered: number | undefined;
    let last = rssMb(gopsd.pid);
    while ((performance.now() - r0) / 1000 < opts.recoverSec) {
      last = rssMb(gopsd.pid);
      if (last < 80) {
        recovered = (performance.now() - r0) / 1000;
        break;
      }
      await sleep(500);
    }
    rows.push({
      bench: "gopsd",
      metric: recovered === undefined ? `RSS after the load: still ${last.toFixed(0)} MB at ${opts.recoverSec} s` : `seconds until RSS < 80 MB after the load (${last.toFixed(0)} MB)`,
      value: recovered ?? opts.recoverSec,
      unit: "s",
      baseline: "allowed",
      baselineValue: opts.recoverSec,
      ratio: (recovered ?? opts.recoverSec) / opts.recoverSec,
      goal: "< 60 s",
      ok: recovered !== undefined,
    });
  } finally {
    await gopsd.stop();
    await fixture.stop();
  }
}

/** RSS of an idle node process (the floor any Node daemon starts from), MB. */
function baselineNodeRssMb(): number {
  const out = execFileSync(process.execPath, ["-e", "setTimeout(() => { process.stdout.write(require('fs').readFileSync('/proc/self/status','utf8')); }, 200)"], { encoding: "utf8" });
  return Number(/VmRSS:\s+(\d+) kB/.exec(out)![1]) / 1024;
}
