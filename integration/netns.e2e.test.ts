// An agent in another network namespace (a container with its own network) is found and verified there, and
// reached only from inside that namespace (a relay per call): 127.0.0.1:PORT in gopsd's namespace may be another
// process entirely, and a decoy listening there never sees a byte. Needs root (unshare -n, nsenter).
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type AddressInfo, type Server } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { once } from "node:events";
import { after, before, describe, it } from "node:test";
import { AgentState } from "../proto/index.js";
import { createLocalDiagnostics } from "../client/local.js";
import { GopsError, Status } from "../common/errors.js";
import { buildFixtures } from "./harness.js";
import { relaysLeft } from "./namespaced.js";

const root = process.getuid?.() === 0;

describe("agents in another network namespace", { skip: root ? false : "needs root for unshare -n" }, () => {
  let child: ChildProcess;
  let pid: number;
  let port: number;
  let decoy: Server;
  let decoyHits = 0;
  let decoyBytes = 0;
  let dir: string;

  before(async () => {
    const { agentprog } = await buildFixtures();
    dir = await mkdtemp(path.join(tmpdir(), "gopsctl-netns-"));
    // A decoy in OUR namespace on a port the system picks (no port is assumed free): dialling 127.0.0.1:port
    // from here would reach it. The agent then listens on the same port in its own, empty namespace.
    decoy = createServer((s) => {
      decoyHits++;
      s.on("data", (d) => (decoyBytes += d.length));
      s.end("go1.99 decoy\n");
    });
    await new Promise<void>((resolve, reject) => decoy.once("error", reject).listen(0, "127.0.0.1", resolve));
    const decoyPort = (decoy.address() as AddressInfo).port;
    // A new network namespace with its loopback up; the agent writes its port file into GOPS_CONFIG_DIR.
    child = spawn("unshare", ["-n", "sh", "-c", `ip link set lo up && exec "$0" -addr 127.0.0.1:$1`, agentprog, String(decoyPort)], {
      env: { ...process.env, GOPS_CONFIG_DIR: dir },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const [line] = (await once(child.stdout!, "data", { signal: AbortSignal.timeout(10_000) })) as [Buffer];
    const m = /READY pid=(\d+) port=(\d+)/.exec(line.toString());
    assert.ok(m, `unexpected fixture output: ${line.toString()}`);
    pid = Number(m[1]);
    port = Number(m[2]);
    assert.equal(port, decoyPort, "the agent listens on the decoy's port, in its own namespace");
  });

  after(async () => {
    child?.kill("SIGKILL");
    decoy?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("lists the agent as listening in its namespace, reaches it there, and never dials the decoy", async () => {
    const local = createLocalDiagnostics({ hostName: "netns-test" });
    const list = await local.listProcesses({});
    const p = list.processes.find((x) => x.pid === pid);
    assert.ok(p, "the process in the other namespace is listed");
    assert.equal(p.agent?.state, AgentState.AGENT_STATE_LISTENING, p.agent?.detail);
    assert.match(p.agent!.networkNamespace ?? "", /^net:\[\d+\]$/);
    for (let i = 0; i < 3; i++) {
      const v = await local.version({ pid });
      assert.match(v.goVersion, /^go1\.\d+/);
      assert.doesNotMatch(v.goVersion, /decoy/);
    }
    assert.equal(decoyHits, 0, "nothing connected to 127.0.0.1:port in gopsd's namespace");
    assert.equal(decoyBytes, 0, "nothing was sent there");
    assert.deepEqual(await relaysLeft(process.pid), [], "no relay process stays behind");
  });

  it("a wedged agent (SIGSTOP) in the namespace: the deadline ends the relayed call, the decoy still sees nothing", async () => {
    const local = createLocalDiagnostics({ hostName: "netns-test" });
    child.kill("SIGSTOP");
    try {
      const quick = createLocalDiagnostics({ hostName: "netns-test", agentTimeouts: { deadlineMs: { Version: 500 } } });
      await assert.rejects(quick.version({ pid }), (e: unknown) => {
        assert.ok(e instanceof GopsError);
        assert.equal(e.code, Status.DEADLINE_EXCEEDED, e.message);
        return true;
      });
    } finally {
      child.kill("SIGCONT");
    }
    assert.match((await local.version({ pid })).goVersion, /^go1\./);
    assert.equal(decoyBytes, 0);
    assert.deepEqual(await relaysLeft(process.pid), []);
  });
});
