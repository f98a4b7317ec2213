// End to end: Go programs that serve net/http/pprof (and expvar) and have no gops agent, diagnosed through a real
// gopsd and through the in-process local backend (issue 11). The fixtures log every connection they accept, which
// proves that a plain listing sends nothing to any port; captures are checked with `go tool pprof -top` and the
// trace header.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { Status } from "nice-grpc";
import { connect, type DiagnosticsHandle } from "../client/index.js";
import { createLocalDiagnostics } from "../client/local.js";
import { GopsError } from "../common/errors.js";
import { AgentKind, CaptureKind, ProfileKind, type Agent, type Process } from "../proto/index.js";
import { captureBytes, drain, statusOf } from "./grpc-helpers.js";
import { startFixture, startGopsd, type Fixture, type Gopsd } from "./harness.js";

const run = promisify(execFile);
const workDir = mkdtempSync(join(tmpdir(), "gopsctl-pprof-http-"));

/** Connections the fixture accepted so far (it prints "conn N" on stderr for each). */
const conns = (f: Fixture) => (f.stderr().match(/^conn \d+$/gm) ?? []).length;
const agentOf = (ps: Process[], f: Fixture): Agent => {
  const p = ps.find((x) => x.pid === f.pid);
  assert.ok(p, `pid ${f.pid} is listed`);
  return p.agent!;
};

async function pprofTop(bytes: Buffer, name: string): Promise<string> {
  const file = join(workDir, name);
  writeFileSync(file, bytes);
  const { stdout } = await run("/usr/bin/go", ["tool", "pprof", "-top", file], {
    env: { ...process.env, GOTOOLCHAIN: "local", GOFLAGS: "", HOME: workDir, PPROF_TMPDIR: workDir },
    timeout: 60_000,
  });
  return stdout;
}

async function localStatus(call: () => Promise<unknown>): Promise<GopsError> {
  try {
    await call();
  } catch (e) {
    assert.ok(e instanceof GopsError, `expected a GopsError, got ${String(e)}`);
    return e;
  }
  assert.fail("expected the call to fail");
}

describe("net/http/pprof backend end to end", () => {
  let gopsd: Gopsd;
  let client: DiagnosticsHandle;
  let local: DiagnosticsHandle;
  const fx: Record<"lo" | "any" | "custom" | "http404" | "raw" | "agent", Fixture> = {} as never;
  const httpFixtures = () => [fx.lo, fx.any, fx.custom, fx.http404, fx.raw];

  before(async () => {
    [fx.lo, fx.any, fx.custom, fx.http404, fx.raw, fx.agent] = await Promise.all([
      startFixture("httpprog", { args: ["-listen", "127.0.0.1:0"] }),
      startFixture("httpprog", { args: ["-listen", "0.0.0.0:0", "-expvar"] }),
      startFixture("httpprog", { args: ["-prefix", "/custom"] }),
      startFixture("httpprog", { args: ["-mode", "http404"] }),
      startFixture("httpprog", { args: ["-mode", "rawtcp"] }),
      startFixture("agentprog"),
    ]);
    const declared = [{ cmdline: "-prefix /custom", port: fx.custom.port!, prefix: "/custom" }];
    // Probe only our own fixtures: other Go programs on this machine (other tests' fixtures) are left alone.
    const probeExe = [fx.lo.exe];
    gopsd = await startGopsd({
      args: ["--host-name", "pprof-host", "--pprof-endpoints", JSON.stringify(declared), "--pprof-probe-exe", fx.lo.exe],
    });
    client = connect(gopsd.address);
    local = createLocalDiagnostics({ pprof: { declared, probeExe } });
  });

  after(async () => {
    client?.close();
    local?.close();
    await gopsd?.stop();
    await Promise.all(Object.values(fx).map((f) => f?.stop()));
    rmSync(workDir, { recursive: true, force: true });
  });

  it("a plain listing sends no request to any port and shows only the declared endpoint, unverified", async () => {
    const before = httpFixtures().map(conns);
    for (const d of [client, local]) {
      const { processes } = await d.listProcesses({});
      for (const f of [fx.lo, fx.any, fx.http404, fx.raw]) {
        assert.notEqual(agentOf(processes, f).kind, AgentKind.AGENT_KIND_HTTP_PPROF, `pid ${f.pid} is not marked`);
      }
      const custom = agentOf(processes, fx.custom);
      assert.equal(custom.kind, AgentKind.AGENT_KIND_HTTP_PPROF);
      assert.equal(custom.httpVerified, false);
      assert.equal(custom.httpPathPrefix, "/custom");
      assert.equal(custom.httpAddress, `127.0.0.1:${fx.custom.port}`);
      assert.equal(agentOf(processes, fx.agent).kind, AgentKind.AGENT_KIND_GOPS_AGENT);
    }
    // A connection made by the listings would have been logged by now (the fixture logs on accept).
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(httpFixtures().map(conns), before, "no fixture accepted a connection");
  });

  it("a probing listing marks the pprof endpoints, not the 404 server nor the silent one, and does not hang", async () => {
    for (const d of [client, local]) {
      const { processes } = await d.listProcesses({ probe: true }, { deadline: 20_000 });
      const lo = agentOf(processes, fx.lo);
      assert.equal(lo.kind, AgentKind.AGENT_KIND_HTTP_PPROF);
      assert.equal(lo.httpAddress, `127.0.0.1:${fx.lo.port}`);
      assert.equal(lo.httpVerified, true);
      assert.equal(lo.httpPathPrefix, "");
      const any = agentOf(processes, fx.any);
      assert.equal(any.kind, AgentKind.AGENT_KIND_HTTP_PPROF);
      assert.equal(any.httpAddress, `127.0.0.1:${fx.any.port}`, "a 0.0.0.0 listener is probed on 127.0.0.1");
      const custom = agentOf(processes, fx.custom);
      assert.equal(custom.kind, AgentKind.AGENT_KIND_HTTP_PPROF);
      assert.equal(custom.httpVerified, true, "the declared prefix was verified by its cmdline");
      for (const f of [fx.http404, fx.raw]) assert.notEqual(agentOf(processes, f).kind, AgentKind.AGENT_KIND_HTTP_PPROF);
    }
    assert.ok(conns(fx.http404) > 0 && conns(fx.raw) > 0, "the non-pprof programs were probed");
    // Verified endpoints are remembered by socket: a later plain listing still shows them and sends nothing.
    const before = httpFixtures().map(conns);
    const { processes } = await client.listProcesses({});
    assert.equal(agentOf(processes, fx.lo).kind, AgentKind.AGENT_KIND_HTTP_PPROF);
    assert.equal(agentOf(processes, fx.lo).httpVerified, true);
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(httpFixtures().map(conns), before);
  });

  for (const [name, diag] of [
    ["gopsd", () => client],
    ["the local backend", () => local],
  ] as const) {
    describe(`through ${name}`, () => {
      it("stack: the goroutine dump", async () => {
        const text = Buffer.concat((await drain(diag().stack({ pid: fx.lo.pid }))).map((m) => m.chunk)).toString();
        assert.match(text, /^goroutine \d+ \[running\]:/m);
        assert.match(text, /main\.main\(\)/);
      });

      it("memstats from expvar: every field known", async () => {
        const res = await diag().memStats({ pid: fx.any.pid });
        assert.ok(res.stats!.heapAlloc > 0 && res.stats!.sys >= res.stats!.heapSys);
        assert.equal(res.stats!.enableGc, true);
        assert.deepEqual(res.unknownFields?.names ?? [], []);
        assert.match(res.raw, /"HeapAlloc":\d+/);
      });

      it("memstats from heap?debug=1 without expvar: the fields it lacks are named", async () => {
        const res = await diag().memStats({ pid: fx.lo.pid });
        assert.ok(res.stats!.heapAlloc > 0 && res.stats!.stackInUse > 0 && res.stats!.nextGc > 0);
        assert.deepEqual(res.unknownFields?.names, ["gc_pause_total_ns", "enable_gc"]);
        assert.match(res.raw, /^# runtime\.MemStats\n# Alloc = \d+/);
      });

      it("stats and version: goroutines and threads counted, GOMAXPROCS and NumCPU said to be unknown", async () => {
        const stats = await diag().stats({ pid: fx.custom.pid });
        assert.ok(stats.goroutines >= 3 && stats.osThreads >= 1);
        assert.deepEqual(stats.unknownFields?.names, ["gomaxprocs", "num_cpu"]);
        assert.match((await diag().version({ pid: fx.custom.pid })).goVersion, /^go1\.19/);
      });

      it("gc and setgc: FAILED_PRECONDITION saying there is no endpoint for it", async () => {
        const gc = name === "gopsd" ? await statusOf(() => diag().forceGC({ pid: fx.lo.pid })) : await localStatus(() => diag().forceGC({ pid: fx.lo.pid }));
        assert.equal(gc.code, Status.FAILED_PRECONDITION);
        assert.match(gc.message, new RegExp(`pid ${fx.lo.pid} serves net/http/pprof, which has no endpoint to run the GC`));
        const setgc =
          name === "gopsd"
            ? await statusOf(() => diag().setGCPercent({ pid: fx.lo.pid, percent: 50 }))
            : await localStatus(() => diag().setGCPercent({ pid: fx.lo.pid, percent: 50 }));
        assert.equal(setgc.code, Status.FAILED_PRECONDITION);
        assert.match(setgc.message, /no endpoint to set GOGC/);
      });

      it("heap profile: go tool pprof reads it", async () => {
        const msgs = await drain(diag().streamProfile({ pid: fx.lo.pid, kind: ProfileKind.PROFILE_KIND_HEAP }));
        assert.equal(msgs[0]?.payload?.$case === "metadata" && msgs[0].payload.value.backend, AgentKind.AGENT_KIND_HTTP_PPROF);
        const top = await pprofTop(captureBytes(msgs), `heap-${name.length}.pprof.gz`);
        assert.match(top, /^Type: inuse_space$/m);
      });

      it("CPU profile for 2 s: go tool pprof says so", async () => {
        const msgs = await drain(diag().streamProfile({ pid: fx.custom.pid, kind: ProfileKind.PROFILE_KIND_CPU, durationSeconds: 2 }));
        const meta = msgs[0]!.payload!;
        assert.ok(meta.$case === "metadata");
        assert.equal(meta.value.kind, CaptureKind.CAPTURE_KIND_CPU_PROFILE);
        assert.equal(meta.value.expectedDurationMs, 2000);
        const top = await pprofTop(captureBytes(msgs), `cpu-${name.length}.pprof.gz`);
        assert.match(top, /^Type: cpu$/m);
        assert.match(top, /^Duration: 2(\.\d+)?s,/m);
      });

      it("trace for 1 s: a Go 1.19 execution trace", async () => {
        const msgs = await drain(diag().streamTrace({ pid: fx.any.pid, durationSeconds: 1 }));
        const bytes = captureBytes(msgs);
        assert.equal(bytes.subarray(0, 13).toString("latin1"), "go 1.19 trace");
        assert.ok(bytes.length > 100);
      });
    });
  }

  it("allocs, block, mutex, goroutine and threadcreate profiles come from their endpoints", async () => {
    for (const kind of [ProfileKind.PROFILE_KIND_ALLOCS, ProfileKind.PROFILE_KIND_GOROUTINE, ProfileKind.PROFILE_KIND_THREADCREATE, ProfileKind.PROFILE_KIND_BLOCK, ProfileKind.PROFILE_KIND_MUTEX]) {
      const bytes = captureBytes(await drain(client.streamProfile({ pid: fx.lo.pid, kind })));
      assert.deepEqual([...bytes.subarray(0, 2)], [0x1f, 0x8b], `${ProfileKind[kind]} is gzip pprof`);
    }
  });

  it("one CPU profile per process at a time: a second is refused at once; cancelling stops the HTTP request", async () => {
    const ctl = new AbortController();
    const it1 = client.streamProfile({ pid: fx.lo.pid, kind: ProfileKind.PROFILE_KIND_CPU, durationSeconds: 20 }, { signal: ctl.signal })[Symbol.asyncIterator]();
    const first = await it1.next();
    assert.equal(first.value?.payload?.$case, "metadata");
    const second = await statusOf(() => drain(client.streamProfile({ pid: fx.lo.pid, kind: ProfileKind.PROFILE_KIND_CPU, durationSeconds: 1 })));
    assert.equal(second.code, Status.RESOURCE_EXHAUSTED);
    assert.match(second.details, /a CPU profile is already running/);
    const rest = it1.next().catch(() => "cancelled");
    ctl.abort();
    assert.equal(await rest, "cancelled");
    // The 20 s profile was stopped in the program too: a new one can start there (the Go handler frees the
    // profiler when its client goes away, which it notices within moments).
    let ok = false;
    for (let i = 0; i < 10 && !ok; i++) {
      try {
        await drain(local.streamProfile({ pid: fx.lo.pid, kind: ProfileKind.PROFILE_KIND_CPU, durationSeconds: 1 }));
        ok = true;
      } catch (e) {
        assert.match(String((e as Error).message), /already running/);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    assert.ok(ok, "a CPU profile could start again after the cancelled one");
  });

  it("the audit line names the backend", async () => {
    await client.version({ pid: fx.lo.pid });
    await client.version({ pid: fx.agent.pid });
    const lines = gopsd
      .stdout()
      .split("\n")
      .filter((l) => l.includes("/Version"))
      .map((l) => JSON.parse(l) as { pid: number; backend?: string; phase?: string })
      .filter((l) => l.phase !== "start"); // the line written when the call starts comes before the backend is chosen
    assert.equal(lines.find((l) => l.pid === fx.lo.pid)?.backend, "http-pprof");
    assert.equal(lines.find((l) => l.pid === fx.agent.pid)?.backend, "gops-agent");
  });

  it("durations: checked, and refused by a gops agent unless they are its fixed 30 s / 5 s", async () => {
    const cpu = await statusOf(() => drain(client.streamProfile({ pid: fx.agent.pid, kind: ProfileKind.PROFILE_KIND_CPU, durationSeconds: 2 })));
    assert.equal(cpu.code, Status.FAILED_PRECONDITION);
    assert.match(cpu.details, /has a gops agent, which profiles the CPU for a fixed 30s/);
    const trace = await statusOf(() => drain(client.streamTrace({ pid: fx.agent.pid, durationSeconds: 1 })));
    assert.equal(trace.code, Status.FAILED_PRECONDITION);
    assert.match(trace.details, /traces for a fixed 5s/);
    const allocs = await statusOf(() => drain(client.streamProfile({ pid: fx.agent.pid, kind: ProfileKind.PROFILE_KIND_ALLOCS })));
    assert.equal(allocs.code, Status.FAILED_PRECONDITION);
    const tooLong = await statusOf(() => drain(client.streamTrace({ pid: fx.lo.pid, durationSeconds: 601 })));
    assert.equal(tooLong.code, Status.INVALID_ARGUMENT);
    const heapDuration = await statusOf(() => drain(client.streamProfile({ pid: fx.lo.pid, kind: ProfileKind.PROFILE_KIND_HEAP, durationSeconds: 2 })));
    assert.equal(heapDuration.code, Status.INVALID_ARGUMENT);
  });

  it("a Go program whose ports are not pprof: both reasons, and no hang", async () => {
    for (const f of [fx.http404, fx.raw]) {
      const e = await statusOf(() => client.memStats({ pid: f.pid }, { deadline: 15_000 }));
      assert.equal(e.code, Status.FAILED_PRECONDITION);
      assert.match(e.details, /no usable gops agent: .*; and no net\/http\/pprof endpoint: none of its listening loopback TCP ports answered/);
    }
  });
});
