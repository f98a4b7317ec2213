// End to end (issue 17 item 1): a gops "agent" of uid 65534 in a network namespace of its own (made with
// `unshare -rn`) adds 10.99.0.2/32 to its own loopback interface, listens on 10.99.0.2 and writes that port into
// its gops port file. gopsd and the local CLI must report it (OFF_LOOPBACK, with the address in the detail) and
// never dial it: not for a call (stack, memstats), not for WatchStats, not for `ps --sort heap`.
// Other gopsds on a shared machine may dial it (their code, their listings): every connection to the attacker is
// attributed. The attacker answers after 300 ms (-mode slow), so each connection lives long enough for a watcher
// to find, in the attacker's /proc/PID/net/tcp, the connecting socket and, through /proc/*/fd, the process that
// holds it; a dial counts as ours when that process descends from this test process (our gopsd, its relays, our
// CLI). The control at the end connects from a child of ours and must be seen. 10.99.0.2 exists only inside the
// attacker's namespace: nothing here sends traffic to it from the host's.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, readdirSync, readlinkSync } from "node:fs";
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
      "-mode",
      "slow",
      "-slow-ms",
      "300",
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

/** The pid holding socket `inode`, or undefined (scans the fds of every process). */
function socketOwner(inode: string): number | undefined {
  const link = `socket:[${inode}]`;
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) === link) return Number(pid);
      } catch {
        // closed meanwhile
      }
    }
  }
  return undefined;
}

/** Whether `pid` is this test process or descends from it. */
function descendsFromUs(pid: number): boolean {
  for (let p = pid, i = 0; p > 1 && i < 64; i++) {
    if (p === process.pid) return true;
    try {
      p = Number(/\) \S+ (\d+)/.exec(readFileSync(`/proc/${p}/stat`, "utf8"))![1]);
    } catch {
      return false;
    }
  }
  return false;
}

/**
 * Watches the attacker's namespace for connections to its port (every 20 ms) and attributes each to the process
 * holding its client end: `ours` (this test's processes) or `foreign` (anyone else's, e.g. another gopsd).
 */
function watchDials(attacker: Attacker) {
  const seen = new Map<string, "ours" | "foreign" | "unknown">();
  const portHex = attacker.port.toString(16).toUpperCase().padStart(4, "0");
  const timer = setInterval(() => {
    let text = "";
    try {
      text = readFileSync(`/proc/${attacker.pid}/net/tcp`, "utf8");
    } catch {
      return;
    }
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      // The client end: remote address is the agent's port, state ESTABLISHED.
      if (f.length < 10 || f[3] !== "01" || !f[2]!.endsWith(`:${portHex}`) || seen.has(f[9]!)) continue;
      const owner = socketOwner(f[9]!);
      seen.set(f[9]!, owner === undefined ? "unknown" : descendsFromUs(owner) ? "ours" : "foreign");
    }
  }, 20);
  const count = (k: string) => [...seen.values()].filter((v) => v === k).length;
  return { ours: () => count("ours"), foreign: () => count("foreign") + count("unknown"), stop: () => clearInterval(timer) };
}

describe("a gops agent listening off loopback in its own network namespace (issue 17 item 1)", { skip: !ROOT && "needs root", timeout: 180_000 }, () => {
  let dir: string;
  let attacker: Attacker;
  let gopsd: Gopsd;
  let client: DiagnosticsHandle;
  let dials: ReturnType<typeof watchDials>;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "gopsctl-harden-offlo-"));
    await chown(dir, NOBODY, NOBODY);
    attacker = await startAttacker(dir);
    dials = watchDials(attacker);
    gopsd = await startGopsd();
    client = connect(gopsd.address);
  });
  after(async () => {
    dials?.stop();
    process.stderr.write(`# dials to the attacker: ours ${dials?.ours()}, others' ${dials?.foreign()}, accepted in all ${attacker?.accepts()}\n`);
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
    await sleep(100); // the watcher's last look
    assert.equal(dials.ours(), 0, attacker.stderr());
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
    await sleep(100);
    assert.equal(dials.ours(), 0, attacker.stderr());
  });

  it("control: a connection made by a child of ours inside the attacker's namespace is seen as ours", async () => {
    const before = attacker.accepts();
    const child = spawn(
      "nsenter",
      [`--net=/proc/${attacker.pid}/ns/net`, "--", process.execPath, "-e", `require("net").connect(${attacker.port}, "${OFF_LOOPBACK_IP}", function () { setTimeout(() => this.end(), 500); })`],
      { stdio: "ignore" },
    );
    const code = await new Promise((r) => child.once("exit", r));
    assert.equal(code, 0);
    for (let i = 0; i < 100 && attacker.accepts() === before; i++) await sleep(50);
    assert.ok(attacker.accepts() > before, attacker.stderr());
    assert.equal(dials.ours(), 1);
  });

  it("the state is the proto's (a gopsd client sees OFF_LOOPBACK too)", async () => {
    const res = await client.listProcesses({ all: true });
    const me = res.processes.find((p) => p.pid === attacker.pid);
    assert.equal(me?.agent?.state, AgentState.AGENT_STATE_OFF_LOOPBACK);
  });
});
