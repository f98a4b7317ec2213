import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import net from "node:net";
import { after, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { GopsError, Status } from "../../common/errors.js";
import { agentAddress, callAgent, defaultMaxBytes, formatAgentAddress, parseAgentAddress, streamAgent, type AgentAddress, type AgentCallOptions } from "./client.js";
import { encodeSignedVarint } from "./codec.js";
import { Signal } from "./signals.js";

interface Conn {
  socket: net.Socket;
  chunks: Buffer[];
  /** Resolves when the fake's side of the connection has closed (the client hung up or reset). */
  closed: Promise<void>;
  /** Resolves with the first segment the fake read. */
  firstData: Promise<Buffer>;
  received(): Buffer;
}

interface Fake {
  addr: AgentAddress;
  conns: Conn[];
  close(): Promise<void>;
}

const fakes: Fake[] = [];
after(async () => {
  for (const f of fakes) await f.close();
});

/** A fake agent on 127.0.0.1:0; `behave` runs for each accepted connection. */
async function fakeAgent(behave: (conn: Conn) => void): Promise<Fake> {
  const conns: Conn[] = [];
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    socket.on("error", () => {});
    const chunks: Buffer[] = [];
    socket.on("data", (d: Buffer) => chunks.push(d));
    const conn: Conn = {
      socket,
      chunks,
      closed: once(socket, "close").then(() => undefined),
      firstData: once(socket, "data").then(([d]) => d as Buffer),
      received: () => Buffer.concat(chunks),
    };
    conns.push(conn);
    behave(conn);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as net.AddressInfo;
  const fake: Fake = {
    addr: agentAddress("127.0.0.1", port),
    conns,
    close: async () => {
      for (const c of conns) c.socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  fakes.push(fake);
  return fake;
}

/** Replies with `parts`, one write each, `gapMs` apart, after the request arrived; then EOF. */
function replyInParts(parts: Array<string | Buffer>, gapMs: number) {
  return async (conn: Conn) => {
    await conn.firstData;
    for (const p of parts) {
      if (conn.socket.destroyed) return;
      conn.socket.write(p);
      await sleep(gapMs);
    }
    conn.socket.end();
  };
}

const opts = (more: Partial<AgentCallOptions> = {}): AgentCallOptions => ({
  connectTimeoutMs: 1_000,
  deadlineMs: 2_000,
  ...more,
});

const isCode = (code: Status, re?: RegExp) => (e: unknown) => {
  assert.ok(e instanceof GopsError, `expected a GopsError, got ${String(e)}`);
  assert.equal(Status[e.code], Status[code], e.message);
  if (re) assert.match(e.message, re);
  return true;
};

/** Resolves true if `p` settles within ms. */
const within = (p: Promise<unknown>, ms: number) => Promise.race([p.then(() => true), sleep(ms).then(() => false)]);

describe("streamAgent / callAgent against fake agents", () => {
  it("sends one signal byte and yields a reply that arrives in several chunks until EOF", async () => {
    const fake = await fakeAgent((c) => void replyInParts(["goroutines: 3\n", "OS threads: 7\n", "GOMAXPROCS: 2\nnum CPU: 2\n"], 40)(c));
    const chunks: string[] = [];
    for await (const chunk of streamAgent(fake.addr, Signal.Stats, undefined, opts())) chunks.push(chunk.toString());
    assert.ok(chunks.length >= 2, `expected several chunks, got ${chunks.length}`);
    assert.equal(chunks.join(""), "goroutines: 3\nOS threads: 7\nGOMAXPROCS: 2\nnum CPU: 2\n");
    await fake.conns[0]!.closed;
    assert.deepEqual(fake.conns[0]!.received(), Buffer.from([0x07]));
  });

  it("sends SetGCPercent and its varint argument in one write", async () => {
    const fake = await fakeAgent((c) => void replyInParts(["New GC percent set to 100. Previous value was -1.\n"], 0)(c));
    const reply = await callAgent(fake.addr, Signal.SetGCPercent, encodeSignedVarint(100), opts());
    assert.equal(reply.toString(), "New GC percent set to 100. Previous value was -1.\n");
    assert.deepEqual(await fake.conns[0]!.firstData, Buffer.from([0x10, 0xc8, 0x01]));
    await fake.conns[0]!.closed;
    assert.deepEqual(fake.conns[0]!.received(), Buffer.from([0x10, 0xc8, 0x01]));
  });

  it("returns a large binary reply intact", async () => {
    const payload = Buffer.alloc(6 << 20);
    for (let i = 0; i < payload.length; i += 4) payload.writeUInt32LE((i * 2654435761) >>> 0, i);
    const fake = await fakeAgent((c) => void c.firstData.then(() => c.socket.end(payload)));
    const t0 = performance.now();
    const reply = await callAgent(fake.addr, Signal.BinaryDump, undefined, opts({ maxBytes: 8 << 20 }));
    const ms = performance.now() - t0;
    assert.ok(reply.equals(payload));
    console.log(`# 6 MiB over loopback in ${ms.toFixed(1)} ms (${(6 / (ms / 1000)).toFixed(0)} MiB/s)`);
  });

  it("treats an empty reply to a known signal as a protocol error", async () => {
    const fake = await fakeAgent((c) => void c.firstData.then(() => c.socket.end()));
    await assert.rejects(callAgent(fake.addr, Signal.MemStats, undefined, opts()), isCode(Status.INTERNAL, /empty reply to MemStats \(0x03\)/));
    assert.deepEqual(fake.conns[0]!.received(), Buffer.from([0x03]));
  });

  it("returns the empty reply to an unknown byte (a capability probe)", async () => {
    const fake = await fakeAgent((c) => void c.firstData.then(() => c.socket.end()));
    const reply = await callAgent(fake.addr, 0x11, undefined, opts());
    assert.equal(reply.length, 0);
    assert.deepEqual(fake.conns[0]!.received(), Buffer.from([0x11]));
  });

  it("gives up at the deadline when the agent never answers, and closes the socket", async () => {
    const fake = await fakeAgent(() => {});
    const t0 = performance.now();
    await assert.rejects(
      callAgent(fake.addr, Signal.CPUProfile, undefined, opts({ deadlineMs: 300 })),
      isCode(Status.DEADLINE_EXCEEDED, /did not finish CPUProfile \(0x06\) within 300ms/),
    );
    const elapsed = performance.now() - t0;
    // Not before the deadline; that it was the deadline and not a hang, the error says.
    assert.ok(elapsed >= 290, `elapsed ${elapsed}`);
    assert.ok(await within(fake.conns[0]!.closed, 1_000), "the fake agent did not see the connection close");
    assert.deepEqual(fake.conns[0]!.received(), Buffer.from([0x06]));
  });

  it("reports an agent that closes without replying", async () => {
    const fake = await fakeAgent((c) => c.socket.end());
    await assert.rejects(callAgent(fake.addr, Signal.Version, undefined, opts()), isCode(Status.INTERNAL, /empty reply/));
  });

  it("reports an agent that resets the connection mid-reply as unavailable", async () => {
    const fake = await fakeAgent(async (c) => {
      await c.firstData;
      c.socket.write("goroutine 1 [running]:\n");
      await sleep(30);
      c.socket.resetAndDestroy();
    });
    const got: Buffer[] = [];
    await assert.rejects(async () => {
      for await (const chunk of streamAgent(fake.addr, Signal.StackTrace, undefined, opts())) got.push(chunk);
    }, isCode(Status.UNAVAILABLE, /reset/));
    assert.equal(Buffer.concat(got).toString(), "goroutine 1 [running]:\n");
  });

  it("waits for a slow agent within the deadline", async () => {
    const parts = Array.from({ length: 6 }, (_, i) => `line ${i}\n`);
    const fake = await fakeAgent((c) => void replyInParts(parts, 50)(c));
    const reply = await callAgent(fake.addr, Signal.StackTrace, undefined, opts({ deadlineMs: 2_000 }));
    assert.equal(reply.toString(), parts.join(""));
  });

  it("fails a slow agent that is still sending at the deadline, after yielding what came", async () => {
    const parts = Array.from({ length: 20 }, (_, i) => `line ${i}\n`);
    const fake = await fakeAgent((c) => void replyInParts(parts, 50)(c));
    const got: string[] = [];
    await assert.rejects(async () => {
      for await (const chunk of streamAgent(fake.addr, Signal.Trace, undefined, opts({ deadlineMs: 250 }))) {
        got.push(chunk.toString());
      }
    }, isCode(Status.DEADLINE_EXCEEDED));
    assert.ok(got.length >= 2 && got.length < parts.length, `got ${got.length} chunks`);
    assert.ok(await within(fake.conns[0]!.closed, 1_000));
  });

  it("reports a refused connection as unavailable", async () => {
    const probe = net.createServer().listen(0, "127.0.0.1");
    await once(probe, "listening");
    const { port } = probe.address() as net.AddressInfo;
    await new Promise<void>((r) => probe.close(() => r()));
    await assert.rejects(
      callAgent(agentAddress("127.0.0.1", port), Signal.Version, undefined, opts()),
      isCode(Status.UNAVAILABLE, /refused/),
    );
  });

  it("stops at once on abort mid-stream and closes the socket", async () => {
    const fake = await fakeAgent(async (c) => {
      await c.firstData;
      c.socket.write(Buffer.alloc(100, 1));
    });
    const ac = new AbortController();
    let n = 0;
    await assert.rejects(async () => {
      for await (const chunk of streamAgent(fake.addr, Signal.HeapProfile, undefined, opts({ signal: ac.signal, deadlineMs: 5_000 }))) {
        n += chunk.length;
        setTimeout(() => ac.abort(), 20);
      }
    }, isCode(Status.CANCELLED, /HeapProfile \(0x05\)/));
    assert.equal(n, 100); // CANCELLED, not the 5 s deadline: the abort ended it
    assert.ok(await within(fake.conns[0]!.closed, 1_000));
  });

  it("does not connect when the signal is already aborted", async () => {
    const fake = await fakeAgent(() => {});
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(callAgent(fake.addr, Signal.GC, undefined, opts({ signal: ac.signal })), isCode(Status.CANCELLED));
    await sleep(50);
    assert.equal(fake.conns.length, 0);
  });

  it("does not connect until iteration starts", async () => {
    const fake = await fakeAgent(() => {});
    streamAgent(fake.addr, Signal.GC, undefined, opts());
    await sleep(50);
    assert.equal(fake.conns.length, 0);
  });

  it("closes the socket when the consumer stops iterating early", async () => {
    const fake = await fakeAgent(async (c) => {
      await c.firstData;
      c.socket.write("first chunk");
    });
    for await (const chunk of streamAgent(fake.addr, Signal.BinaryDump, undefined, opts({ deadlineMs: 10_000 }))) {
      assert.equal(chunk.toString(), "first chunk");
      break;
    }
    assert.ok(await within(fake.conns[0]!.closed, 500), "socket left open after break");
  });

  it("fails with RESOURCE_EXHAUSTED beyond maxBytes and closes the socket", async () => {
    const fake = await fakeAgent(async (c) => {
      await c.firstData;
      for (let i = 0; i < 10 && !c.socket.destroyed; i++) {
        c.socket.write(Buffer.alloc(1_000));
        await sleep(10);
      }
    });
    let n = 0;
    await assert.rejects(async () => {
      for await (const chunk of streamAgent(fake.addr, Signal.BinaryDump, undefined, opts({ maxBytes: 4_096 }))) n += chunk.length;
    }, isCode(Status.RESOURCE_EXHAUSTED, /more than 4096 bytes for BinaryDump/));
    assert.ok(n <= 4_096, `yielded ${n} bytes`);
    assert.ok(await within(fake.conns[0]!.closed, 1_000));
  });

  it("bounds every reply by default: 1 MiB for text signals, the signal's own limit otherwise", async () => {
    // An endless agent: writes until the client hangs up.
    const endless = () =>
      fakeAgent(async (c) => {
        await c.firstData;
        const block = Buffer.alloc(64 << 10, 0x61);
        // The client's hang-up may be a reset: closed then rejects (events.once), which is fine here.
        const gone = c.closed.catch(() => undefined);
        while (!c.socket.destroyed) {
          if (!c.socket.write(block)) await Promise.race([new Promise((r) => c.socket.once("drain", r)), gone]);
        }
      });
    for (const sig of [Signal.MemStats, Signal.Stats, Signal.Version, Signal.GC, Signal.SetGCPercent, 0x11]) {
      const fake = await endless();
      await assert.rejects(callAgent(fake.addr, sig, undefined, opts()), isCode(Status.RESOURCE_EXHAUSTED, /more than 1048576 bytes/));
      assert.ok(await within(fake.conns[0]!.closed.catch(() => undefined), 1_000), `socket left open for signal ${sig}`);
    }
    assert.equal(defaultMaxBytes(Signal.StackTrace), 64 << 20);
    assert.equal(defaultMaxBytes(Signal.CPUProfile), 512 << 20);
    assert.ok(defaultMaxBytes(Signal.BinaryDump) <= 1 << 30);
  });

  it("rejects bad options before connecting", async () => {
    const fake = await fakeAgent(() => {});
    await assert.rejects(callAgent(fake.addr, Signal.GC, undefined, opts({ deadlineMs: 0 })), isCode(Status.INVALID_ARGUMENT));
    await assert.rejects(callAgent(fake.addr, 300, undefined, opts()), isCode(Status.INVALID_ARGUMENT));
    assert.equal(fake.conns.length, 0);
  });

  it("makes an address for loopback IPs only (issue 17 item 1)", () => {
    for (const ip of ["127.0.0.1", "127.250.0.9", "::1", "0:0:0:0:0:0:0:1"]) assert.equal(agentAddress(ip, 80).host, ip);
    for (const ip of ["10.99.0.2", "0.0.0.0", "::", "localhost", "::ffff:10.0.0.1", "fd00::5", "192.168.1.1", ""]) {
      assert.throws(() => agentAddress(ip, 80), (e: unknown) => isCode(Status.UNAVAILABLE)(e) && /not a loopback address/.test((e as Error).message), ip);
    }
    assert.throws(() => agentAddress("127.0.0.1", 0), isCode(Status.INVALID_ARGUMENT));
    assert.equal(parseAgentAddress("[::1]:6060").port, 6060);
    assert.throws(() => parseAgentAddress("10.99.0.2:6060"), isCode(Status.UNAVAILABLE));
  });

  it("never dials an address off loopback, however it was made", async () => {
    let dialled = 0;
    const forged = { host: "10.99.0.2", port: 80 } as unknown as AgentAddress;
    const dial = () => {
      dialled++;
      throw new Error("dialled");
    };
    await assert.rejects(callAgent(forged, Signal.Version, undefined, opts({ dial })), isCode(Status.UNAVAILABLE));
    assert.equal(dialled, 0);
  });

  it("formats IPv6 addresses with brackets", () => {
    assert.equal(formatAgentAddress(agentAddress("::1", 5)), "[::1]:5");
    assert.equal(formatAgentAddress(agentAddress("127.0.0.1", 5)), "127.0.0.1:5");
  });
});

describe("connect timeout", () => {
  let child: ChildProcess | undefined;
  const fillers: net.Socket[] = [];
  after(() => {
    for (const s of fillers) s.destroy();
    child?.kill("SIGKILL");
  });

  it("gives up on a connect that gets no answer (listener whose accept queue is full)", async () => {
    // A listener with backlog 1 in a process that never accepts: once its queue is full the kernel drops
    // further SYNs, so a connect hangs in SYN_SENT.
    child = spawn(
      process.execPath,
      [
        "-e",
        `const s=require("net").createServer();s.listen({port:0,host:"127.0.0.1",backlog:1},()=>{` +
          `process.stdout.write(String(s.address().port)+"\\n");setTimeout(()=>Atomics.wait(new Int32Array(new SharedArrayBuffer(4)),0,0),50)})`,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    const [line] = (await once(child.stdout!, "data")) as [Buffer];
    const port = Number(line.toString().trim());
    await sleep(150); // the child is now blocked and will never accept
    for (let i = 0; i < 4; i++) {
      const s = net.connect({ host: "127.0.0.1", port });
      s.on("error", () => {});
      fillers.push(s);
    }
    await sleep(200);
    const t0 = performance.now();
    await assert.rejects(
      callAgent(agentAddress("127.0.0.1", port), Signal.Version, undefined, opts({ connectTimeoutMs: 300, deadlineMs: 5_000 })),
      isCode(Status.UNAVAILABLE, /no TCP connection within 300ms/),
    );
    const elapsed = performance.now() - t0;
    assert.ok(elapsed >= 290, `elapsed ${elapsed}`); // the connect timeout, not the 5 s deadline: the error says which
  });
});
