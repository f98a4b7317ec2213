import assert from "node:assert/strict";
import { once } from "node:events";
import net from "node:net";
import { after, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { createConnectionGuard, sourceOf, type ConnectionLimits } from "./connection-guard.js";

const servers: net.Server[] = [];
const clients: net.Socket[] = [];
after(async () => {
  for (const c of clients) c.destroy();
  for (const s of servers) await new Promise((r) => s.close(r));
});

/** A loopback server whose accepted sockets go through a guard; `accepted` has the server's side of each. */
async function guarded(limits: Partial<ConnectionLimits>) {
  const guard = createConnectionGuard({ maxConnections: 100, maxConnectionsPerSource: 100, setupTimeoutMs: 60_000, idleTimeoutMs: 60_000, ...limits });
  const accepted: net.Socket[] = [];
  const server = net.createServer((s) => {
    s.on("error", () => {});
    if (guard.admit(s)) accepted.push(s);
  });
  servers.push(server);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as net.AddressInfo;
  /** Connects from `from`; resolves with the client socket and a promise of its close. */
  const connect = async (from = "127.0.0.1") => {
    const c = net.connect({ host: "127.0.0.1", port, localAddress: from });
    clients.push(c);
    c.on("error", () => {});
    const closed = once(c, "close").then(() => true);
    await once(c, "connect");
    return { c, closed };
  };
  return { guard, accepted, connect };
}

const closesWithin = (p: Promise<boolean>, ms: number) => Promise.race([p, sleep(ms).then(() => false)]);

describe("connection guard", () => {
  it("treats IPv4-mapped IPv6 as its IPv4 source", () => {
    assert.equal(sourceOf("::ffff:127.0.0.2"), "127.0.0.2");
    assert.equal(sourceOf("::1"), "::1");
    assert.equal(sourceOf(undefined), "local");
  });

  it("closes connections beyond the per-source cap at once, and admits other sources", async () => {
    const { guard, connect } = await guarded({ maxConnectionsPerSource: 2 });
    const kept = [await connect("127.0.0.2"), await connect("127.0.0.2")];
    const third = await connect("127.0.0.2");
    assert.equal(await closesWithin(third.closed, 2_000), true, "the third connection from one source was not closed");
    const other = await connect("127.0.0.3");
    assert.equal(await closesWithin(other.closed, 200), false, "another source was refused");
    for (const k of kept) assert.equal(k.c.destroyed, false);
    assert.equal(guard.open("127.0.0.2"), 2);
    assert.equal(guard.open(), 3);
  });

  it("closes connections beyond the total cap at once", async () => {
    const { connect } = await guarded({ maxConnections: 2 });
    await connect("127.0.0.2");
    await connect("127.0.0.3");
    const third = await connect("127.0.0.4");
    assert.equal(await closesWithin(third.closed, 2_000), true);
  });

  it("closes a connection that starts no call within the set-up timeout, and frees its slot", async () => {
    const { guard, connect } = await guarded({ setupTimeoutMs: 200, maxConnectionsPerSource: 1 });
    const first = await connect("127.0.0.2");
    assert.equal(await closesWithin(first.closed, 5_000), true);
    for (let i = 0; i < 50 && guard.open("127.0.0.2") > 0; i++) await sleep(20);
    const second = await connect("127.0.0.2");
    assert.equal(await closesWithin(second.closed, 100), false, "the slot was not freed");
  });

  it("keeps a connection with a call in progress, and closes it once idle for the idle timeout", async () => {
    const { guard, accepted, connect } = await guarded({ setupTimeoutMs: 150, idleTimeoutMs: 300 });
    const conn = await connect("127.0.0.2");
    for (let i = 0; i < 50 && accepted.length === 0; i++) await sleep(10);
    const server = accepted[0]!;
    const done = guard.callStarted(`${server.remoteAddress}:${server.remotePort}`);
    assert.equal(await closesWithin(conn.closed, 600), false, "closed during a call");
    done();
    done(); // idempotent
    assert.equal(await closesWithin(conn.closed, 5_000), true, "not closed after the call ended and it stayed idle");
  });

  it("ignores calls of unknown peers", () => {
    const guard = createConnectionGuard({ maxConnections: 1, maxConnectionsPerSource: 1, setupTimeoutMs: 1, idleTimeoutMs: 1 });
    guard.callStarted("unknown")();
    assert.equal(guard.open(), 0);
  });
});
