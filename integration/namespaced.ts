// Test helpers for processes in their own kernel namespaces (needs root): a realistic "container" made with
//   unshare --net --pid --mount-proc --fork sh -c 'ip link set lo up; exec PROG ARGS'
// (its own loopback, pid 1 inside), and a census of the relay processes gopsd starts for such agents.
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
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
  /** The fixture to run (default agentprog); both print "READY pid=N port=N". */
  program?: "agentprog" | "httpprog";
  /** agentprog flags, e.g. ["-addr", "0.0.0.0:0"] or ["-mode", "hang"]. */
  args?: string[];
  env?: Record<string, string>;
  /**
   * Shell commands run inside the new namespaces before the program starts (its own mount namespace, private:
   * nothing shows outside), e.g. files a container would have, mounted on a tmpfs.
   */
  setup?: string;
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
  const binaries = await buildFixtures();
  const program = binaries[opts.program ?? "agentprog"];
  const configDir = await mkdtemp(path.join(tmpdir(), "gopsctl-ns-"));
  const holder = spawn(
    "unshare",
    ["--net", "--pid", "--mount-proc", "--fork", "sh", "-c", `ip link set lo up && ${opts.setup ?? ":"} && exec "$0" "$@"`, program, ...(opts.args ?? [])],
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

// ---------------------------------------------------------------------------------------------------------
// Real cgroups with the runtimes' path shapes, and the runtimes' state files that name containers and pods.

/** This machine's cgroup v1 pids hierarchy (see containers-and-pprof.md). */
export const CGROUP_ROOT = "/sys/fs/cgroup/pids";

/** Cgroups a test creates under the pids hierarchy, removed (deepest first) by remove() once their processes are gone. */
export class TestCgroups {
  private readonly made: string[] = [];

  /** Moves `pid` into the cgroup at `rel` (relative to the hierarchy), creating it and its parents. */
  place(rel: string, pid: number): void {
    this.make(rel);
    writeFileSync(path.join(CGROUP_ROOT, rel, "cgroup.procs"), String(pid));
  }

  /** Creates the cgroup at `rel` and its parents (those that did not exist are removed by remove()). */
  make(rel: string): void {
    const parts = rel.split("/").filter(Boolean);
    for (let i = 1; i <= parts.length; i++) {
      const dir = path.join(CGROUP_ROOT, ...parts.slice(0, i));
      try {
        mkdirSync(dir);
        this.made.push(dir);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      }
    }
  }

  /** Removes what place() created; a cgroup goes once its processes have exited (retried for 1 s each). */
  async remove(): Promise<void> {
    for (const dir of this.made.splice(0).reverse()) {
      for (let i = 0; i < 20; i++) {
        try {
          rmdirSync(dir);
          break;
        } catch {
          await sleep(50);
        }
      }
    }
  }
}

/**
 * Docker's state for container `id` under `dockerRoot`: containers/<id>/config.v2.json with its name and, running,
 * its init process `pid` (State.Pid, which gopsd checks is in that container's cgroup before it shows the name).
 */
export async function writeDockerContainer(dockerRoot: string, id: string, name: string, pid: number): Promise<void> {
  const dir = path.join(dockerRoot, "containers", id);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, "config.v2.json"), JSON.stringify({ ID: id, Name: `/${name}`, State: { Running: true, Pid: pid } }));
}

/**
 * A kubelet-style pod directory under `kubeletRoot`: pods/<uid>/etc-hosts ending with the pod's IP and host name
 * (its name), and the projected service-account volume's namespace file.
 */
export async function writeKubeletPod(kubeletRoot: string, uid: string, pod: { name: string; namespace: string }): Promise<void> {
  const dir = path.join(kubeletRoot, "pods", uid);
  const sa = path.join(dir, "volumes", "kubernetes.io~projected", "kube-api-access-x7k2p");
  await mkdir(sa, { recursive: true });
  await writeFile(
    path.join(dir, "etc-hosts"),
    `# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\n10.244.1.7\t${pod.name}\n`,
  );
  await writeFile(path.join(sa, "namespace"), pod.namespace);
}
