// How gopsd reaches agents in other network namespaces (server/agent/netns-dial.ts): sockets it makes inside the
// target's namespace itself (setns), no process per call; the relay only as a fallback (forced here with
// GOPSCTL_NETNS_DIAL=relay, a real code path of gopsd), logged once, and dying with gopsd; and the namespace check
// right before each dial still refuses a process that moved to another network namespace. Real namespaces
// (unshare --net --pid), real Go agents, a real gopsd. Needs root.
import assert from "node:assert/strict";
import { readlinkSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { connect } from "../client/index.js";
import { createLocalDiagnostics } from "../client/local.js";
import type { Diagnostics } from "../common/diagnostics.js";
import { GopsError, Status } from "../common/errors.js";
import { AgentState } from "../proto/index.js";
import { dialInNamespace } from "../server/agent/netns-dial.js";
import { agentAddress } from "../server/agent/client.js";
import { createProcFs, parseStat } from "../server/proc/index.js";
import { startGopsd, type Gopsd } from "./harness.js";
import { childrenOf, relayProcesses, relaysLeft, startNamespacedAgent, type Namespaced } from "./namespaced.js";

const root = process.getuid?.() === 0;
/** This process's network namespace, read before any dial. */
const home = readlinkSync("/proc/self/ns/net");
const skip = root ? false : "needs root (unshare, setns)";

async function collect(it: AsyncIterable<{ chunk?: Buffer }>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const m of it) if (m.chunk) parts.push(m.chunk);
  return Buffer.concat(parts);
}

/**
 * Runs `work` while watching `owner`'s children every millisecond; returns the children that appeared meanwhile
 * (not there before). A relay lives for milliseconds (several event-loop turns of its owner), so over dozens of
 * calls a process per call cannot go unseen.
 */
async function newChildrenDuring(owner: number, work: () => Promise<void>): Promise<number[]> {
  const before = new Set(childrenOf(owner));
  const seen = new Set<number>();
  const timer = setInterval(() => {
    for (const c of childrenOf(owner)) if (!before.has(c)) seen.add(c);
  }, 1);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return [...seen];
}

/** Version, MemStats and Stack on each pid, `rounds` times. */
async function calls(d: Diagnostics, pids: number[], rounds: number): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    for (const pid of pids) {
      assert.match((await d.version({ pid })).goVersion, /^go1\./);
      assert.ok((await d.memStats({ pid })).stats!.heapAlloc > 0);
      assert.match((await collect(d.stack({ pid }))).toString(), /goroutine \d+/);
    }
  }
}

describe("agents in other network namespaces: sockets made there by gopsd, the relay only as a fallback", { skip }, () => {
  const targets: Namespaced[] = [];
  let pids: number[];

  before(async () => {
    targets.push(...(await Promise.all([startNamespacedAgent(), startNamespacedAgent({ args: ["-addr", "0.0.0.0:0"] })])));
    pids = targets.map((t) => t.pid);
  });
  after(async () => {
    await Promise.all(targets.map((t) => t.stop()));
  });

  it("local: calls go through sockets made in each namespace; no process is started", async () => {
    const local = createLocalDiagnostics({ hostName: "setns-test" });
    const list = await local.listProcesses({});
    for (const pid of pids) {
      const p = list.processes.find((x) => x.pid === pid);
      assert.equal(p?.agent?.state, AgentState.AGENT_STATE_LISTENING, p?.agent?.detail);
      assert.match(p!.agent!.networkNamespace ?? "", /^net:\[\d+\]$/);
    }
    const born = await newChildrenDuring(process.pid, () => calls(local, pids, 10));
    assert.deepEqual(born, [], "no child process during 60 calls");
    assert.deepEqual(relayProcesses(process.pid), []);
    assert.equal(readlinkSync(`/proc/self/task/${process.pid}/ns/net`), home, "the main thread is back home");
  });

  it("gopsd: the same through a real gopsd, with no child of gopsd and no note about a relay", async () => {
    const gopsd = await startGopsd();
    const client = connect(gopsd.address);
    try {
      await calls(client, pids, 1); // warm (first namespaced dial loads koffi)
      const born = await newChildrenDuring(gopsd.proc.pid!, () => calls(client, pids, 15));
      assert.deepEqual(born, [], "no child of gopsd during 90 calls");
      assert.doesNotMatch(gopsd.stderr(), /relay/);
    } finally {
      client.close();
      await gopsd.stop();
    }
  });

  describe("the relay fallback (GOPSCTL_NETNS_DIAL=relay)", () => {
    let gopsd: Gopsd;
    before(async () => {
      gopsd = await startGopsd({ env: { GOPSCTL_NETNS_DIAL: "relay" } });
    });
    after(async () => {
      await gopsd?.stop();
    });

    it("serves the same calls with a process per call, and says so once in gopsd's log", async () => {
      const client = connect(gopsd.address);
      try {
        const born = await newChildrenDuring(gopsd.proc.pid!, () => calls(client, pids, 3));
        assert.ok(born.length > 0, "the census sees the relays (so it would see any process per call)");
      } finally {
        client.close();
      }
      const notes = gopsd.stderr().match(/through a relay process per call.*GOPSCTL_NETNS_DIAL=relay is set/g) ?? [];
      assert.equal(notes.length, 1, gopsd.stderr());
      assert.deepEqual(await relaysLeft(gopsd.proc.pid!), []);
    });

    it("a relay dies with gopsd: SIGKILL gopsd mid-call, its relay is gone", async () => {
      const hung = await startNamespacedAgent({ args: ["-mode", "hang"] });
      targets.push(hung);
      const owner = gopsd.proc.pid!;
      const client = connect(gopsd.address);
      const call = client.version({ pid: hung.pid }).catch((e: unknown) => e);
      try {
        for (let i = 0; i < 100 && relayProcesses(owner).length === 0; i++) await sleep(50);
        const relays = relayProcesses(owner);
        assert.equal(relays.length, 1, "the call's relay waits on the hung agent");
        gopsd.proc.kill("SIGKILL");
        assert.deepEqual(await relaysLeft(owner), [], `relay ${relays[0]} outlived gopsd`);
        assert.ok((await call) instanceof Error, "the call failed with gopsd");
      } finally {
        client.close();
      }
    });
  });

  it("a process that moved to another network namespace is refused right before the dial", async () => {
    const mover = await startNamespacedAgent({ env: { FIXTURE_NETNS_MOVE: "1" } });
    targets.push(mover);
    const local = createLocalDiagnostics({ hostName: "setns-test" });
    const agent = (await local.listProcesses({})).processes.find((p) => p.pid === mover.pid)?.agent;
    assert.equal(agent?.state, AgentState.AGENT_STATE_LISTENING, agent?.detail);
    assert.match((await local.version({ pid: mover.pid })).goVersion, /^go1\./);
    const fs = createProcFs();
    const verified = { pid: mover.pid, netns: agent!.networkNamespace!, starttime: parseStat(fs.readStat(mover.pid)).starttime };

    process.kill(mover.pid, "SIGUSR2"); // unshare(CLONE_NEWNET) on its main thread
    for (let i = 0; i < 100 && readlinkSync(`/proc/${mover.pid}/ns/net`) === verified.netns; i++) await sleep(20);
    assert.notEqual(readlinkSync(`/proc/${mover.pid}/ns/net`), verified.netns, "the process changed namespace");

    // Its agent's socket is still listening in the old namespace: only the check before the dial refuses it.
    assert.throws(
      () => dialInNamespace(fs, verified, agentAddress("127.0.0.1", mover.port), "test"),
      (e: unknown) => e instanceof GopsError && e.code === Status.UNAVAILABLE && /left the network namespace/.test(e.message),
    );
    await assert.rejects(local.version({ pid: mover.pid }), (e: unknown) => e instanceof GopsError && e.code !== Status.OK);
  });
});
