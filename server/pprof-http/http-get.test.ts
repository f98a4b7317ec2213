import assert from "node:assert/strict";
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createTcpServer, type AddressInfo, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { GopsError, Status } from "../../common/errors.js";
import { httpGet, printableLine, readBody, readHead } from "./http-get.js";

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

describe("httpGet (loopback HTTP/1.1 servers that misbehave)", () => {
  let server: Server;
  let port: number;
  const routes = new Map<string, Handler>();
  const seen: string[] = [];
  const sockets = new Set<Socket>();
  let closedRequests = 0;

  before(async () => {
    server = createHttpServer((req, res) => {
      seen.push(`${req.method} ${req.url} ${req.headers.connection}`);
      req.on("close", () => closedRequests++);
      (routes.get(req.url!) ?? ((_q, r) => r.writeHead(404).end("nope")))(req, res);
    });
    server.on("connection", (s) => {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as AddressInfo).port;
    routes.set("/ok", (_q, r) => r.end("hello"));
    routes.set("/big", (_q, r) => r.end(Buffer.alloc(100_000, 0x61)));
    routes.set("/redirect", (_q, r) => r.writeHead(302, { Location: "/ok" }).end());
    routes.set("/slow", (_q, r) => {
      r.write("partial");
    });
    routes.set("/drip", (_q, r) => {
      const t = setInterval(() => r.write("x"), 20);
      r.on("close", () => clearInterval(t));
    });
  });
  after(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  const opts = (o: Partial<Parameters<typeof httpGet>[2]> = {}) => ({ connectTimeoutMs: 1000, deadlineMs: 2000, maxBytes: 1 << 20, what: "a test", ...o });
  const failure = async (p: Promise<unknown>): Promise<GopsError> => {
    try {
      await p;
    } catch (e) {
      assert.ok(e instanceof GopsError, String(e));
      return e;
    }
    assert.fail("expected a failure");
  };

  it("one GET, Connection: close, the body to its end", async () => {
    const res = await httpGet({ host: "127.0.0.1", port }, "/ok", opts());
    assert.equal(res.status, 200);
    assert.equal((await readBody(res)).toString(), "hello");
    assert.equal(seen.at(-1), "GET /ok close");
  });

  it("does not follow redirects", async () => {
    const before = seen.length;
    const res = await httpGet({ host: "127.0.0.1", port }, "/redirect", opts());
    assert.equal(res.status, 302);
    res.close();
    assert.deepEqual(seen.slice(before), ["GET /redirect close"]);
  });

  it("refuses non-loopback addresses and odd paths before connecting", async () => {
    assert.equal((await failure(httpGet({ host: "10.0.0.1", port }, "/ok", opts()))).code, Status.INVALID_ARGUMENT);
    assert.equal((await failure(httpGet({ host: "127.0.0.1", port }, "/a b\r\nX: y", opts()))).code, Status.INVALID_ARGUMENT);
  });

  it("a body over the limit fails with RESOURCE_EXHAUSTED", async () => {
    const res = await httpGet({ host: "127.0.0.1", port }, "/big", opts({ maxBytes: 1000 }));
    assert.equal((await failure(readBody(res))).code, Status.RESOURCE_EXHAUSTED);
  });

  it("a reply that never ends hits the deadline and the request is closed", async () => {
    const closed = closedRequests;
    const res = await httpGet({ host: "127.0.0.1", port }, "/slow", opts({ deadlineMs: 200 }));
    const e = await failure(readBody(res));
    assert.equal(e.code, Status.DEADLINE_EXCEEDED);
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(closedRequests > closed, "the server saw the request go away");
  });

  it("abort stops a dripping reply with CANCELLED", async () => {
    const ctl = new AbortController();
    const res = await httpGet({ host: "127.0.0.1", port }, "/drip", opts({ signal: ctl.signal, deadlineMs: 10_000 }));
    setTimeout(() => ctl.abort(), 100);
    assert.equal((await failure(readBody(res))).code, Status.CANCELLED);
  });

  it("readHead reads a first line and ends the request; printableLine escapes what the target sent", async () => {
    const res = await httpGet({ host: "127.0.0.1", port }, "/drip", opts({ deadlineMs: 10_000 }));
    const head = await readHead(res, 3);
    assert.equal(head.toString(), "xxx");
    assert.equal(printableLine(Buffer.from("bad\x1b[31m\u00ffthing\nsecond")), "bad?[31m??thing");
  });

  it("a TCP server that never answers: deadline; one that speaks garbage: UNAVAILABLE", async () => {
    const held: Socket[] = [];
    const silent = createTcpServer((s) => held.push(s));
    const garbage = createTcpServer((s) => s.end("SSH-2.0-nope\r\n\r\n"));
    await Promise.all([silent, garbage].map((s) => new Promise<void>((r) => s.listen(0, "127.0.0.1", r))));
    try {
      const p1 = (silent.address() as AddressInfo).port;
      const p2 = (garbage.address() as AddressInfo).port;
      assert.equal((await failure(httpGet({ host: "127.0.0.1", port: p1 }, "/", opts({ deadlineMs: 150 })))).code, Status.DEADLINE_EXCEEDED);
      assert.equal((await failure(httpGet({ host: "127.0.0.1", port: p2 }, "/", opts()))).code, Status.UNAVAILABLE);
    } finally {
      for (const s of held) s.destroy();
      silent.close();
      garbage.close();
    }
  });
});
