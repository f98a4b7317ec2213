import assert from "node:assert/strict";
import { test } from "node:test";
import { Agent, AgentKind, AgentState, ContainerRuntime, GetProcessResponse, PodQosClass } from "../../proto/index.js";
import { fakeContext } from "../fake-context.testkit.js";
import { describeBackend, formatConnection, formatElapsed, processLabels, run } from "./process.js";

const response = GetProcessResponse.fromPartial({
  process: {
    pid: 4132,
    ppid: 4130,
    name: "foops",
    user: "alice",
    memoryPercent: 0.12345,
    cpuPercent: 432.1,
    isGo: true,
    agent: { state: AgentState.AGENT_STATE_LISTENING, address: "127.0.0.1:35367" },
  },
  threads: 12,
  cmdline: ["/usr/bin/foops", "-listen", ":8080"],
  elapsedSeconds: 3723.9,
  connections: [
    { type: "tcp", localAddress: "127.0.0.1:56765", remoteAddress: ":0", state: "LISTEN" },
    { type: "udp", localAddress: "0.0.0.0:53", remoteAddress: ":0", state: "" },
  ],
  buildInfo: { goVersion: "go1.19.8", path: "example.com/foops" },
});

test("on a terminal: the gops lines in gops' order", async () => {
  const f = fakeContext({ getProcess: async () => response });
  await run({ pid: 4132, periodMs: 0 }, f.ctx);
  assert.equal(
    f.stdout.text(),
    [
      "parent PID:\t4130",
      "threads:\t12",
      "memory usage:\t0.123%",
      "cpu usage:\t432.100%",
      "username:\talice",
      "cmd+args:\t/usr/bin/foops -listen :8080",
      "elapsed time:\t01:02:03",
      "diagnostics via:\tgops agent at 127.0.0.1:35367",
      "local/remote:\t127.0.0.1:56765 <-> :0 (LISTEN)",
      "local/remote:\t0.0.0.0:53 <-> :0",
      "",
    ].join("\n"),
  );
  assert.deepEqual(f.calls[0]!.request, { pid: 4132, cpuSampleMs: 0 });
});

test("with a period: the sample is requested and shown with a Go duration label", async () => {
  const sampled = { ...response, hasSampledCpu: true, sampledCpuPercent: 5.5, cpuSampleMs: 60_000 };
  const f = fakeContext({ getProcess: async () => sampled });
  await run({ pid: 4132, periodMs: 60_000 }, f.ctx);
  assert.deepEqual(f.calls[0]!.request, { pid: 4132, cpuSampleMs: 60_000 });
  assert.match(f.stdout.text(), /^cpu usage:\t432\.100%\ncpu usage \(1m0s\):\t5\.500%\nusername:/m);
});

test("lines whose value is unknown are left out", () => {
  const bare = GetProcessResponse.fromPartial({ process: { pid: 1, ppid: 0 }, elapsedSeconds: 5 });
  assert.equal(processLabels(bare, 0), "memory usage:\t0.000%\ncpu usage:\t0.000%\nelapsed time:\t00:05\n");
  assert.equal(processLabels(GetProcessResponse.fromPartial({}), 0), "");
});

test("JSON (piped or --json) carries the typed response without Buffers", async () => {
  const f = fakeContext({ getProcess: async () => ({ ...response, hasSampledCpu: true, sampledCpuPercent: 5.5, cpuSampleMs: 2000 }) }, { isTTY: false, json: true });
  await run({ pid: 4132, periodMs: 2000 }, f.ctx);
  const out = JSON.parse(f.stdout.text());
  assert.equal(out.pid, 4132);
  assert.equal(out.process.agent.state, "LISTENING");
  assert.equal(out.threads, 12);
  assert.deepEqual(out.sampledCpu, { percent: 5.5, periodMs: 2000 });
  assert.equal(out.connections.length, 2);
  assert.equal(out.buildInfo.path, "example.com/foops");
  const none = fakeContext({ getProcess: async () => response }, { json: true });
  await run({ pid: 4132, periodMs: 0 }, none.ctx);
  assert.equal(JSON.parse(none.stdout.text()).sampledCpu, null);
});

test("elapsed time is ps-style [[DD-]hh:]mm:ss", () => {
  assert.equal(formatElapsed(0), "00:00");
  assert.equal(formatElapsed(59.9), "00:59");
  assert.equal(formatElapsed(61), "01:01");
  assert.equal(formatElapsed(3600), "01:00:00");
  assert.equal(formatElapsed(86_400 + 3661), "01-01:01:01");
  assert.equal(formatElapsed(123 * 86_400), "123-00:00:00");
});

test("connections: local <-> remote (STATE)", () => {
  assert.equal(formatConnection({ type: "tcp6", localAddress: "[::1]:80", remoteAddress: "[::1]:5000", state: "ESTABLISHED" }), "[::1]:80 <-> [::1]:5000 (ESTABLISHED)");
  assert.equal(formatConnection({ type: "unix", localAddress: "/run/x.sock", remoteAddress: "", state: "" }), "/run/x.sock");
  assert.equal(formatConnection({ type: "unix", localAddress: "/run/y.sock", remoteAddress: "", state: "LISTEN" }), "/run/y.sock (LISTEN)");
  assert.equal(formatConnection({ type: "unix", localAddress: "", remoteAddress: "", state: "CONNECTED" }), "unix socket (CONNECTED)");
});

test("a containerised process: both pids, its container and pod, and its agent's network namespace", async () => {
  const id = "c0ffee00".repeat(8);
  const res = GetProcessResponse.fromPartial({
    process: {
      pid: 5001,
      ppid: 5000,
      nsPid: 1,
      name: "checkout",
      agent: { state: AgentState.AGENT_STATE_LISTENING, networkNamespace: "net:[4026532801]" },
      container: {
        runtime: ContainerRuntime.CONTAINER_RUNTIME_CONTAINERD,
        id,
        podUid: "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9",
        podName: "checkout-x2x4q",
        podNamespace: "shop",
        podQosClass: PodQosClass.POD_QOS_CLASS_GUARANTEED,
        cgroup: `/kubepods/pod0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9/${id}`,
        verified: true,
      },
    },
    nsPids: [5001, 1],
    elapsedSeconds: 5,
  });
  const text = processLabels(res, 0);
  assert.match(text, /^pid in each namespace:\t5001 > 1$/m);
  assert.match(text, new RegExp(`^container:\\t${id}$`, "m"));
  assert.match(text, /^container runtime:\tcontainerd$/m);
  assert.match(text, /^pod:\tshop\/checkout-x2x4q \(uid 0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9\)$/m);
  assert.match(text, /^pod QoS class:\tGuaranteed$/m);
  assert.match(text, /^cgroup:\t\/kubepods\/pod0f1e2d3c/m);
  assert.match(text, /^agent network namespace:\tnet:\[4026532801\]$/m);
  const f = fakeContext({ getProcess: async () => res }, { json: true });
  await run({ pid: 5001, periodMs: 0 }, f.ctx);
  const json = JSON.parse(f.stdout.text()) as { nsPids: number[]; container: { runtime: string; podQosClass: string }; process: { nsPid: number } };
  assert.deepEqual(json.nsPids, [5001, 1]);
  assert.equal(json.process.nsPid, 1);
  assert.equal(json.container.runtime, "CONTAINERD");
  assert.equal(json.container.podQosClass, "GUARANTEED");
  // A host process: none of these lines.
  assert.doesNotMatch(processLabels(response, 0), /namespace|container|pod/);
});

test("the backend line: a gops agent, a net/http/pprof endpoint (verified or declared), or none", () => {
  assert.equal(describeBackend(Agent.fromPartial({ kind: AgentKind.AGENT_KIND_GOPS_AGENT, address: "127.0.0.1:1" })), "gops agent at 127.0.0.1:1");
  assert.equal(
    describeBackend(Agent.fromPartial({ kind: AgentKind.AGENT_KIND_HTTP_PPROF, httpAddress: "[::1]:6060", httpPathPrefix: "", httpVerified: true })),
    "net/http/pprof at http://[::1]:6060/debug/pprof/",
  );
  assert.equal(
    describeBackend(Agent.fromPartial({ kind: AgentKind.AGENT_KIND_HTTP_PPROF, httpAddress: "127.0.0.1:6060", httpPathPrefix: "/admin", httpVerified: false })),
    "net/http/pprof at http://127.0.0.1:6060/admin/debug/pprof/ (declared, not yet verified)",
  );
  assert.equal(describeBackend(Agent.fromPartial({ state: AgentState.AGENT_STATE_STALE, kind: AgentKind.AGENT_KIND_UNSPECIFIED })), undefined);
});
