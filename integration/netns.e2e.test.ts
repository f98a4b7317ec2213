// An agent in another network namespace (a container with its own network) is found and verified there, but
// never dialled: 127.0.0.1:PORT in gopsd's namespace may be another process entirely. Needs root (unshare -n).
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { once } from "node:events";
import { after, before, describe, it } from "node:test";
import { AgentState } from "../proto/index.js";
import { createLocalDiagnostics } from "../client/local.js";
import { GopsError, Status } from "../common/errors.js";
import { buildFixtures } from "./harness.js";

const root = process.getuid?.() === 0;

describe("agents in another network namespace", { skip: root ? false : "needs root for unshare -n" }, () => {
  let child: ChildProcess;
  let pid: number;
  let port: number;
  let decoy: Server;
  let decoyHits = 0;
  let dir: string;

  before(async () => {
    const { agentprog } = await buildFixtures();
    dir = await mkdtemp(path.join(tmpdir(), "gopsctl-netns-"));
    // A new network namespace with its loopback up; the agent writes its port file into GOPS_CONFIG_DIR.
    child = spawn("unshare", ["-n", "sh", "-c", `ip link set lo up && exec "$0"`, agentprog], {
      env: { ...process.env, GOPS_CONFIG_DIR: dir },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const [line] = (await once(child.stdout!, "data", { signal: AbortSignal.timeout(10_000) })) as [Buffer];
    const m = /READY pid=(\d+) port=(\d+)/.exec(line.toString());
    assert.ok(m, `unexpected fixture output: ${line.toString()}`);
    pid = Number(m[1]);
    port = Number(m[2]);
    // A decoy on the same port in OUR namespace: dialling 127.0.0.1:port from here would reach it.
    decoy = createServer((s) => {
      decoyHits++;
      s.end("go1.99 decoy\n");
    });
    await new Promise<void>((resolve, reject) => decoy.once("error", reject).listen(port, "127.0.0.1", resolve));
  });

  after(async () => {
    child?.kill("SIGKILL");
    decoy?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("lists the agent as unknown, with the reason, and never dials the decoy", async () => {
    const local = createLocalDiagnostics({ hostName: "netns-test" });
    const list = await local.listProcesses({});
    const p = list.processes.find((x) => x.pid === pid);
    assert.ok(p, "the process in the other namespace is listed");
    assert.equal(p.agent?.state, AgentState.AGENT_STATE_UNKNOWN);
    assert.match(p.agent!.detail, /another network namespace/);
    await assert.rejects(local.version({ pid }), (e: unknown) => {
      assert.ok(e instanceof GopsError);
      assert.equal(e.code, Status.FAILED_PRECONDITION);
      assert.match(e.message, /another network namespace/);
      return true;
    });
    assert.equal(decoyHits, 0, "nothing was sent to 127.0.0.1:port in gopsd's namespace");
  });
});
