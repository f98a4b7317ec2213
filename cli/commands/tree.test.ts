import assert from "node:assert/strict";
import { test } from "node:test";
import { AgentKind, AgentState, ListProcessesResponse } from "../../proto/index.js";
import { fakeContext } from "../fake-context.testkit.js";
import { run } from "./tree.js";

const listing = ListProcessesResponse.fromPartial({
  host: "web-1",
  processes: [
    { pid: 1234, ppid: 1, name: "foo", goVersion: "go1.22.1", agent: { state: AgentState.AGENT_STATE_LISTENING } },
    { pid: 1300, ppid: 1234, name: "child", goVersion: "go1.22.1", agent: { state: AgentState.AGENT_STATE_NONE, kind: AgentKind.AGENT_KIND_HTTP_PPROF } },
    { pid: 900, ppid: 800, name: "bar", goVersion: "go1.19.8" },
    { pid: 950, ppid: 800, name: "sh", goVersion: "" },
  ],
});

test("on a terminal: the gops tree layout, agents marked [*], children nested", async () => {
  const f = fakeContext({ listProcesses: async () => listing });
  await run({ allProcesses: true }, f.ctx);
  assert.deepEqual(f.calls[0]!.request, { all: true });
  assert.equal(
    f.stdout.text(),
    [
      "...",
      "├── 1",
      "│   └── [*]  1234 (foo) {go1.22.1}",
      "│       └── [~]  1300 (child) {go1.22.1}",
      "└── 800",
      "    ├── 900 (bar) {go1.19.8}",
      "    └── 950 (sh)",
      "",
    ].join("\n"),
  );
});

test("JSON: nested nodes, first-level parents with a null process", async () => {
  const f = fakeContext({ listProcesses: async () => listing }, { isTTY: false, json: true });
  await run({ allProcesses: false }, f.ctx);
  const out = JSON.parse(f.stdout.text());
  assert.equal(out.host, "web-1");
  assert.deepEqual(out.tree.map((n: { pid: number; process: unknown }) => [n.pid, n.process]), [[1, null], [800, null]]);
  const foo = out.tree[0].children[0];
  assert.equal(foo.process.name, "foo");
  assert.equal(foo.process.agent.state, "LISTENING");
  assert.equal(foo.children[0].pid, 1300);
  assert.deepEqual(foo.children[0].children, []);
});
