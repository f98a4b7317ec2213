// End to end through the real CLI: Go programs in their own network and pid namespaces (unshare, as a container
// runtime would make them), placed in real cgroups with a Docker-shaped and a Kubernetes-shaped path. `gopsctl ps -o
// wide` names their container and pod, --container and --pod select them, `gopsctl PID` shows both pids, and the
// agent commands work on them, on this machine (no daemon) and through a real gopsd (--host). Needs root.
import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { after, before, describe, it } from "node:test";
import { runCli, startFixture, startGopsd, type Fixture, type Gopsd } from "./harness.js";
import { relaysLeft, startNamespacedAgent, TestCgroups, writeDockerContainer, writeKubeletPod, type Namespaced } from "./namespaced.js";

const root = process.getuid?.() === 0;
const skip = root ? false : "needs root (unshare, nsenter, cgroups)";

// The runtimes' own anchored shapes (/docker/<id>, /kubepods/...: a container-shaped name anywhere else is no
// container), with ids of this run's own (another test file may use the same shapes at the same time).
const WEB_ID = randomBytes(32).toString("hex");
const POD_CID = randomBytes(32).toString("hex");
const POD_UID = randomUUID();
/** How an identity gopsd could not cross-check is marked (without gopsd's state roots: Docker, the pod). */
const UNVERIFIED = " (unverified)";
const POD = { name: "checkout-7d9f8b6c5-x2x4q", namespace: "shop" };

describe("gopsctl on Go programs in containers", { skip }, () => {
  const cgroups = new TestCgroups();
  let web: Namespaced;
  let checkout: Namespaced;
  let hostProgram: Fixture;
  let gopsd: Gopsd;
  let state: string;

  before(async () => {
    state = await mkdtemp(path.join(tmpdir(), "gopsctl-cli-containers-"));
    const env = { FIXTURE_TRACE_SECONDS: "1" };
    // The pod's container as a runtime sets it up: HOSTNAME is the pod name, and the service-account volume (on
    // a tmpfs of its own mount namespace) names the namespace; that is how gopsctl without gopsd's kubelet
    // root setting names the pod. gopsd (below) names both from the state files instead.
    const sa = "/run/secrets/kubernetes.io/serviceaccount";
    [web, checkout, hostProgram] = await Promise.all([
      startNamespacedAgent({ env }),
      startNamespacedAgent({
        env: { ...env, HOSTNAME: POD.name },
        setup: `mount -t tmpfs gopsctl-test /run && mkdir -p ${sa} && printf ${POD.namespace} > ${sa}/namespace`,
      }),
      startFixture("agentprog"),
    ]);
    // Placed before anything lists them (the container is cached per pid and start time).
    cgroups.place(`docker/${WEB_ID}`, web.pid);
    cgroups.place(`kubepods/burstable/pod${POD_UID}/${POD_CID}`, checkout.pid);
    await writeDockerContainer(path.join(state, "docker"), WEB_ID, "web-frontend", web.pid);
    await writeKubeletPod(path.join(state, "kubelet"), POD_UID, POD);
    gopsd = await startGopsd({
      args: ["--host-name", "containers-cli", "--containers-docker-root", path.join(state, "docker"), "--containers-kubelet-root", path.join(state, "kubelet")],
    });
  });

  after(async () => {
    await gopsd?.stop();
    await Promise.all([web?.stop(), checkout?.stop(), hostProgram?.stop()]);
    await cgroups.remove();
    if (state) await rm(state, { recursive: true, force: true });
  });

  it("across a fleet (--all): each host's listing is filtered by --pod and --container", async () => {
    // Two fleet hosts served by the one gopsd: both list the same processes, each under its own HOST.
    const fleetFile = path.join(state, "fleet.yaml");
    await writeFile(fleetFile, `hosts:\n  - name: node-a\n    address: "${gopsd.address}"\n  - name: node-b\n    address: "${gopsd.address}"\n`);
    const res = await runCli(["--fleet", fleetFile, "--all", "ps", "-o", "wide", "--pod", `${POD.namespace}/${POD.name}`], { cwd: state });
    assert.equal(res.code, 0, res.stderr);
    const lines = res.stdout.trimEnd().split("\n");
    assert.match(lines[0]!, /^HOST\s+PID\s+PPID\s+NAME\s+\*\s+VERSION\s+NSPID\s+CONTAINER\s+POD\s+PATH$/);
    assert.deepEqual(
      lines.slice(1).map((l) => l.split(/\s+/).slice(0, 2).join(" ")),
      [`node-a ${checkout.pid}`, `node-b ${checkout.pid}`],
    );
    assert.ok(lines.slice(1).every((l) => l.includes(`${POD.namespace}/${POD.name}`)));
    const json = await runCli(["--fleet", fleetFile, "--all", "--json", "ps", "--container", "web-frontend"], { cwd: state });
    const hosts = json.stdout.trimEnd().split("\n").map((l) => JSON.parse(l) as { host: string; value: { processes: { pid: number }[] } });
    assert.deepEqual(hosts.map((h) => [h.host, h.value.processes.map((p) => p.pid)]).sort(), [["node-a", [web.pid]], ["node-b", [web.pid]]]);
  });

  for (const mode of ["local", "gopsd"] as const) {
    describe(mode === "local" ? "on this machine (no daemon)" : "through gopsd (--host)", () => {
      const ok = async (...args: string[]) => {
        const res = await runCli(mode === "local" ? args : ["--host", gopsd.address, ...args], { cwd: state });
        assert.equal(res.code, 0, `gopsctl ${args.join(" ")} exited ${res.code}: ${res.stderr}`);
        return res.stdout;
      };
      /** The rows of a ps table by pid: its cells (split on runs of 2+ spaces would merge empty cells, so by header offsets). */
      const table = (text: string) => {
        const [header, ...rows] = text.trimEnd().split("\n");
        const starts = [...header!.matchAll(/\S+/g)].map((m) => m.index!);
        const names = [...header!.matchAll(/\S+/g)].map((m) => m[0]);
        return new Map(
          rows.map((line) => {
            const cells = Object.fromEntries(names.map((n, i) => [n, line.slice(starts[i], starts[i + 1] ?? line.length).trim()]));
            return [Number(cells.PID), cells];
          }),
        );
      };

      it("ps -o wide: the agent marker, the inner pid, the container and the pod; the host program has none", async () => {
        const rows = table(await ok("ps", "-o", "wide"));
        const w = rows.get(web.pid);
        const c = rows.get(checkout.pid);
        const h = rows.get(hostProgram.pid);
        assert.ok(w && c && h, `all three listed: ${[...rows.keys()].join(" ")}`);
        assert.equal(w["*"], "*");
        assert.equal(c["*"], "*");
        assert.equal(w.NSPID, "1");
        assert.equal(c.NSPID, "1");
        assert.equal(h.NSPID, "");
        // Docker's name only where its state root is known (gopsd's setting), verified by State.Pid; else the id's
        // first 12 characters, unverified. The pod: from the kubelet's directory (gopsd), else from the
        // container's own HOSTNAME and service-account file: unverified.
        assert.equal(w.CONTAINER, mode === "gopsd" ? "web-frontend" : WEB_ID.slice(0, 12) + UNVERIFIED);
        assert.equal(w.POD, "");
        assert.equal(c.CONTAINER, POD_CID.slice(0, 12) + (mode === "gopsd" ? "" : UNVERIFIED));
        assert.equal(c.POD, `${POD.namespace}/${POD.name}` + (mode === "gopsd" ? "" : UNVERIFIED));
        assert.equal(h.CONTAINER, "");
        // --json: the whole container and both pids.
        const json = JSON.parse(await ok("ps", "--json")) as { processes: { pid: number; nsPid: number | null; container: Record<string, string> | null }[] };
        const cj = json.processes.find((p) => p.pid === checkout.pid);
        assert.equal(cj?.nsPid, 1);
        assert.equal(cj.container?.id, POD_CID);
        assert.equal(cj.container?.podUid, POD_UID);
        assert.equal(cj.container?.podQosClass, "BURSTABLE");
        assert.equal(cj.container?.verified, mode === "gopsd");
        assert.equal(json.processes.find((p) => p.pid === hostProgram.pid)?.container, null);
      });

      it("--container ID (or a prefix) and --pod NS/NAME select it and leave the others out", async () => {
        for (const sel of [WEB_ID, WEB_ID.slice(0, 4), ...(mode === "gopsd" ? ["web-frontend"] : [])]) {
          assert.deepEqual([...table(await ok("ps", "--container", sel)).keys()], [web.pid], `--container ${sel}`);
        }
        // A pod's name selects only when verified (gopsd's kubelet root); its UID always.
        for (const sel of [...(mode === "gopsd" ? [`${POD.namespace}/${POD.name}`, POD.name] : []), POD_UID]) {
          assert.deepEqual([...table(await ok("ps", "-o", "wide", "--pod", sel)).keys()], [checkout.pid], `--pod ${sel}`);
        }
        assert.deepEqual([...table(await ok("ps", "--pod", `default/${POD.name}`)).keys()], [], "another namespace");
        assert.deepEqual([...table(await ok("ps", "--container", POD_CID.slice(0, 8), "--pod", mode === "gopsd" ? POD.name : POD_UID)).keys()], [checkout.pid]);
      });

      it("gopsctl PID shows both pids, the container, the pod and the agent's network namespace", async () => {
        const text = await ok(String(checkout.pid));
        assert.match(text, new RegExp(`^pid in each namespace:\\t${checkout.pid} > 1$`, "m"));
        const mark = mode === "gopsd" ? "" : " \\(unverified\\)";
        assert.match(text, new RegExp(`^container:\\t${POD_CID}${mark}$`, "m"));
        assert.match(text, new RegExp(`^pod:\\t${POD.namespace}/${POD.name}${mark} \\(uid ${POD_UID}\\)$`, "m"));
        assert.match(text, /^pod QoS class:\tBurstable$/m);
        assert.match(text, /^agent network namespace:\tnet:\[\d+\]$/m);
        const webText = await ok(String(web.pid));
        assert.match(webText, /^container runtime:\tdocker$/m);
        assert.match(webText, new RegExp(`^cgroup:\\t/docker/${WEB_ID}$`, "m"));
        const json = JSON.parse(await ok(String(web.pid), "--json")) as { nsPids: number[]; container: { id: string } };
        assert.deepEqual(json.nsPids, [web.pid, 1]);
        assert.equal(json.container.id, WEB_ID);
      });

      it("stack, memstats, gc, pprof-heap and trace work on it", async () => {
        const pid = String(checkout.pid);
        assert.match(await ok("stack", pid), /^goroutine \d+ \[/m);
        const gcs = async () => (JSON.parse(await ok("memstats", pid, "--json")) as { stats: { numGc: number; heapAlloc: number } }).stats;
        const before = await gcs();
        assert.ok(before.heapAlloc > 0);
        assert.equal(await ok("gc", pid), "");
        assert.ok((await gcs()).numGc > before.numGc, "the GC ran in the containerised process");
        assert.match(await ok("memstats", web.pid.toString()), /^alloc: .*bytes/m);
        const heap = path.join(state, `heap-${mode}.pprof.gz`);
        assert.match(await ok("pprof-heap", pid, "-o", heap), new RegExp(heap));
        assert.ok(gunzipSync(await readFile(heap)).length > 0, "a gzip pprof heap profile");
        const trace = path.join(state, `trace-${mode}.out`);
        await ok("trace", String(web.pid), "-o", trace);
        assert.match((await readFile(trace)).subarray(0, 16).toString("latin1"), /^go 1\.\d+ trace/);
        if (mode === "gopsd") assert.deepEqual(await relaysLeft(gopsd.proc.pid!), [], "no relay stays behind in gopsd");
      });
    });
  }
});
