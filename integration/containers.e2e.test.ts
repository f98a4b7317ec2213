// Go programs in their own network and pid namespaces (unshare --net --pid --mount-proc --fork: a container
// without a runtime): found with their verified agent, and diagnosed through a relay inside their namespace,
// locally and through a real gopsd, with nothing left behind. Real cgroups with the runtimes' path shapes name
// the container and pod; a kubelet-style pod directory names the pod. Needs root.
import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { spawn, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { connect } from "../client/index.js";
import { createLocalDiagnostics } from "../client/local.js";
import type { Diagnostics } from "../common/diagnostics.js";
import { GopsError, Status } from "../common/errors.js";
import { AgentState, ContainerRuntime, PodQosClass, ProfileKind } from "../proto/index.js";
import { gopsdCommand, startGopsd, type Gopsd } from "./harness.js";
import {
  CGROUP_ROOT,
  childrenOf,
  relaysLeft,
  startNamespacedAgent,
  TestCgroups,
  writeDockerContainer,
  writeKubeletPod,
  type Namespaced,
} from "./namespaced.js";

const root = process.getuid?.() === 0;
const skip = root ? false : "needs root (unshare, nsenter, cgroups)";

async function collect(stream: AsyncIterable<{ chunk?: Buffer } | { payload?: { $case: string; value: unknown } }>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const m of stream) {
    if ("chunk" in m && m.chunk) parts.push(m.chunk);
    if ("payload" in m && m.payload?.$case === "chunk") parts.push(m.payload.value as Buffer);
  }
  return Buffer.concat(parts);
}

/** Everything the issue asks to work on a namespaced agent, through one Diagnostics. */
async function diagnose(d: Diagnostics, pid: number): Promise<void> {
  const stack = (await collect(d.stack({ pid }))).toString();
  assert.match(stack, /^goroutine \d+ \[/m, "a goroutine dump");
  const mem = await d.memStats({ pid });
  assert.ok((mem.stats?.heapAlloc ?? 0) > 0, "memstats parsed");
  const before = mem.stats!.numGc;
  await d.forceGC({ pid });
  const after = await d.memStats({ pid });
  assert.ok(after.stats!.numGc > before, "the GC ran in the namespaced process");
  const heap = await collect(d.streamProfile({ pid, kind: ProfileKind.PROFILE_KIND_HEAP }));
  assert.deepEqual([...heap.subarray(0, 2)], [0x1f, 0x8b], "a gzip pprof heap profile");
  const trace = await collect(d.streamTrace({ pid }));
  assert.match(trace.subarray(0, 16).toString("latin1"), /^go 1\.\d+ trace/, "an execution trace");
}

describe("agents in their own network and pid namespaces", { skip }, () => {
  const targets: Namespaced[] = [];
  let loopback: Namespaced;
  let wildcard: Namespaced;
  let gopsd: Gopsd;
  let decoy: Server;
  let decoyBytes = 0;
  const local = createLocalDiagnostics({ hostName: "containers-test" });

  before(async () => {
    const env = { FIXTURE_TRACE_SECONDS: "1" };
    [loopback, wildcard] = await Promise.all([
      startNamespacedAgent({ env }),
      startNamespacedAgent({ env, args: ["-addr", "0.0.0.0:0"] }),
    ]);
    targets.push(loopback, wildcard);
    // A decoy on the loopback agent's port in OUR namespace: a wrong dial would reach it.
    decoy = createServer((s) => {
      s.on("data", (d) => (decoyBytes += d.length));
      s.end("go1.99 decoy\n");
    });
    await new Promise<void>((resolve, reject) => decoy.once("error", reject).listen(loopback.port, "127.0.0.1", resolve));
    gopsd = await startGopsd();
  });

  after(async () => {
    local.close();
    decoy?.close();
    await gopsd?.stop();
    await Promise.all(targets.map((t) => t.stop()));
  });

  it("lists them with their inner pid and a verified agent in their namespace", async () => {
    const list = await local.listProcesses({});
    for (const t of [loopback, wildcard]) {
      const p = list.processes.find((x) => x.pid === t.pid);
      assert.ok(p, `pid ${t.pid} is listed`);
      assert.equal(t.innerPid, 1, "the program is pid 1 in its namespace");
      assert.equal(p.nsPid, 1);
      assert.equal(p.agent?.state, AgentState.AGENT_STATE_LISTENING, p.agent?.detail);
      assert.match(p.agent!.networkNamespace ?? "", /^net:\[\d+\]$/);
      // Go binds 0.0.0.0:0 as a dual-stack [::] socket: loopback of either family is dialled.
      assert.ok([`127.0.0.1:${t.port}`, `[::1]:${t.port}`].includes(p.agent!.address), p.agent!.address);
      assert.match(p.agent!.portFile, new RegExp(`/${t.innerPid}$`), "the port file is named after the inner pid");
    }
    const details = await local.getProcess({ pid: loopback.pid });
    assert.equal(details.process?.nsPid, 1);
    assert.deepEqual(details.nsPids, [loopback.pid, 1]);
  });

  it("stack, memstats, gc, heap profile and trace work through the local backend (agent on 127.0.0.1 and on 0.0.0.0)", async () => {
    await diagnose(local, loopback.pid);
    await diagnose(local, wildcard.pid);
    assert.deepEqual(await relaysLeft(process.pid), [], "no relay process stays behind");
  });

  it("and through a real gopsd", async () => {
    const client = connect(gopsd.address);
    try {
      await diagnose(client, loopback.pid);
      await diagnose(client, wildcard.pid);
      const v = await client.version({ pid: loopback.pid });
      assert.match(v.goVersion, /^go1\./);
    } finally {
      client.close();
    }
    assert.deepEqual(await relaysLeft(gopsd.proc.pid!), [], "no relay process stays behind in gopsd");
  });

  it("never sends a byte to the same port in gopsd's own namespace", () => {
    assert.equal(decoyBytes, 0);
  });

  it("an abandoned stream (Ctrl-C) and a deadline kill the relay at once", async () => {
    const ctl = new AbortController();
    const trace = local.streamTrace({ pid: loopback.pid }, { signal: ctl.signal });
    const it = trace[Symbol.asyncIterator]();
    const first = await it.next(); // metadata: the relay is running, the agent is tracing
    assert.equal(first.done, false);
    ctl.abort();
    await assert.rejects(it.next(), (e: unknown) => e instanceof GopsError && e.code === Status.CANCELLED);
    assert.deepEqual(await relaysLeft(process.pid), []);

    const hung = await startNamespacedAgent({ args: ["-mode", "hang"] });
    targets.push(hung);
    const impatient = createLocalDiagnostics({ hostName: "t", agentTimeouts: { deadlineMs: { Version: 700 } } });
    await assert.rejects(impatient.version({ pid: hung.pid }), (e: unknown) => e instanceof GopsError && e.code === Status.DEADLINE_EXCEEDED);
    assert.deepEqual(await relaysLeft(process.pid), []);
  });

  it("a process that exits mid-call gets NOT_FOUND, not a hang", async () => {
    const hung = await startNamespacedAgent({ args: ["-mode", "hang"] });
    targets.push(hung);
    const call = assert.rejects(local.version({ pid: hung.pid }, { deadline: 8_000 }), (e: unknown) => {
      assert.ok(e instanceof GopsError, String(e));
      assert.equal(Status[e.code], "NOT_FOUND", e.message);
      return true;
    });
    await sleep(300);
    await hung.stop();
    await call;
    // And a call after it: NOT_FOUND once reaped; until its parent's reaper collects it, a zombie (no executable).
    await assert.rejects(local.version({ pid: hung.pid }), (e: unknown) => {
      assert.ok(e instanceof GopsError, String(e));
      assert.ok(e.code === Status.NOT_FOUND || (e.code === Status.FAILED_PRECONDITION && /zombie/.test(e.message)), e.message);
      return true;
    });
    assert.deepEqual(await relaysLeft(process.pid), []);
  });
});

describe("50 namespaced targets at once", { skip }, () => {
  const COUNT = 50;
  const targets: Namespaced[] = [];

  after(async () => {
    await Promise.all(targets.map((t) => t.stop()));
  });

  it("ps lists every one with a verified agent, a call reaches each, and no relay stays behind", async () => {
    for (let i = 0; i < COUNT; i += 10) {
      targets.push(...(await Promise.all(Array.from({ length: Math.min(10, COUNT - i) }, () => startNamespacedAgent()))));
    }
    const local = createLocalDiagnostics({ hostName: "fifty" });
    await local.listProcesses({}); // cold: build info of the fixture binary
    const t0 = performance.now();
    const list = await local.listProcesses({});
    const warmMs = performance.now() - t0;
    const byPid = new Map(list.processes.map((p) => [p.pid, p]));
    for (const t of targets) {
      const p = byPid.get(t.pid);
      assert.equal(p?.agent?.state, AgentState.AGENT_STATE_LISTENING, `pid ${t.pid}: ${p?.agent?.detail}`);
      assert.match(p.agent.networkNamespace ?? "", /^net:/);
    }
    const namespaces = new Set(targets.map((t) => byPid.get(t.pid)!.agent!.networkNamespace));
    assert.equal(namespaces.size, COUNT, "each in its own network namespace");
    // The figure for the report (not a pass/fail bound: tests check behaviour, bench/ measures).
    console.log(`# ListProcesses with ${COUNT} namespaced targets (${list.processes.length} Go processes): ${warmMs.toFixed(1)} ms warm`);
    const versions = await Promise.all(targets.map((t) => local.version({ pid: t.pid })));
    assert.ok(versions.every((v) => /^go1\./.test(v.goVersion)));
    assert.deepEqual(await relaysLeft(process.pid), [], "no relay process stays behind");
  });
});

// ---------------------------------------------------------------------------------------------------------
// Containers from real cgroups (this machine's cgroup v1 pids hierarchy) and a kubelet-style pod directory.

// The runtimes' own anchored shapes (a container-shaped name anywhere else is no container), with ids and names
// of this run's own (another test file may use the same shapes at the same time).
const ID = randomBytes(32).toString("hex");
const POD_UID = randomUUID();
const POD_UID_2 = randomUUID();
const NAME_SUFFIX = randomBytes(4).toString("hex");

describe("the container of a process, from its real cgroup", { skip }, () => {
  const cgroups = new TestCgroups();
  const sleepers: ChildProcess[] = [];
  let state: string;

  before(async () => {
    state = await mkdtemp(path.join(tmpdir(), "gopsctl-runtime-state-"));
  });

  after(async () => {
    for (const s of sleepers) s.kill("SIGKILL");
    await cgroups.remove();
    await rm(state, { recursive: true, force: true });
  });

  /** A sleeping process moved into the cgroup at `rel` (created, with its parents, under the pids hierarchy). */
  function inCgroup(rel: string): number {
    const s = spawn("sleep", ["600"], { stdio: "ignore" });
    sleepers.push(s);
    cgroups.place(rel, s.pid!);
    return s.pid!;
  }

  it("Docker (cgroupfs driver), with its name from config.v2.json", async () => {
    const pid = inCgroup(`docker/${ID}`);
    await writeDockerContainer(path.join(state, "docker"), ID, "web-frontend", pid);
    const d = createLocalDiagnostics({ hostName: "t", containerSources: { dockerRoot: path.join(state, "docker") } });
    const p = (await d.listProcesses({ all: true })).processes.find((x) => x.pid === pid);
    assert.equal(p?.container?.runtime, ContainerRuntime.CONTAINER_RUNTIME_DOCKER);
    assert.equal(p.container.id, ID);
    assert.equal(p.container.name, "web-frontend");
    assert.equal(p.container.verified, true, "State.Pid runs in the container's cgroup");
    assert.equal((await d.getProcess({ pid })).process?.container?.id, ID);
  });

  it("a Kubernetes pod (burstable and guaranteed), named from a kubelet-style pod directory", async () => {
    const burstable = inCgroup(`kubepods/burstable/pod${POD_UID}/${ID}`);
    const guaranteed = inCgroup(`kubepods/pod${POD_UID_2}/${ID}`);
    const kubelet = path.join(state, "kubelet");
    await writeKubeletPod(kubelet, POD_UID, { name: "checkout-7d9f8b6c5-x2x4q", namespace: "shop" });
    const d = createLocalDiagnostics({ hostName: "t", containerSources: { kubeletRoot: kubelet } });
    const list = (await d.listProcesses({ all: true })).processes;
    const b = list.find((x) => x.pid === burstable)?.container;
    assert.equal(b?.id, ID);
    assert.equal(b.podUid, POD_UID);
    assert.equal(b.podQosClass, PodQosClass.POD_QOS_CLASS_BURSTABLE);
    assert.equal(b.podName, "checkout-7d9f8b6c5-x2x4q");
    assert.equal(b.podNamespace, "shop");
    assert.equal(b.verified, true, "named from the kubelet's pod directory");
    const g = list.find((x) => x.pid === guaranteed)?.container;
    assert.equal(g?.podUid, POD_UID_2);
    assert.equal(g.podQosClass, PodQosClass.POD_QOS_CLASS_GUARANTEED);
    assert.equal(g.podName, "", "no kubelet directory for that pod: no name invented");
    assert.equal(g.verified, false);
  });

  it("systemd-driver shapes: a CRI-O pod container, Podman, an nspawn machine, LXC; a process moved out has none", async () => {
    const uid_ = POD_UID.replace(/-/g, "_");
    const crio = inCgroup(`kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${uid_}.slice/crio-${ID}.scope`);
    const podman = inCgroup(`machine.slice/libpod-${ID}.scope`);
    const nspawn = inCgroup(`machine.slice/machine-build\\x2dbox${NAME_SUFFIX}.scope`);
    const lxc = inCgroup(`lxc.payload.db${NAME_SUFFIX}`);
    const d = createLocalDiagnostics({ hostName: "t" });
    const by = new Map((await d.listProcesses({ all: true })).processes.map((p) => [p.pid, p.container]));
    assert.equal(by.get(crio)?.runtime, ContainerRuntime.CONTAINER_RUNTIME_CRIO);
    assert.equal(by.get(crio)?.podUid, POD_UID);
    assert.equal(by.get(crio)?.podQosClass, PodQosClass.POD_QOS_CLASS_BEST_EFFORT);
    assert.equal(by.get(podman)?.runtime, ContainerRuntime.CONTAINER_RUNTIME_PODMAN);
    assert.equal(by.get(nspawn)?.name, `build-box${NAME_SUFFIX}`);
    assert.equal(by.get(lxc)?.name, `db${NAME_SUFFIX}`);
    assert.equal(by.get(lxc)?.verified, false, "an LXC name is the cgroup's, checked against no runtime state");
    // Moved back to the root cgroup: a new process would be needed for the cache (pid + start time) to change,
    // so a fresh core shows the change.
    writeFileSync(path.join(CGROUP_ROOT, "cgroup.procs"), String(lxc));
    const fresh = createLocalDiagnostics({ hostName: "t" });
    const again = (await fresh.listProcesses({ all: true })).processes.find((p) => p.pid === lxc);
    assert.equal(again?.container, undefined);
  });
});

// ---------------------------------------------------------------------------------------------------------
// gopsd in a container: its own pid namespace and /proc, the host's /proc mounted elsewhere (--proc-root).

describe("gopsd with the host's /proc mounted elsewhere (--proc-root)", { skip }, () => {
  const started: ChildProcess[] = [];
  let mnt: string;

  after(async () => {
    for (const c of started) {
      // gopsd is pid 1 of its pid namespace, a child of the inner unshare (this pid after its execs): killing
      // the parent alone would orphan it (with our stderr pipe open). Kill it first; its namespace goes with it.
      for (const pid of childrenOf(c.pid!)) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // gone
        }
      }
      c.kill("SIGKILL");
      c.stderr?.destroy();
    }
    if (mnt) await rm(mnt, { recursive: true, force: true });
  });

  /**
   * gopsd in a private mount namespace where the host's /proc is bind-mounted at `mnt` (nothing leaks out: the
   * mount namespace dies with it), then in a new pid namespace with its own /proc, like a container's.
   */
  async function gopsdInContainer(args: string[]): Promise<string> {
    const script = `mount --bind /proc "$0" && exec unshare --pid --fork --mount-proc -- "$@"`;
    // gopsd as the other end-to-end tests run it: the built bin under npm test, the sources by hand.
    const [program, leading] = gopsdCommand();
    const child = spawn(
      "unshare",
      ["--mount", "--propagation", "private", "--", "sh", "-c", script, mnt, program, ...leading, "--listen", "127.0.0.1:0", "--insecure", ...args],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    started.push(child);
    let err = "";
    return new Promise((resolve, reject) => {
      child.stderr!.on("data", (d: Buffer) => {
        err += d.toString();
        const m = /gopsd: listening on (\S+)/.exec(err);
        if (m) resolve(m[1]!);
      });
      child.once("exit", (code) => reject(new Error(`gopsd in a container exited (${code}): ${err}`)));
      setTimeout(() => reject(new Error(`gopsd in a container not ready: ${err}`)), 15_000).unref();
    });
  }

  it("lists the host's processes from that root, agents verified and reachable; without it, only its own", async () => {
    mnt = await mkdtemp(path.join(tmpdir(), "gopsctl-host-proc-"));
    const { startFixture } = await import("./harness.js");
    const fixture = await startFixture("agentprog");
    try {
      const withRoot = connect(await gopsdInContainer(["--proc-root", mnt]));
      const without = connect(await gopsdInContainer([]));
      try {
        const list = await withRoot.listProcesses({ all: true });
        const p = list.processes.find((x) => x.pid === fixture.pid);
        assert.ok(p, "the host's process is listed under its host pid");
        assert.equal(p.agent?.state, AgentState.AGENT_STATE_LISTENING, p.agent?.detail);
        assert.equal(p.agent?.networkNamespace, undefined, "same network namespace as gopsd: dialled directly");
        assert.ok(list.processes.some((x) => x.pid === process.pid), "this test process too");
        assert.match((await withRoot.version({ pid: fixture.pid })).goVersion, /^go1\./);
        const own = await without.listProcesses({ all: true });
        assert.equal(own.processes.find((x) => x.pid === fixture.pid), undefined, "its own /proc does not show the host");
        assert.ok(own.processes.length < 5, `only its own pid namespace: ${own.processes.map((x) => x.name).join(", ")}`);
      } finally {
        withRoot.close();
        without.close();
      }
    } finally {
      await fixture.stop();
    }
  });
});
