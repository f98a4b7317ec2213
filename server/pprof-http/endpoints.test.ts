import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, beforeEach, describe, it } from "node:test";
import { FakeProcFs, inetTable, type FakeProcess } from "../proc/fake-proc-fs.testkit.js";
import { PprofLocator, type DeclaredEndpoint, type ProbeBudget } from "./endpoints.js";

const HOST_NETNS = "net:[4026531840]";
const ARGV = ["/srv/app", "-listen", ":6060"];
const BUDGET: ProbeBudget = { maxRequests: 64, totalMs: 5_000, concurrency: 2 };
const hex = (port: number) => port.toString(16).toUpperCase().padStart(4, "0");

describe("PprofLocator (fake /proc, a real loopback pprof look-alike)", () => {
  let server: Server;
  let port: number;
  let requests: string[] = [];
  /** What the look-alike says its argv is. */
  let servedArgv = ARGV;

  before(async () => {
    server = createServer((req, res) => {
      requests.push(req.url!);
      if (req.url === "/debug/pprof/cmdline" || req.url === "/admin/debug/pprof/cmdline") res.end(servedArgv.join("\0"));
      else if (req.url === "/debug/pprof/" || req.url === "/admin/debug/pprof/") res.end("<html><a href='goroutine?debug=1'>goroutine</a></html>");
      else res.writeHead(404).end("404 page not found\n");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as AddressInfo).port;
  });
  after(() => server.close());
  beforeEach(() => {
    requests = [];
    servedArgv = ARGV;
  });

  const proc = (p: Partial<FakeProcess> = {}): FakeProcess => ({
    comm: "app",
    starttime: 1000,
    cmdline: ARGV,
    exe: undefined,
    fds: ["/dev/null", "socket:[555]"],
    net: { tcp: inetTable("tcp", [{ local: `0100007F:${hex(port)}`, st: "0A", inode: 555 }]) },
    ...p,
  });
  const locator = (fs: FakeProcFs, declared: DeclaredEndpoint[] = []) =>
    new PprofLocator(fs, { ownNetns: HOST_NETNS, declared, requestTimeoutMs: 500 });

  it("lookup sends nothing; a probe verifies cmdline then the index, and is remembered", async () => {
    const fs = new FakeProcFs().add(100, proc());
    const loc = locator(fs);
    assert.equal(loc.lookup(100), undefined);
    assert.deepEqual(requests, []);
    const found = await loc.probe([100], BUDGET, { useNegative: true });
    assert.deepEqual(found.get(100), { target: { host: "127.0.0.1", port }, prefix: "", verified: true });
    assert.deepEqual(requests, ["/debug/pprof/cmdline", "/debug/pprof/"]);
    requests = [];
    assert.deepEqual(loc.lookup(100), found.get(100), "remembered");
    assert.deepEqual(requests, [], "re-verified without a request");
    // The socket goes (its descriptor now holds something else): forgotten.
    fs.add(100, proc({ fds: ["/dev/null", "/dev/null"] }));
    assert.equal(loc.lookup(100), undefined);
  });

  it("an endpoint whose cmdline is another process's is not taken", async () => {
    servedArgv = ["/other/program"];
    const loc = locator(new FakeProcFs().add(100, proc()));
    assert.equal((await loc.probe([100], BUDGET, { useNegative: true })).size, 0);
    assert.deepEqual(requests, ["/debug/pprof/cmdline"]);
  });

  it("never probes a port another process's socket also listens on, a non-loopback address, or another netns", async () => {
    const shared = proc({
      net: {
        tcp: inetTable("tcp", [
          { local: `0100007F:${hex(port)}`, st: "0A", inode: 555 },
          { local: `00000000:${hex(port)}`, st: "0A", inode: 999 },
        ]),
      },
    });
    const elsewhere = proc({ net: { tcp: inetTable("tcp", [{ local: `0500000A:${hex(port)}`, st: "0A", inode: 555 }]) } });
    const notOwned = proc({ fds: ["/dev/null"] });
    const otherNs = proc({ netns: 4026532999 });
    const fs = new FakeProcFs().add(100, shared).add(101, elsewhere).add(102, notOwned).add(103, otherNs);
    const loc = locator(fs);
    assert.equal((await loc.probe([100, 101, 102, 103], BUDGET, { useNegative: true })).size, 0);
    assert.deepEqual(requests, [], "the port in OUR namespace (this test's server) never sees the other namespace's probe");
    assert.equal(loc.whyNone(103), "", "another namespace's port is a candidate, reached through a relay there");
    assert.match(loc.whyNone(101), /no loopback or wildcard TCP port/);
    // The relay could not enter the (fake) namespace: no endpoint, and nothing was sent from here.
    assert.equal(loc.lookup(103), undefined);
    const noRelay = new PprofLocator(fs, { ownNetns: HOST_NETNS, relay: false });
    assert.match(noRelay.whyNone(103), /another network namespace/);
  });

  it("a wildcard listener is probed on loopback", async () => {
    const loc = locator(new FakeProcFs().add(100, proc({ net: { tcp: inetTable("tcp", [{ local: `00000000:${hex(port)}`, st: "0A", inode: 555 }]) } })));
    assert.equal((await loc.probe([100], BUDGET, { useNegative: true })).get(100)?.target.host, "127.0.0.1");
  });

  it("probeExe: only the named executables are probed", async () => {
    const exe = (path: string) => ({ path, id: { dev: 1, ino: 2, size: 3, mtimeMs: 4 }, bytes: Buffer.alloc(0) });
    const fs = new FakeProcFs().add(100, proc({ exe: exe("/opt/other/app") })).add(101, proc({ exe: exe("/srv/bin/app") }));
    const loc = new PprofLocator(fs, { ownNetns: HOST_NETNS, probeExe: ["/srv/bin/*"] });
    const found = await loc.probe([100, 101], BUDGET, { useNegative: true });
    assert.deepEqual([...found.keys()], [101]);
    assert.equal(requests.length, 2, "two requests, both for pid 101");
    assert.match(loc.whyNone(100), /pprof\.probeExe/);
  });

  it("the budget bounds the requests of one probing", async () => {
    servedArgv = ["/other/program"];
    const fs = new FakeProcFs().add(100, proc()).add(101, proc()).add(102, proc());
    const loc = locator(fs);
    await loc.probe([100, 101, 102], { ...BUDGET, maxRequests: 2 }, { useNegative: true });
    assert.equal(requests.length, 2);
  });

  it("a socket found not to be pprof is not probed again by listings, but is by a diagnostic call", async () => {
    servedArgv = ["/other/program"];
    const loc = locator(new FakeProcFs().add(100, proc()));
    await loc.probe([100], BUDGET, { useNegative: true });
    await loc.probe([100], BUDGET, { useNegative: true });
    assert.equal(requests.length, 1);
    await loc.probe([100], BUDGET, { useNegative: false });
    assert.equal(requests.length, 2);
  });

  it("declared endpoints: shown unverified without a request when the port is the process's; verified by a probe with the prefix", async () => {
    const fs = new FakeProcFs().add(100, proc()).add(101, proc({ cmdline: ["/srv/other"] }));
    const loc = locator(fs, [{ cmdline: "-listen :6060", port, prefix: "/admin" }]);
    assert.deepEqual(loc.lookup(100), { target: { host: "127.0.0.1", port }, prefix: "/admin", verified: false });
    assert.equal(loc.lookup(101), undefined, "the cmdline does not match");
    assert.deepEqual(requests, []);
    const found = await loc.probe([100], BUDGET, { useNegative: true });
    assert.deepEqual(found.get(100), { target: { host: "127.0.0.1", port }, prefix: "/admin", verified: true });
    assert.deepEqual(requests, ["/admin/debug/pprof/cmdline", "/admin/debug/pprof/"]);
  });
});
