// `gopsctl tree [--all]`: the process tree, like gops tree.
import { AgentState } from "../../proto/index.js";
import { DEFAULT_TIMEOUT_MS, type CommandContext, type CommandSpec } from "../command.js";
import { UsageError } from "../errors.js";
import { printView, processJson, renderTree, type TextTree } from "../output/index.js";
import { buildProcessTree, type ProcessTreeNode } from "../process-tree.js";

export interface TreeOptions {
  all: boolean;
}

export const spec: CommandSpec<TreeOptions> = {
  name: "tree",
  args: "[--all]",
  summary: "show the Go processes as a tree of parents and children",
  flags: ["all"],
  parse(args, options) {
    if (args.length > 0) throw new UsageError(`tree takes no arguments, got "${args[0]}"`);
    return { all: options.all };
  },
  defaultTimeoutMs: () => DEFAULT_TIMEOUT_MS,
  run,
};

export async function run(opts: TreeOptions, ctx: CommandContext): Promise<void> {
  const res = await ctx.diagnostics.listProcesses({ all: opts.all }, { signal: ctx.signal });
  const forest = buildProcessTree(res.processes);
  await printView(ctx, {
    json: { host: res.host, tree: forest.map(nodeJson) },
    text: () => renderTree({ label: "...", children: forest.map(textNode) }),
  });
}

/** `1234 (name) {go1.22.1}`, prefixed `[*]  ` when the agent listens; a bare pid for a parent not in the list. */
function textNode(n: ProcessTreeNode): TextTree {
  const p = n.process;
  if (p === undefined) return { label: String(n.pid), children: n.children.map(textNode) };
  const agent = p.agent?.state === AgentState.AGENT_STATE_LISTENING ? "[*]  " : "";
  const version = p.goVersion === "" ? "" : ` {${p.goVersion}}`;
  return { label: `${agent}${p.pid} (${p.name})${version}`, children: n.children.map(textNode) };
}

type NodeJson = { pid: number; process: ReturnType<typeof processJson> | null; children: NodeJson[] };

function nodeJson(n: ProcessTreeNode): NodeJson {
  return { pid: n.pid, process: n.process === undefined ? null : processJson(n.process), children: n.children.map(nodeJson) };
}
