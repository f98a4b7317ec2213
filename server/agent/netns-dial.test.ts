// The relay against a local agent-like server, entered through this process's own network namespace (nsenter
// needs CAP_SYS_ADMIN even for that: root only). Other namespaces: integration/containers.e2e.test.ts.
import assert from "node:assert/strict";
import { once } from "node:events";
import { spawn } from "node:child_process";
import { closeSync, fstatSync, openSync, readFileSync, readlinkSync } from "node:fs";
import net from "node:net";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { GopsError, Status } from "../../common/errors.js";
import { createProcFs } from "../proc/proc-fs.js";
import { parseStat } from "../proc/parse-stat.js";
import { agentAddress, callAgent, streamAgent } from "./client.js";
import { encodeRelayRequest, openVerifiedNamespace, RelaySocket } from "./netns-dial.js";
import { Signal } from "./signals.js";

const root = process.getuid?.() === 0;

/** Whether our child `pid` (the relay) is still running (a reused pid would have another parent). */
function relayRunning(pid: number): boolean {
  try {
    const st = parseStat(readFileSync(`/proc/${pid}/stat`, "utf8"));
    return st.state !== "Z" && st.state !== "X" && st.ppid === process.pid;
  } catch {
    return false;
  }
}

describe("RelaySocket", { skip: root ? false : "needs root for nsenter" }, () => {
  let server: net.Server;
  let port: number;
  const received: Buffer[] = [];
  let hold = false;

  before(async () => {
    server = net.createServer((s) => {
      s.on("error", () => {});
      s.once("data", (d: Buffer) => {
        received.push(d);
        if (!hold) s.end(`go1.19.8 reply to ${d[0]}\n`);
      });
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    port = (server.address() as net.AddressInfo).port;
  });
  after(() => server.close());

  const viaRelay = (p = port) => {
    let relay: RelaySocket | undefined;
    const dial = () => {
      const fd = openSync("/proc/self/ns/net", "r");
      try {
        return (relay = new RelaySocket(fd, agentAddress("127.0.0.1", p), `127.0.0.1:${p} (relay)`));
      } finally {
        closeSync(fd);
      }
    };
    return { dial, relay: () => relay };
  };

  it("carries a request with NUL and newline bytes exactly", async () => {
    const r = viaRelay();
    // SetGCPercent(0) is 0x10 0x00; the server here echoes only the first byte, so check what it received.
    await callAgent(agentAddress("127.0.0.1", port), Signal.SetGCPercent, Buffer.from([0x00, 0x0a]), { connectTimeoutMs: 3000, deadlineMs: 5000, dial: r.dial });
    assert.deepEqual(received.at(-1), Buffer.from([0x10, 0x00, 0x0a]));
  });

  it("carries the request in and the reply out to EOF", async () => {
    const r = viaRelay();
    const reply = await callAgent(agentAddress("127.0.0.1", port), Signal.Version, undefined, {
      connectTimeoutMs: 3000,
      deadlineMs: 5000,
      dial: r.dial,
    });
    assert.equal(reply.toString(), "go1.19.8 reply to 4\n");
    assert.deepEqual(received.at(-1), Buffer.from([4]));
    const pid = r.relay()!.pid!;
    for (let i = 0; i < 40 && relayRunning(pid); i++) await sleep(50);
    assert.equal(relayRunning(pid), false, "the relay is gone");
  });

  it("a refused connection inside the namespace is UNAVAILABLE", async () => {
    const closed = net.createServer().listen(0, "127.0.0.1");
    await once(closed, "listening");
    const free = (closed.address() as net.AddressInfo).port;
    closed.close();
    await assert.rejects(
      callAgent(agentAddress("127.0.0.1", free), Signal.Version, undefined, { connectTimeoutMs: 3000, deadlineMs: 5000, dial: viaRelay(free).dial }),
      (e: unknown) => {
        assert.ok(e instanceof GopsError);
        assert.equal(e.code, Status.UNAVAILABLE);
        assert.match(e.message, /refused/);
        return true;
      },
    );
  });

  it("a deadline while the agent says nothing kills the relay", async () => {
    hold = true;
    try {
      const r = viaRelay();
      await assert.rejects(
        callAgent(agentAddress("127.0.0.1", port), Signal.StackTrace, undefined, { connectTimeoutMs: 3000, deadlineMs: 400, dial: r.dial }),
        (e: unknown) => e instanceof GopsError && e.code === Status.DEADLINE_EXCEEDED,
      );
      const pid = r.relay()!.pid!;
      for (let i = 0; i < 40 && relayRunning(pid); i++) await sleep(50);
      assert.equal(relayRunning(pid), false);
    } finally {
      hold = false;
    }
  });

  it("a consumer that stops reading early kills it too", async () => {
    hold = true;
    try {
      const r = viaRelay();
      const ctl = new AbortController();
      const stream = streamAgent(agentAddress("127.0.0.1", port), Signal.StackTrace, undefined, {
        connectTimeoutMs: 3000,
        deadlineMs: 10_000,
        dial: r.dial,
        signal: ctl.signal,
      });
      const pending = stream.next();
      await sleep(200);
      ctl.abort();
      await assert.rejects(pending, (e: unknown) => e instanceof GopsError && e.code === Status.CANCELLED);
      const pid = r.relay()!.pid!;
      for (let i = 0; i < 40 && relayRunning(pid); i++) await sleep(50);
      assert.equal(relayRunning(pid), false);
    } finally {
      hold = false;
    }
  });
});

describe("encodeRelayRequest", () => {
  it("writes every byte, NUL and newline included, as a printf escape on one line", () => {
    assert.equal(encodeRelayRequest(Buffer.from([0x10, 0x00, 0x0a, 0xff])), "\\x10\\x00\\x0a\\xff\n");
    assert.equal(encodeRelayRequest(Buffer.from([4])), "\\x04\n");
  });
});

describe("openVerifiedNamespace", { skip: root ? false : "needs root (unshare --net for a process in another namespace)" }, () => {
  const fs = createProcFs();
  const me = process.pid;
  const netns = readlinkSync("/proc/self/ns/net");
  const starttime = parseStat(fs.readStat(me)).starttime;

  /** The network namespace the descriptor refers to, as /proc/PID/ns/net names it (nsfs inode). */
  const nsOf = (fd: number) => `net:[${fstatSync(fd).ino}]`;

  it("opens the namespace of the very process that was verified: the fd's nsfs inode is that process's netns", async () => {
    // A process in a network namespace of its own, so its namespace and this process's differ.
    const other = spawn("unshare", ["--net", "--", "sleep", "60"], { stdio: "ignore" });
    try {
      const pid = other.pid!;
      let theirs = "";
      for (let i = 0; i < 100; i++) {
        try {
          theirs = readlinkSync(`/proc/${pid}/ns/net`);
          if (theirs !== netns && readFileSync(`/proc/${pid}/comm`, "utf8").trim() === "sleep") break;
        } catch {
          // not started yet
        }
        await sleep(20);
      }
      assert.notEqual(theirs, netns, "the unshare --net child has a namespace of its own");
      const fd = openVerifiedNamespace(fs, { pid, netns: theirs, starttime: parseStat(fs.readStat(pid)).starttime });
      try {
        assert.equal(nsOf(fd), theirs);
      } finally {
        closeSync(fd);
      }
      const own = openVerifiedNamespace(fs, { pid: me, netns, starttime });
      try {
        assert.equal(nsOf(own), netns);
      } finally {
        closeSync(own);
      }
    } finally {
      other.kill("SIGKILL");
    }
  });

  it("NOT_FOUND when the pid now names another process (start time differs)", () => {
    assert.throws(() => openVerifiedNamespace(fs, { pid: me, netns, starttime: starttime + 1 }), (e: unknown) => e instanceof GopsError && e.code === Status.NOT_FOUND);
  });

  it("UNAVAILABLE when the process is in another namespace than the one verified", () => {
    assert.throws(
      () => openVerifiedNamespace(fs, { pid: me, netns: "net:[1]", starttime }),
      (e: unknown) => e instanceof GopsError && e.code === Status.UNAVAILABLE && /left the network namespace/.test(e.message),
    );
  });
});
