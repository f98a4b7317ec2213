// Test helpers for processes in their own kernel namespaces (needs root): a realistic "container" made with
//   unshare --net --pid --mount-proc --fork sh -c 'ip link set lo up; exec PROG ARGS'
// (its own loopback, pid 1 inside), and a census of the relay processes gopsd starts for such agents.
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { readFileSync, readdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { buildFixtures } from "./harness.js";

export interface Namespaced {
  /** The program's pid as the host sees it. */
  pid: number;
  /** Its pid inside its pid namespace (1: it is the namespace's init). */
  innerPid: number;
  port: number;
  configDir: string;
  /** The unshare process holding the namespaces. */
  holder: ChildProcess;
  stop(): Promise<void>;
}

export interface NamespacedOptions {
  /** agentprog flags, e.g. ["-addr", "0.0.0.0:0"] or ["-mode", "hang"]. */
  args?: string[];
  env?: Record<string, string>;
}

/** The children of `pid` (from /proc/PID/task/PID/children). */
export function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Starts agentprog in new network, pid and mount namespaces and waits for its READY line (10 s at most). */
export async function startNamespacedAgent(opts: NamespacedOptions = {}): Promise<Namespaced> {
  const { agentprog } = await buildFixtures();
  const configDir = await mkdtemp(path.join(tmpdir(), "gopsctl-ns-"));
  const holder = spawn(
    "unshare",
    ["--net", "--pid", "--mount-proc", "--fork", "sh", "-c", 'ip link set lo up && exec "$0" "$@"', agentprog, ...(opts.args ?? [])],
    { env: { ...process.env, GOPS_CONFIG_DIR: configDir, ...opts.env }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let stderr = "";
  holder.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const stop = async () => {
    if (holder.exitCode === null && holder.signalCode === null) {
      // SIGKILL of the holder's child (pid 1 inside) ends the namespace; then the holder exits.
      for (const c of childrenOf(holder.pid!)) {
        try {
          process.kill(c, "SIGKILL");
        } catch {
          // gone
        }
      }
      holder.kill("SIGKILL");
      await once(holder, "exit").catch(() => {});
    }
    await rm(configDir, { recursive: true, force: true });
  };
  try {
    const ready = new Promise<RegExpExecArray>((resolve, reject) => {
      let out = "";
      holder.stdout!.on("data", (d: Buffer) => {
        out += d.toString();
        const m = /READY pid=(\d+) port=(\d+)/.exec(out);
        if (m) resolve(m);
      });
      holder.once("exit", (code) => reject(new Error(`namespaced agent exited (${code}) before READY: ${stderr}`)));
      setTimeout(() => reject(new Error(`namespaced agent not ready within 10 s: ${stderr}`)), 10_000).unref();
    });
    const m = await ready;
    const [pid] = childrenOf(holder.pid!);
    if (pid === undefined) throw new Error("cannot find the namespaced agent's host pid");
    return { pid, innerPid: Number(m[1]), port: Number(m[2]), configDir, holder, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** Pids of the live relay processes started by process `owner` (they carry GOPSD_RELAY=<owner> in their environment). */
export function relayProcesses(owner: number): number[] {
  const marker = Buffer.from(`\0GOPSD_RELAY=${owner}\0`);
  const found: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const env = Buffer.concat([Buffer.from([0]), readFileSync(`/proc/${name}/environ`)]);
      if (env.includes(marker)) found.push(Number(name));
    } catch {
      // gone or a kernel thread
    }
  }
  return found;
}

/** Waits (2 s at most) until `owner` has no relay process left; returns those still there. */
export async function relaysLeft(owner: number): Promise<number[]> {
  for (let i = 0; i < 40; i++) {
    const left = relayProcesses(owner);
    if (left.length === 0) return left;
    await sleep(50);
  }
  return relayProcesses(owner);
}
