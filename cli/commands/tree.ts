// `gopsctl tree [-A]`: the process tree, like gops tree; across hosts, one tree per host (rooted at its name).
import type { ListProcessesResponse } from "../../proto/index.js";
import { defineCommand } from "../command.js";
import { UsageError } from "../errors.js";
import { processJson, renderTree, type TextTree } from "../output/index.js";
import { buildProcessTree, type ProcessTreeNode } from "../process-tree.js";
import { accessMarker, ALL_PROCESSES } from "./ps.js";

export const spec = defineCommand({
  name: "tree",
  args: "[-A]",
  summary: "show the Go processes as a tree of parents and children",
  flags: [ALL_PROCESSES],
  parse(args, parsed) {
    if (args.length > 0) throw new UsageError(`tree takes no arguments, got "${args[0]}"`);
    return { allProcesses: parsed.given.has("all-processes") };
  },
  call: (d, opts, { signal }) => d.listProcesses({ all: opts.allProcesses }, { signal }),
  // Across hosts, one tree per host, rooted at its name.
  render: { text: (res, _opts, host) => treeText(res, host ?? "..."), json: treeJson, across: { kind: "lines" } },
});
export const run = spec.run;

function treeJson(res: ListProcessesResponse) {
  return { host: res.host, tree: buildProcessTree(res.processes).map(nodeJson) };
}

function treeText(res: ListProcessesResponse, root: string): string {
  return renderTree({ label: root, children: buildProcessTree(res.processes).map(textNode) });
}

/** `1234 (name) {go1.22.1}`, prefixed `[*]  ` when the agent listens (`[~]  ` for a net/http/pprof endpoint); a bare pid for a parent not in the list. */
function textNode(n: ProcessTreeNode): TextTree {
  const p = n.process;
  if (p === undefined) return { label: String(n.pid), children: n.children.map(textNode) };
  const marker = accessMarker(p);
  const agent = marker !== "" ? `[${marker}]  ` : "";
  const version = p.goVersion === "" ? "" : ` {${p.goVersion}}`;
  return { label: `${agent}${p.pid} (${p.name})${version}`, children: n.children.map(textNode) };
}

type NodeJson = { pid: number; process: ReturnType<typeof processJson> | null; children: NodeJson[] };

function nodeJson(n: ProcessTreeNode): NodeJson {
  return { pid: n.pid, process: n.process === undefined ? null : processJson(n.process), children: n.children.map(nodeJson) };
}
