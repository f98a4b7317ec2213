import assert from "node:assert/strict";
import { test } from "node:test";
import { AgentKind, AgentState, ListProcessesResponse, MemStatsResponse, ScanProblemKind } from "../../proto/index.js";
import { fakeContext, fakeFleet } from "../fake-context.testkit.js";
import { EMPTY_LISTING_HINT, problemFooter, run, shortGoVersion } from "./ps.js";

const listing = ListProcessesResponse.fromPartial({
  host: "web-1",
  scanned: 120,
  processes: [
    { pid: 4132, ppid: 4130, name: "foops", exe: "/usr/bin/foops", isGo: true, goVersion: "go1.19.8", agent: { state: AgentState.AGENT_STATE_LISTENING, address: "127.0.0.1:35367", port: 35367 } },
    { pid: 88, ppid: 1, name: "stale", exe: "/opt/stale", isGo: true, goVersion: "devel +990dac2723 Mon Jan 1", agent: { state: AgentState.AGENT_STATE_STALE, detail: "nothing listens" } },
  ],
  problemCounts: [
    { kind: ScanProblemKind.SCAN_PROBLEM_KIND_KERNEL_THREAD, count: 60 },
    { kind: ScanProblemKind.SCAN_PROBLEM_KIND_PERMISSION_DENIED, count: 2 },
    { kind: ScanProblemKind.SCAN_PROBLEM_KIND_CORRUPT, count: 1 },
    { kind: ScanProblemKind.SCAN_PROBLEM_KIND_NO_BUILD_INFO, count: 30 },
  ],
  problems: [{ pid: 1, kind: ScanProblemKind.SCAN_PROBLEM_KIND_PERMISSION_DENIED, detail: "EACCES" }],
});

const TABLE = [
  "PID   PPID  NAME   *  VERSION            PATH",
  "88    1     stale     devel +990dac2723  /opt/stale",
  "4132  4130  foops  *  go1.19.8           /usr/bin/foops",
  "",
].join("\n");

test("on a terminal: a gops-like table sorted by pid, * for a listening agent, footer on stderr", async () => {
  const f = fakeContext({ listProcesses: async () => listing }, { reader: { root: false } });
  await run({ allProcesses: false }, f.ctx);
  assert.equal(
    f.stdout.text(),
    [
      "PID   PPID  NAME   *  VERSION            PATH",
      "88    1     stale     devel +990dac2723  /opt/stale",
      "4132  4130  foops  *  go1.19.8           /usr/bin/foops",
      "",
    ].join("\n"),
  );
  assert.equal(f.stderr.text(), "3 processes could not be inspected (permission denied: 2, corrupt: 1); run as root or see --json\n");
  assert.deepEqual(f.calls.map((c) => [c.method, c.request, c.signal]), [["listProcesses", { all: false, probe: false }, f.ctx.signal]]);
});

test("-A/--all-processes is passed on as all", async () => {
  const f = fakeContext({ listProcesses: async () => ListProcessesResponse.fromPartial({}) });
  await run({ allProcesses: true }, f.ctx);
  assert.deepEqual(f.calls[0]!.request, { all: true, probe: false });
  assert.equal(f.stdout.text(), "PID  PPID  NAME  *  VERSION  PATH\n");
});

test("an empty listing: the bare header on stdout, and on stderr two lines on how to make a Go program diagnosable", async () => {
  const f = fakeContext({ listProcesses: async () => ListProcessesResponse.fromPartial({ host: "h" }) }, { isTTY: false });
  await run({ allProcesses: false }, f.ctx);
  assert.equal(f.stdout.text(), "PID  PPID  NAME  *  VERSION  PATH\n");
  const hint = f.stderr.text().split("\n");
  assert.equal(hint.length, 3, f.stderr.text()); // two lines and the final newline
  assert.deepEqual(hint.slice(0, 2), [...EMPTY_LISTING_HINT]);
  assert.match(f.stderr.text(), /github\.com\/google\/gops\/agent.*agent\.Listen/);
  assert.match(f.stderr.text(), /net\/http\/pprof \(ps --probe/);
  assert.match(f.stderr.text(), /npm run demo/);
  // --json has no notes: stdout stays the JSON alone.
  const j = fakeContext({ listProcesses: async () => ListProcessesResponse.fromPartial({ host: "h" }) }, { json: true });
  await run({ allProcesses: false }, j.ctx);
  assert.equal(j.stderr.text(), "");
});

test("a listing with processes, or one filtered to a container, gets no hint", async () => {
  const f = fakeContext({ listProcesses: async () => listing }, { reader: { root: true } });
  await run({ allProcesses: false }, f.ctx);
  assert.doesNotMatch(f.stderr.text(), /no Go process found/);
  const g = fakeContext({ listProcesses: async () => listing });
  await run({ allProcesses: false, select: { container: "nope" } }, g.ctx);
  assert.doesNotMatch(g.stderr.text(), /no Go process found/);
});

test("piped: the same table and footer as on a terminal (gopsctl ps | grep 4132 finds it)", async () => {
  const f = fakeContext({ listProcesses: async () => listing }, { isTTY: false, reader: { root: false } });
  await run({ allProcesses: false }, f.ctx);
  assert.equal(f.stdout.text(), TABLE);
  assert.match(f.stderr.text(), /could not be inspected/);
});

test("root is not told to run as root: it is told what the unreadable processes are; gopsd's listing names no remedy", async () => {
  const root = fakeContext({ listProcesses: async () => listing }, { reader: { root: true } });
  await run({ allProcesses: false }, root.ctx);
  assert.equal(root.stderr.text(), "3 processes could not be inspected (unreadable even to root, e.g. in another user namespace: 2, corrupt: 1); see --json\n");
  const remote = fakeContext({ listProcesses: async () => listing });
  await run({ allProcesses: false }, remote.ctx);
  assert.equal(remote.stderr.text(), "3 processes could not be inspected (permission denied: 2, corrupt: 1); see --json\n");
});

test("--json: JSON with enum names and no footer", async () => {
  for (const opts of [{ isTTY: false, json: true }, { isTTY: true, json: true }]) {
    const f = fakeContext({ listProcesses: async () => listing }, opts);
    await run({ allProcesses: false }, f.ctx);
    const out = JSON.parse(f.stdout.text());
    assert.equal(out.host, "web-1");
    assert.equal(out.scanned, 120);
    assert.deepEqual(out.processes.map((p: { pid: number }) => p.pid), [88, 4132]);
    assert.deepEqual(out.processes[1].agent, { state: "LISTENING", portFile: "", address: "127.0.0.1:35367", port: 35367, detail: "", kind: "GOPS_AGENT", httpAddress: "", httpPathPrefix: "", httpVerified: false });
    assert.equal(out.processes[1].ppid, 4130);
    assert.equal(out.processes[1].cpuPercent, 0, "zero values are present");
    assert.deepEqual(out.problemCounts[1], { kind: "PERMISSION_DENIED", count: 2 });
    assert.deepEqual(out.problems, [{ pid: 1, kind: "PERMISSION_DENIED", detail: "EACCES" }]);
    assert.equal(f.stderr.text(), "");
  }
});

test("the footer counts only processes that could not be inspected", () => {
  const c = (kind: ScanProblemKind, count: number) => ({ kind, count });
  const user = { root: false };
  assert.equal(problemFooter([], user), undefined);
  assert.equal(problemFooter([c(ScanProblemKind.SCAN_PROBLEM_KIND_KERNEL_THREAD, 9), c(ScanProblemKind.SCAN_PROBLEM_KIND_EXITED, 1), c(ScanProblemKind.SCAN_PROBLEM_KIND_NOT_ELF, 3)], user), undefined);
  assert.equal(problemFooter([c(ScanProblemKind.SCAN_PROBLEM_KIND_IO_ERROR, 1)], user), "1 process could not be inspected (I/O error: 1); see --json");
});

test("development toolchain versions are shortened like gops does", () => {
  assert.equal(shortGoVersion("devel +990dac2723 Mon Jan 1 12:00:00 2024"), "devel +990dac2723");
  assert.equal(shortGoVersion("go1.22.1"), "go1.22.1");
  assert.equal(shortGoVersion("go1.21.4 X:arenas"), "go1.21.4 X:arenas");
  assert.equal(shortGoVersion("devel go1.23-abc"), "devel go1.23-abc");
});

test("a remote error propagates unchanged", async () => {
  const boom = new Error("boom");
  const f = fakeContext({ listProcesses: async () => Promise.reject(boom) });
  await assert.rejects(run({ allProcesses: false }, f.ctx), (e) => e === boom);
  assert.equal(f.stdout.text(), "");
});


test("--probe is passed on; ~ marks a net/http/pprof endpoint, * a gops agent; --json names the kind and address", async () => {
  const withPprof = ListProcessesResponse.fromPartial({
    host: "web-1",
    processes: [
      { pid: 4132, ppid: 1, name: "foops", exe: "/usr/bin/foops", isGo: true, goVersion: "go1.19.8", agent: { state: AgentState.AGENT_STATE_LISTENING, address: "127.0.0.1:35367", port: 35367, kind: AgentKind.AGENT_KIND_GOPS_AGENT } },
      { pid: 5000, ppid: 1, name: "api", exe: "/usr/bin/api", isGo: true, goVersion: "go1.19.8", agent: { state: AgentState.AGENT_STATE_NONE, kind: AgentKind.AGENT_KIND_HTTP_PPROF, httpAddress: "127.0.0.1:6060", httpPathPrefix: "/admin", httpVerified: true } },
      { pid: 6000, ppid: 1, name: "plain", exe: "/usr/bin/plain", isGo: true, goVersion: "go1.19.8", agent: { state: AgentState.AGENT_STATE_NONE, kind: AgentKind.AGENT_KIND_UNSPECIFIED } },
    ],
  });
  const f = fakeContext({ listProcesses: async () => withPprof });
  await run({ allProcesses: false, probe: true }, f.ctx);
  assert.deepEqual(f.calls[0]!.request, { all: false, probe: true });
  const rows = f.stdout.text().split("\n").slice(1, -1).map((l) => l.split(/\s+/));
  assert.deepEqual(rows.map((r) => [r[0], r[3]]), [["4132", "*"], ["5000", "~"], ["6000", "go1.19.8"]]);

  const j = fakeContext({ listProcesses: async () => withPprof }, { json: true });
  await run({ allProcesses: false }, j.ctx);
  const agents = (JSON.parse(j.stdout.text()) as { processes: { agent: Record<string, unknown> }[] }).processes.map((p) => p.agent);
  assert.deepEqual(agents.map((a) => [a["kind"], a["httpAddress"], a["httpPathPrefix"], a["httpVerified"]]), [
    ["GOPS_AGENT", "", "", false],
    ["HTTP_PPROF", "127.0.0.1:6060", "/admin", true],
    ["UNSPECIFIED", "", "", false],
  ]);
});

// ---------------------------------------------------------------------------------------------------------
// Containers: -o wide (NSPID, CONTAINER, POD), --container and --pod, --json.

const CID = "c0ffee00".repeat(8);
const POD_UID = "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9";
const containers = ListProcessesResponse.fromPartial({
  host: "node-1",
  processes: [
    { pid: 4132, ppid: 4130, name: "foops", exe: "/usr/bin/foops", isGo: true, goVersion: "go1.19.8" },
    { pid: 5001, ppid: 5000, nsPid: 1, name: "web", exe: "/app/web", isGo: true, goVersion: "go1.19.8", agent: { state: AgentState.AGENT_STATE_LISTENING }, container: { id: CID, name: "web-frontend", verified: true } },
    {
      pid: 6001, ppid: 6000, nsPid: 1, name: "checkout", exe: "/app/checkout", isGo: true, goVersion: "go1.19.8",
      container: { id: "ab".repeat(32), podUid: POD_UID, podName: "checkout-x2x4q", podNamespace: "shop", verified: true },
    },
  ],
});

test("-o wide: NSPID, CONTAINER (name, else short id) and POD (ns/name) columns; the default table has none", async () => {
  const f = fakeContext({ listProcesses: async () => containers });
  await run({ allProcesses: false, wide: true }, f.ctx);
  assert.equal(
    f.stdout.text(),
    [
      "PID   PPID  NAME      *  VERSION   NSPID  CONTAINER     POD                  PATH",
      "4132  4130  foops        go1.19.8                                            /usr/bin/foops",
      "5001  5000  web       *  go1.19.8  1      web-frontend                       /app/web",
      "6001  6000  checkout     go1.19.8  1      abababababab  shop/checkout-x2x4q  /app/checkout",
      "",
    ].join("\n"),
  );
  const narrow = fakeContext({ listProcesses: async () => containers });
  await run({ allProcesses: false }, narrow.ctx);
  assert.match(narrow.stdout.text(), /^PID\s+PPID\s+NAME\s+\*\s+VERSION\s+PATH\n/);
  assert.doesNotMatch(narrow.stdout.text(), /web-frontend|shop/);
});

test("--container and --pod keep only the processes in that container or pod; --json carries the container", async () => {
  const byContainer = fakeContext({ listProcesses: async () => containers }, { json: true });
  await run({ allProcesses: false, select: { container: "c0ff" } }, byContainer.ctx);
  const json = JSON.parse(byContainer.stdout.text()) as { processes: { pid: number; nsPid: number | null; container: Record<string, unknown> | null }[] };
  assert.deepEqual(json.processes.map((p) => p.pid), [5001]);
  assert.equal(json.processes[0]!.nsPid, 1);
  assert.deepEqual(json.processes[0]!.container, { runtime: "UNSPECIFIED", id: CID, name: "web-frontend", podUid: "", podName: "", podNamespace: "", podQosClass: "UNSPECIFIED", cgroup: "", verified: true });

  const byPod = fakeContext({ listProcesses: async () => containers });
  await run({ allProcesses: false, wide: true, select: { pod: { namespace: "shop", name: "checkout-x2x4q" } } }, byPod.ctx);
  assert.deepEqual(byPod.stdout.text().split("\n").slice(1, -1).map((l) => l.split(/\s+/)[0]), ["6001"]);

  const none = fakeContext({ listProcesses: async () => containers });
  await run({ allProcesses: false, select: { pod: { namespace: "default", name: "checkout-x2x4q" } } }, none.ctx);
  assert.equal(none.stdout.text(), "PID  PPID  NAME  *  VERSION  PATH\n");
});

test("--sort heap with --container asks only the selected processes' agents", async () => {
  const f = fakeContext({
    listProcesses: async () => containers,
    memStats: async () => MemStatsResponse.fromPartial({ stats: { heapAlloc: 1024 } }),
  });
  await run({ allProcesses: false, sort: "heap", select: { container: "web-frontend" } }, f.ctx);
  assert.deepEqual(f.calls.filter((c) => c.method === "memStats").map((c) => c.request), [{ pid: 5001 }]);
});

test("across hosts: each host's listing is filtered, one wide table with HOST", async () => {
  const fleet = fakeFleet({
    "node-1": { listProcesses: async () => containers },
    "node-2": { listProcesses: async () => ListProcessesResponse.fromPartial({ host: "node-2", processes: [{ pid: 77, ppid: 1, name: "web", exe: "/app/web", isGo: true, goVersion: "go1.19.8", container: { id: CID.replace(/^c0/, "d0"), name: "web-frontend", verified: true } }] }) },
  });
  const f = fakeContext({}, { fleet });
  await run({ allProcesses: false, wide: true, select: { container: "web-frontend" } }, f.ctx);
  assert.deepEqual(f.stdout.text().split("\n"), [
    "HOST    PID   PPID  NAME  *  VERSION   NSPID  CONTAINER     PATH",
    "node-1  5001  5000  web   *  go1.19.8  1      web-frontend  /app/web",
    "node-2  77    1     web      go1.19.8         web-frontend  /app/web",
    "",
  ]);
});
