// End to end: a real gopsd process on 127.0.0.1, real Go programs with our protocol-faithful agent, and the
// client library over real gRPC. Every RPC, every bad input and every agent misbehaviour.
import assert from "node:assert/strict";
import { statSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { after, before, describe, it } from "node:test";
import { createChannel, createClient, Status } from "nice-grpc";
import { HealthDefinition } from "nice-grpc-server-health";
import { connect, type DiagnosticsHandle } from "../client/index.js";
import { AgentState, ProfileKind, type Process } from "../proto/index.js";
import { captureBytes, drain, statusOf } from "./grpc-helpers.js";
import { deadPid, portNobodyListensOn, startFixture, startGopsd, writeStalePortFile, type Fixture, type Gopsd } from "./harness.js";




describe("gopsd end to end", () => {
  let gopsd: Gopsd;
  let client: DiagnosticsHandle;
  const fx: Record<string, Fixture> = {};
  let stalePid: number;

  before(async () => {
    const started = await Promise.all([
      startFixture("agentprog", { args: ["-goroutines", "7"], env: { FIXTURE_CPU_PROFILE_SECONDS: "1", FIXTURE_TRACE_SECONDS: "1" } }),
      startFixture("agentprog", { args: ["-legacy-memstats"] }),
      startFixture("plain"),
      startFixture("agentprog", { args: ["-mode", "hang"] }),
      startFixture("agentprog", { args: ["-mode", "slow", "-slow-ms", "300"] }),
      startFixture("agentprog", { args: ["-mode", "close-early"] }),
      startFixture("agentprog", { args: ["-mode", "garbage"] }),
      startFixture("agentprog", { args: ["-hold-cpu-profiler"] }),
      startFixture("agentprog", { args: ["-spoof-port", "1"] }),
    ]);
    [fx.main, fx.legacy, fx.plain, fx.hang, fx.slow, fx.closeEarly, fx.garbage, fx.holdCpu, fx.spoofTarget] = started;
    // A stale port file: the fixture's config dir holds a file naming a port nothing listens on.
    const staleFixture = await startFixture("agentprog", { args: ["-no-port-file"] });
    fx.stale = staleFixture;
    stalePid = staleFixture.pid;
    await writeStalePortFile(staleFixture.configDir, stalePid, await portNobodyListensOn());
    // A spoofed file: names the port of the main fixture's agent, which another process owns.
    await writeStalePortFile(fx.spoofTarget!.configDir, fx.spoofTarget!.pid, fx.main!.port!);

    gopsd = await startGopsd({
      args: [
        "--host-name", "e2e-host",
        "--agent-timeout", "version=2s",
        "--agent-timeout", "stats=2s",
        "--agent-timeout", "memstats=2s",
        "--agent-timeout", "cpu=4s",
      ],
    });
    client = connect(gopsd.address);
  });

  after(async () => {
    client?.close();
    await gopsd?.stop();
    await Promise.all(Object.values(fx).map((f) => f.stop()));
  });

  describe("discovery", () => {
    let byPid: Map<number, Process>;
    before(async () => {
      // A cold scan reads every process on the machine: its time depends on the machine, not on this test.
      const res = await client.listProcesses({}, { deadline: 60_000 });
      assert.equal(res.host, "e2e-host");
      assert.ok(res.scanned > 0);
      byPid = new Map(res.processes.map((p) => [p.pid, p]));
    });

    it("lists the agent fixture as Go with a verified agent", () => {
      const p = byPid.get(fx.main!.pid);
      assert.ok(p, "main fixture listed");
      assert.equal(p.isGo, true);
      assert.match(p.goVersion, /^go1\.19/);
      assert.equal(p.modulePath, "gopsctl.test/fixtures");
      assert.equal(p.agent?.state, AgentState.AGENT_STATE_LISTENING);
      assert.equal(p.agent?.address, `127.0.0.1:${fx.main!.port}`);
      assert.equal(p.exe, fx.main!.exe);
    });

    it("tells a plain Go program, a stale and a spoofed port file apart", () => {
      assert.equal(byPid.get(fx.plain!.pid)?.agent?.state, AgentState.AGENT_STATE_NONE);
      assert.equal(byPid.get(stalePid)?.agent?.state, AgentState.AGENT_STATE_STALE);
      assert.equal(byPid.get(fx.spoofTarget!.pid)?.agent?.state, AgentState.AGENT_STATE_SPOOFED);
    });

    it("leaves out non-Go processes unless asked for all", async () => {
      assert.equal(byPid.has(process.pid), false, "this node process is not Go");
      const all = await client.listProcesses({ all: true });
      const me = all.processes.find((p) => p.pid === process.pid);
      assert.ok(me, "node itself is listed with all");
      assert.equal(me.isGo, false);
    });

    it("shows the gops <pid> view with the agent's listening socket", async () => {
      const res = await client.getProcess({ pid: fx.main!.pid, cpuSampleMs: 200 });
      assert.equal(res.process?.pid, fx.main!.pid);
      assert.equal(res.process?.ppid, process.pid);
      assert.ok(res.threads > 0);
      assert.equal(res.cmdline[0], fx.main!.exe);
      assert.equal(res.hasSampledCpu, true);
      assert.ok(res.connections.some((c) => c.state === "LISTEN" && c.localAddress === `127.0.0.1:${fx.main!.port}`));
      assert.equal(res.buildInfo?.main?.path, "gopsctl.test/fixtures");
    });

    it("shows build info like go version -m", async () => {
      const res = await client.getBuildInfo({ pid: fx.main!.pid });
      assert.equal(res.exe, fx.main!.exe);
      assert.match(res.buildInfo!.goVersion, /^go1\.19/);
      assert.equal(res.buildInfo!.path, "gopsctl.test/fixtures/agentprog");
      assert.ok(res.buildInfo!.settings.some((s) => s.key === "GOOS" && s.value === "linux"));
    });
  });

  describe("agent calls", () => {
    it("streams the goroutine dump", async () => {
      const text = Buffer.concat((await drain(client.stack({ pid: fx.main!.pid }))).map((m) => m.chunk)).toString();
      assert.match(text, /^goroutine \d+ \[/m);
      assert.equal(text.match(/main\.blockedWorker/g)?.length, 7);
    });

    it("parses memstats in both key spellings", async () => {
      for (const f of [fx.main!, fx.legacy!]) {
        const res = await client.memStats({ pid: f.pid });
        assert.ok(res.stats!.heapAlloc > 0);
        assert.ok(res.stats!.mspanInUse > 0, "mspan in use parsed");
        assert.deepEqual(res.unknownKeys, []);
        assert.match(res.raw, /^alloc: /);
      }
    });

    it("returns stats and version", async () => {
      const stats = await client.stats({ pid: fx.main!.pid });
      assert.ok(stats.goroutines >= 8, `goroutines ${stats.goroutines}`);
      assert.ok(stats.gomaxprocs >= 1 && stats.numCpu >= 1);
      const v = await client.version({ pid: fx.main!.pid });
      assert.match(v.goVersion, /^go1\.19/);
    });

    it("runs the GC and sets GOGC", async () => {
      const before = (await client.memStats({ pid: fx.main!.pid })).stats!.numForcedGc;
      await client.forceGC({ pid: fx.main!.pid });
      const afterGc = (await client.memStats({ pid: fx.main!.pid })).stats!.numForcedGc;
      assert.equal(afterGc, before + 1);
      const off = await client.setGCPercent({ pid: fx.main!.pid, percent: -1 });
      assert.deepEqual([off.previous, off.current], [100, -1]);
      const back = await client.setGCPercent({ pid: fx.main!.pid, percent: 100 });
      assert.deepEqual([back.previous, back.current], [-1, 100]);
    });

    it("captures a heap profile as gzip pprof", async () => {
      const msgs = await drain(client.streamProfile({ pid: fx.main!.pid, kind: ProfileKind.PROFILE_KIND_HEAP }));
      const meta = msgs[0]!.payload!;
      assert.equal(meta.$case, "metadata");
      const bytes = captureBytes(msgs);
      assert.deepEqual([...bytes.subarray(0, 2)], [0x1f, 0x8b]);
      assert.ok(gunzipSync(bytes).length > 0);
    });

    it("captures a CPU profile and refuses a second one at once", async () => {
      let firstDoneAt = Infinity;
      const first = drain(client.streamProfile({ pid: fx.main!.pid, kind: ProfileKind.PROFILE_KIND_CPU })).then((m) => {
        firstDoneAt = performance.now();
        return m;
      });
      await new Promise((r) => setTimeout(r, 200));
      const second = await statusOf(() =>
        drain(client.streamProfile({ pid: fx.main!.pid, kind: ProfileKind.PROFILE_KIND_CPU })),
      );
      const refusedAt = performance.now();
      assert.equal(second.code, Status.RESOURCE_EXHAUSTED);
      assert.match(second.details, /CPU profile is already running/);
      const bytes = captureBytes(await first);
      assert.ok(refusedAt < firstDoneAt, "refused while the first capture was still running, not after it");
      assert.deepEqual([...bytes.subarray(0, 2)], [0x1f, 0x8b]);
    });

    it("captures an execution trace", async () => {
      const bytes = captureBytes(await drain(client.streamTrace({ pid: fx.main!.pid })));
      assert.match(bytes.subarray(0, 16).toString("latin1"), /^go 1\.19 trace/);
    });

    it("streams the binary", async () => {
      const bytes = captureBytes(await drain(client.streamBinary({ pid: fx.main!.pid })));
      assert.equal(bytes.length, statSync(fx.main!.exe).size);
      assert.deepEqual([...bytes.subarray(0, 4)], [0x7f, 0x45, 0x4c, 0x46]);
    });

    it("cancels a capture: the agent socket is closed, the next call is refused while the agent finishes it, then served", async () => {
      const ac = new AbortController();
      const capture = drain(client.streamTrace({ pid: fx.main!.pid }, { signal: ac.signal }));
      setTimeout(() => ac.abort(), 200);
      await assert.rejects(capture, (e: Error) => e.name === "AbortError");
      // A gops agent cannot stop a trace: gopsd says so, and for how long (of the 5 s a gops agent traces; this
      // fixture's is 1 s, which gopsd cannot know), instead of queueing the call behind it.
      const refused = await statusOf(() => client.version({ pid: fx.main!.pid }, { deadline: 5000 }));
      assert.equal(refused.code, Status.RESOURCE_EXHAUSTED);
      assert.match(refused.details, /is busy: its gops agent is finishing a trace that was stopped early, which an agent cannot cancel \(about [1-5]s left\)/);
      let served: string | undefined;
      for (const deadline = Date.now() + 10_000; served === undefined && Date.now() < deadline; await new Promise((r) => setTimeout(r, 200))) {
        served = await client.version({ pid: fx.main!.pid }, { deadline: 5000 }).then(
          (v) => v.goVersion,
          () => undefined,
        );
      }
      assert.match(served ?? "", /^go1\.19/);
    });
  });

  describe("bad input", () => {
    it("rejects impossible pids", async () => {
      for (const pid of [0, -1, 5_000_000]) {
        const s = await statusOf(() => client.version({ pid }));
        assert.equal(s.code, Status.INVALID_ARGUMENT, `pid ${pid}`);
        assert.match(s.details, /invalid pid/);
      }
    });

    it("reports a dead pid as not found", async () => {
      const pid = await deadPid();
      for (const call of [() => client.version({ pid }), () => client.getProcess({ pid }), () => client.getBuildInfo({ pid })]) {
        const s = await statusOf(call);
        assert.equal(s.code, Status.NOT_FOUND);
        assert.match(s.details, new RegExp(`no process with pid ${pid}`));
      }
    });

    it("refuses a non-Go process and a Go process without agent", async () => {
      const notGo = await statusOf(() => client.stack({ pid: process.pid })[Symbol.asyncIterator]().next());
      assert.equal(notGo.code, Status.FAILED_PRECONDITION);
      assert.match(notGo.details, /not a Go program/);
      const noAgent = await statusOf(() => client.memStats({ pid: fx.plain!.pid }));
      assert.equal(noAgent.code, Status.FAILED_PRECONDITION);
      assert.match(noAgent.details, /no usable gops agent/);
    });

    it("never dials a stale or spoofed port file", async () => {
      const stale = await statusOf(() => client.version({ pid: stalePid }));
      assert.equal(stale.code, Status.FAILED_PRECONDITION);
      assert.match(stale.details, /stale port file/);
      const spoofed = await statusOf(() => client.version({ pid: fx.spoofTarget!.pid }));
      assert.equal(spoofed.code, Status.FAILED_PRECONDITION);
      assert.match(spoofed.details, /another process/);
    });

    it("rejects out-of-range GC percents and unknown profile kinds", async () => {
      for (const percent of [-2, -1000, 2 ** 31, 2 ** 40]) {
        const s = await statusOf(() => client.setGCPercent({ pid: fx.main!.pid, percent }));
        assert.equal(s.code, Status.INVALID_ARGUMENT, `percent ${percent}`);
      }
      const kind = await statusOf(() => drain(client.streamProfile({ pid: fx.main!.pid })));
      assert.equal(kind.code, Status.INVALID_ARGUMENT);
    });
  });

  describe("misbehaving agents", () => {
    it("ends a call to an agent that never answers at the deadline", async () => {
      const t0 = Date.now();
      const s = await statusOf(() => client.version({ pid: fx.hang!.pid }));
      assert.equal(s.code, Status.DEADLINE_EXCEEDED);
      assert.match(s.details, /did not finish .* within 2s; the connection was closed/);
      assert.ok(Date.now() - t0 < 5000);
    });

    it("waits for a slow agent", async () => {
      const v = await client.version({ pid: fx.slow!.pid });
      assert.match(v.goVersion, /^go1\.19/);
    });

    it("reports an agent that closes mid-reply or sends garbage", async () => {
      const early = await statusOf(() => client.memStats({ pid: fx.closeEarly!.pid }));
      assert.ok([Status.UNAVAILABLE, Status.INTERNAL].includes(early.code), `close-early: ${Status[early.code]} ${early.details}`);
      const garbage = await statusOf(() => client.version({ pid: fx.garbage!.pid }));
      assert.equal(garbage.code, Status.INTERNAL);
      assert.match(garbage.details, /unexpected reply/);
    });

    it("ends a CPU profile that hits the agent's error path, and the agent still serves the next call", async () => {
      const s = await statusOf(() =>
        drain(client.streamProfile({ pid: fx.holdCpu!.pid, kind: ProfileKind.PROFILE_KIND_CPU })),
      );
      assert.equal(s.code, Status.DEADLINE_EXCEEDED);
      const v = await client.version({ pid: fx.holdCpu!.pid });
      assert.match(v.goVersion, /^go1\.19/);
    });
  });

  describe("agents of other users", { skip: process.getuid?.() !== 0 ? "needs root to start a process as another user" : false }, () => {
    let other: Fixture;
    before(async () => {
      other = await startFixture("agentprog", { uid: 65534, env: { GOPS_CONFIG_DIR: "" } });
    });
    after(() => other?.stop());

    it("finds the agent through the target's own HOME and talks to it", async () => {
      const list = await client.listProcesses({});
      const p = list.processes.find((x) => x.pid === other.pid);
      assert.equal(p?.agent?.state, AgentState.AGENT_STATE_LISTENING);
      assert.equal(p?.uid, 65534);
      const text = Buffer.concat((await drain(client.stack({ pid: other.pid }))).map((m) => m.chunk)).toString();
      assert.match(text, /^goroutine \d+ \[/m);
    });
  });

  it("serves grpc.health.v1", async () => {
    const channel = createChannel(gopsd.address);
    try {
      const health = createClient(HealthDefinition, channel);
      const res = await health.check({ service: "gops.v1.DiagnosticsService" });
      assert.equal(res.status, 1 /* SERVING */);
    } finally {
      channel.close();
    }
  });
});
