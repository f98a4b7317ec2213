// A Go program that serves net/http/pprof (no gops agent) in its own network and pid namespaces: probed and
// called inside ITS namespace through the per-call relay, locally and through a real gopsd, never by dialling
// the same port in ours (a decoy HTTP server listens there and must not see a byte). Needs root.
import assert from "node:assert/strict";
import { readlinkSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { gunzipSync } from "node:zlib";
import { connect, type DiagnosticsHandle } from "../client/index.js";
import { createLocalDiagnostics } from "../client/local.js";
import { Status } from "../common/errors.js";
import { AgentKind, ProfileKind } from "../proto/index.js";
import { captureBytes, drain } from "./grpc-helpers.js";
import { runCli, startGopsd, type Gopsd } from "./harness.js";
import { relaysLeft, startNamespacedAgent, type Namespaced } from "./namespaced.js";

const root = process.getuid?.() === 0;

describe("net/http/pprof in another network namespace", { skip: root ? false : "needs root (unshare, nsenter)" }, () => {
  let target: Namespaced;
  let decoy: Server;
  let decoyBytes = 0;
  let gopsd: Gopsd;
  let gopsdClient: DiagnosticsHandle;
  let local: DiagnosticsHandle;

  before(async () => {
    // The decoy first, on a port the system picks; the program then listens on the same port in its namespace.
    decoy = createServer((_req, res) => res.end("decoy"));
    decoy.on("connection", (s) => s.on("data", (d: Buffer) => (decoyBytes += d.length)));
    await new Promise<void>((resolve, reject) => decoy.once("error", reject).listen(0, "127.0.0.1", resolve));
    const port = (decoy.address() as AddressInfo).port;
    target = await startNamespacedAgent({ program: "httpprog", args: ["-listen", `127.0.0.1:${port}`] });
    assert.equal(target.port, port);
    const probeExe = [readlinkSync(`/proc/${target.pid}/exe`)];
    // Probe only this program: other Go programs on the machine (other tests' fixtures) are left alone.
    gopsd = await startGopsd({ args: ["--host-name", "pprof-netns", "--pprof-probe-exe", probeExe[0]!] });
    gopsdClient = connect(gopsd.address);
    local = createLocalDiagnostics({ hostName: "pprof-netns", pprof: { probeExe } });
  });

  after(async () => {
    gopsdClient?.close();
    local?.close();
    await gopsd?.stop();
    await target?.stop();
    decoy?.close();
  });

  for (const mode of ["local", "gopsd"] as const) {
    const diag = () => (mode === "local" ? local : gopsdClient);

    it(`${mode}: a probing listing verifies the endpoint inside its namespace and says which`, async () => {
      const { processes } = await diag().listProcesses({ probe: true }, { deadline: 20_000 });
      const agent = processes.find((p) => p.pid === target.pid)?.agent;
      assert.equal(agent?.kind, AgentKind.AGENT_KIND_HTTP_PPROF, agent?.detail);
      assert.equal(agent.httpVerified, true);
      assert.equal(agent.httpAddress, `127.0.0.1:${target.port}`, "the address inside its namespace");
      assert.match(agent.networkNamespace ?? "", /^net:\[\d+\]$/);
    });

    it(`${mode}: stack, memstats and a heap profile go through the relay; gc is refused; no relay stays`, async () => {
      const text = Buffer.concat((await drain(diag().stack({ pid: target.pid }))).map((m) => m.chunk)).toString();
      assert.match(text, /^goroutine \d+ \[/m);
      const mem = await diag().memStats({ pid: target.pid });
      assert.ok((mem.stats?.heapAlloc ?? 0) > 0);
      const heap = captureBytes(await drain(diag().streamProfile({ pid: target.pid, kind: ProfileKind.PROFILE_KIND_HEAP })));
      assert.ok(gunzipSync(heap).length > 0, "a gzip pprof heap profile");
      await assert.rejects(diag().forceGC({ pid: target.pid }), (e: { code?: unknown; message?: string }) => {
        assert.equal(e.code, Status.FAILED_PRECONDITION, e.message);
        return true;
      });
      const owner = mode === "local" ? process.pid : gopsd.proc.pid!;
      assert.deepEqual(await relaysLeft(owner), [], "no relay process stays behind");
    });
  }

  it("gopsctl stack PID (no daemon) works on it", async () => {
    const res = await runCli(["stack", String(target.pid)]);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /^goroutine \d+ \[/m);
  });

  it("the same port in our namespace never received a byte", () => {
    assert.equal(decoyBytes, 0);
  });
});
