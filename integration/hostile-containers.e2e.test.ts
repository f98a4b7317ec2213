// End to end (issue 17 item 4): container impersonation from a delegated cgroup subtree. A real "container" (a Go
// program as root in /system.slice/docker-<ID>.scope, with Docker state naming it prod-db and State.Pid its pid)
// and a real pod directory of the kubelet; the attacker, a Go program of uid 65534, is given a delegated cgroup
// subtree (user.slice/user-65534.slice/user@65534.service, chowned to it, as systemd delegates one to every
// user) and moves itself into docker-<ID>.scope (and a second one into kubepods/pod<UID>/<ID>) made there by
// itself. gopsd and the local CLI must not show either as a container: `ps -o wide` names only the real one
// prod-db (verified), `ps --container prod-db` and `--pod` list only the real processes.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { chownSync, rmdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { buildFixtures, executableForOtherUsers, runCli, startFixture, startGopsd, type Fixture, type Gopsd } from "./harness.js";
import { CGROUP_ROOT, TestCgroups, writeDockerContainer, writeKubeletPod } from "./namespaced.js";

const NOBODY = 65534;
const ROOT = process.getuid?.() === 0;
const ID = randomBytes(32).toString("hex");
const POD_UID = randomUUID();
const POD = { name: "payments-0", namespace: "prod" };
/** The user's delegated subtree, as systemd makes one for user@UID.service. */
const DELEGATED = `user.slice/user-${NOBODY}.slice/user@${NOBODY}.service`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Attacker {
  pid: number;
  proc: ChildProcess;
  /** The cgroup it made for itself, relative to the hierarchy. */
  cgroup: string;
}

/** agentprog as uid 65534 that first makes `rel` (under its delegated subtree) and moves itself in. */
async function startAttacker(rel: string): Promise<Attacker> {
  const exe = await executableForOtherUsers((await buildFixtures()).agentprog);
  const home = await mkdtemp(path.join(tmpdir(), "gopsctl-harden-impostor-"));
  chownSync(home, NOBODY, NOBODY);
  const dir = path.join(CGROUP_ROOT, rel);
  const proc = spawn(
    "setpriv",
    [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", "sh", "-c", 'mkdir -p "$1" && echo $$ > "$1/cgroup.procs" && shift && exec "$@"', "sh", dir, exe],
    { cwd: home, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, GOPS_CONFIG_DIR: path.join(home, "gops") }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  proc.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  proc.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  for (let i = 0; i < 200 && !/READY pid=\d+/.test(out) && proc.exitCode === null; i++) await sleep(50);
  const m = /READY pid=(\d+)/.exec(out);
  if (!m) {
    proc.kill("SIGKILL");
    throw new Error(`the attacker did not start: ${out}`);
  }
  return { pid: Number(m[1]), proc, cgroup: rel };
}

describe("container impersonation from a delegated cgroup (issue 17 item 4)", { skip: !ROOT && "needs root (cgroups, uid 65534)", timeout: 180_000 }, () => {
  const cgroups = new TestCgroups();
  let state: string;
  let real: Fixture;
  let podProcess: Fixture;
  let gopsd: Gopsd;
  const attackers: Attacker[] = [];

  before(async () => {
    state = await mkdtemp(path.join(tmpdir(), "gopsctl-harden-containers-"));
    [real, podProcess] = await Promise.all([startFixture("agentprog"), startFixture("agentprog")]);
    cgroups.place(`system.slice/docker-${ID}.scope`, real.pid);
    cgroups.place(`kubepods/burstable/pod${POD_UID}/${ID}`, podProcess.pid);
    await writeDockerContainer(path.join(state, "docker"), ID, "prod-db", real.pid);
    await writeKubeletPod(path.join(state, "kubelet"), POD_UID, POD);
    // The delegation: root makes the user's subtree and hands it over (the directory and its cgroup.procs).
    const delegatedDir = path.join(CGROUP_ROOT, DELEGATED);
    cgroups.make(DELEGATED);
    chownSync(delegatedDir, NOBODY, NOBODY);
    chownSync(path.join(delegatedDir, "cgroup.procs"), NOBODY, NOBODY);
    attackers.push(await startAttacker(`${DELEGATED}/docker-${ID}.scope`));
    attackers.push(await startAttacker(`${DELEGATED}/kubepods/burstable/pod${POD_UID}/${ID}`));
    gopsd = await startGopsd({
      args: ["--containers-docker-root", path.join(state, "docker"), "--containers-kubelet-root", path.join(state, "kubelet")],
    });
  });
  after(async () => {
    await gopsd?.stop();
    for (const a of attackers) {
      a.proc.kill("SIGKILL");
      await new Promise((r) => (a.proc.exitCode !== null || a.proc.signalCode !== null ? r(undefined) : a.proc.once("exit", r)));
    }
    await Promise.all([real?.stop(), podProcess?.stop()]);
    // The attackers' own cgroups (made by uid 65534, deepest first), then what the test made.
    for (const a of attackers) {
      const segs = a.cgroup.split("/");
      for (let i = segs.length; i > DELEGATED.split("/").length; i--) {
        for (let t = 0; t < 20; t++) {
          try {
            rmdirSync(path.join(CGROUP_ROOT, ...segs.slice(0, i)));
            break;
          } catch (e) {
            if ((e as NodeJS.ErrnoException).code === "ENOENT") break;
            await sleep(50);
          }
        }
      }
    }
    await cgroups.remove();
    await rm(state, { recursive: true, force: true });
  });

  type Row = { pid: number; container: { id: string; name: string; podUid: string; podName: string; verified: boolean } | null };
  const psJson = async (args: string[]) => {
    const res = await runCli([...args, "ps", "--json"]);
    assert.equal(res.code, 0, res.stderr);
    return new Map((JSON.parse(res.stdout) as { processes: Row[] }).processes.map((p) => [p.pid, p]));
  };

  it("the impostors are in no container (gopsd and local); the real ones are, verified", async () => {
    for (const host of [[], ["--host", gopsd.address]]) {
      const rows = await psJson(host);
      for (const a of attackers) {
        assert.ok(rows.has(a.pid), `impostor ${a.pid} listed`);
        assert.equal(rows.get(a.pid)!.container, null, `impostor in ${a.cgroup}: ${JSON.stringify(rows.get(a.pid)!.container)}`);
      }
      assert.equal(rows.get(real.pid)?.container?.id, ID);
      assert.equal(rows.get(podProcess.pid)?.container?.podUid, POD_UID);
    }
    const rows = await psJson(["--host", gopsd.address]);
    assert.equal(rows.get(real.pid)?.container?.name, "prod-db");
    assert.equal(rows.get(real.pid)?.container?.verified, true);
    assert.equal(rows.get(podProcess.pid)?.container?.podName, POD.name);
    assert.equal(rows.get(podProcess.pid)?.container?.verified, true);
  });

  it("`ps -o wide`, `--container prod-db` and `--pod` show only the real processes", async () => {
    const wide = await runCli(["--host", gopsd.address, "ps", "-o", "wide"]);
    assert.equal(wide.code, 0, wide.stderr);
    const line = (pid: number) => wide.stdout.split("\n").find((l) => l.trimStart().startsWith(`${pid} `)) ?? "";
    assert.match(line(real.pid), /\bprod-db\b/);
    assert.doesNotMatch(line(real.pid), /unverified/);
    for (const a of attackers) {
      assert.notEqual(line(a.pid), "", `impostor ${a.pid} listed`);
      assert.doesNotMatch(line(a.pid), /prod-db|payments-0|unverified/, line(a.pid));
    }
    const pids = async (...args: string[]) => {
      const res = await runCli(["--host", gopsd.address, "ps", "--json", ...args]);
      assert.equal(res.code, 0, res.stderr);
      return (JSON.parse(res.stdout) as { processes: Row[] }).processes.map((p) => p.pid).sort((a, b) => a - b);
    };
    assert.deepEqual(await pids("--container", "prod-db"), [real.pid]);
    assert.deepEqual(await pids("--container", ID.slice(0, 12)), [real.pid, podProcess.pid].sort((a, b) => a - b));
    assert.deepEqual(await pids("--pod", `${POD.namespace}/${POD.name}`), [podProcess.pid]);
    assert.deepEqual(await pids("--pod", POD_UID), [podProcess.pid]);
  });
});
