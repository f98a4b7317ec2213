// End to end (issue 17 item 1): a gops "agent" of uid 65534 in a network namespace of its own (made with
// `unshare -rn`) adds 10.99.0.2/32 to its own loopback interface, listens on 10.99.0.2 and writes that port into
// its gops port file. gopsd and the local CLI must report it (OFF_LOOPBACK, with the address in the detail) and
// never dial it: not for a call (stack, memstats), not for WatchStats, not for `ps --sort heap`. The fixture logs
// every connection it accepts ("fixture: accept N"); the test shows that logging works by connecting once itself,
// from inside that namespace, at the end. 10.99.0.2 exists only inside the attacker's namespace: nothing here
// sends traffic to it from the host's.
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chown, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { connect, type DiagnosticsHandle } from "../client/index.js";
import { AgentKind, AgentState } from "../proto/index.js";
import { buildFixtures, executableForOtherUsers, runCli, startGopsd, type Gopsd } from "./harness.js";

const NOBODY = 65534;
const ROOT = process.getuid?.() === 0;
const OFF_LOOPBACK_IP = "10.99.0.2";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Attacker {
  pid: number;
  port: number;
  proc: ChildProcess;
  stderr(): string;
  accepts(): number;
}

/** agentprog as uid 65534 in a user+network namespace of its own, listening on 10.99.0.2 only. */
async function startAttacker(configDir: string): Promise<Attacker> {
  const exe = await executableForOtherUsers((await buildFixtures()).agentprog);
  const proc = spawn(
    "setpriv",
    [
      `--reuid=${NOBODY}`,
      `--regid=${NOBODY}`,
      "--clear-groups",
      "unshare",
      "-rn",
      "sh",
      "-c",
      `ip link set lo up && ip addr add ${OFF_LOOPBACK_IP}/32 dev lo && exec "$0" "$@"`,
      exe,
      "-addr",
      `${OFF_LOOPBACK_IP}:0`,
      "-log-accepts",
    ],
    { cwd: configDir, env: { PATH: process.env.PATH ?? "/usr/bin:/bin:/usr/sbin:/sbin", HOME: configDir, GOPS_CONFIG_DIR: configDir }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let stdout = "";
  let stderr = "";
  proc.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
  proc.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  for (let i = 0; i < 200 && !/READY pid=\d+ port=\d+/.test(stdout); i++) {
    if (proc.exitCode !== null) break;
    await sleep(50);
  }
  const m = /READY pid=(\d+) port=(\d+)/.exec(stdout);
  if (!m) {
    proc.kill("SIGKILL");
    throw new Error(`attacker did not start: ${stdout}${stderr}`);
  }
  assert.equal(Number(m[1]), proc.pid, "setpriv, unshare and sh exec: the agent keeps the spawned pid");
  return {
    pid: Number(m[1]),
    port: Number(m[2]),
    proc,
    stderr: () => stderr,
    accepts: () => (stderr.match(/^fixture: accept \d+/gm) ?? []).length,
  };
}

describe("a gops agent listening off loopback in its own network namespace (issue 17 item 1)", { skip: !ROOT && "needs root", timeout: 180_000 }, () => {
  let dir: string;
  let attacker: Attacker;
  let gopsd: Gopsd;
  let client: DiagnosticsHandle;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "gopsctl-harden-offlo-"));
    await chown(dir, NOBODY, NOBODY);
    attacker = await startAttacker(dir);
    gopsd = await startGopsd();
    client = connect(gopsd.address);
  });
  after(async () => {
    client?.close();
    await gopsd?.stop();
    if (attacker && attacker.proc.exitCode === null) {
      attacker.proc.kill("SIGKILL");
      await new Promise((r) => attacker.proc.once("exit", r));
    }
    await rm(dir, { recursive: true, force: true });
  });

  const offLoopback = new RegExp(`listens on ${OFF_LOOPBACK_IP.replace(/\./g, "\\.")}:${"\\d+"}, not on loopback`);

  it("`ps --json` (local and through gopsd) shows it OFF_LOOPBACK with the address, and no dial address", async () => {
    for (const args of [["ps", "--json"], ["--host", gopsd.address, "ps", "--json"]]) {
      const res = await runCli(args);
      assert.equal(res.code, 0, res.stderr);
      const procs = JSON.parse(res.stdout) as { processes?: { pid: number; agent: { state: string; address: string; detail: string; port: number } }[] };
      const list = procs.processes ?? (procs as unknown as { pid: number; agent: { state: string; address: string; detail: string; port: number } }[]);
      const me = list.find((p) => p.pid === attacker.pid);
      assert.ok(me, `pid ${attacker.pid} in ${args.join(" ")}`);
      assert.equal(me.agent.state, "OFF_LOOPBACK", JSON.stringify(me.agent));
      assert.equal(me.agent.address, "");
      assert.equal(me.agent.port, attacker.port);
      assert.match(me.agent.detail, offLoopback);
    }
  });

  it("stack and memstats (local and through gopsd) fail with one line and never dial", async () => {
    for (const host of [[], ["--host", gopsd.address]]) {
      for (const cmd of ["stack", "memstats"]) {
        const res = await runCli([...host, cmd, String(attacker.pid)]);
        assert.notEqual(res.code, 0, `${cmd}: ${res.stdout}`);
        const lines = res.stderr.trim().split("\n");
        assert.equal(lines.length, 1, res.stderr);
        assert.match(lines[0]!, offLoopback);
      }
    }
    assert.equal(attacker.accepts(), 0, attacker.stderr());
  });

  it("`ps --sort heap` (local and through gopsd) and WatchStats never dial it", async () => {
    for (const host of [[], ["--host", gopsd.address]]) {
      const res = await runCli([...host, "ps", "--sort", "heap"]);
      assert.equal(res.code, 0, res.stderr);
    }
    const ctl = new AbortController();
    const seen: AgentKind[] = [];
    try {
      for await (const s of client.watchStats({ intervalMs: 500, pids: [attacker.pid] }, { signal: ctl.signal })) {
        const mine = s.processes.find((p) => p.pid === attacker.pid);
        if (mine) seen.push(mine.backend);
        if (s.seq >= 3) break;
      }
    } finally {
      ctl.abort();
    }
    assert.ok(seen.length > 0, "the attacker appears in the samples (its /proc fields)");
    assert.ok(seen.every((b) => b === AgentKind.AGENT_KIND_UNSPECIFIED), `backends ${seen.join(",")}`);
    assert.equal(attacker.accepts(), 0, attacker.stderr());
  });

  it("control: a connection made inside the attacker's namespace is logged (so 0 above means never dialled)", async () => {
    const res = spawnSync(
      "nsenter",
      [`--net=/proc/${attacker.pid}/ns/net`, "--", process.execPath, "-e", `require("net").connect(${attacker.port}, "${OFF_LOOPBACK_IP}", function () { this.end(); })`],
      { timeout: 10_000, encoding: "utf8" },
    );
    assert.equal(res.status, 0, res.stderr);
    for (let i = 0; i < 100 && attacker.accepts() === 0; i++) await sleep(50);
    assert.equal(attacker.accepts(), 1, attacker.stderr());
  });

  it("the state is the proto's (a gopsd client sees OFF_LOOPBACK too)", async () => {
    const res = await client.listProcesses({ all: true });
    const me = res.processes.find((p) => p.pid === attacker.pid);
    assert.equal(me?.agent?.state, AgentState.AGENT_STATE_OFF_LOOPBACK);
  });
});
