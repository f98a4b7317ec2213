// `gopsctl tree [-A]`: the process tree, like gops tree; across hosts, one tree per host (rooted at its name).
import { AgentState, type ListProcessesResponse } from "../../proto/index.js";
import { eachHost, finishAcross } from "../across-hosts.js";
import { type CommandContext, type CommandSpec } from "../command.js";
import { UsageError } from "../errors.js";
import { printView, processJson, renderTree, type TextTree } from "../output/index.js";
import { buildProcessTree, type ProcessTreeNode } from "../process-tree.js";

export interface TreeOptions {
  /** -A/--all-processes: every process, not only Go ones. */
  allProcesses: boolean;
}

export const spec: CommandSpec<TreeOptions> = {
  name: "tree",
  args: "[-A]",
  summary: "show the Go processes as a tree of parents and children",
  flags: ["all-processes"],
  parse(args, options) {
    if (args.length > 0) throw new UsageError(`tree takes no arguments, got "${args[0]}"`);
    return { allProcesses: options.allProcesses };
  },
  defaultTimeoutMs: (_opts, base) => base,
  run,
};

export async function run(opts: TreeOptions, ctx: CommandContext): Promise<void> {
  if (ctx.fleet !== undefined) {
    const settled = await eachHost(
      ctx,
      ctx.fleet.run((client, { signal }) => client.listProcesses({ all: opts.allProcesses }, { signal })),
      { json: treeJson, text: (res, host) => treeText(res, host) },
    );
    await finishAcross(ctx, settled);
    return;
  }
  const res = await ctx.diagnostics.listProcesses({ all: opts.allProcesses }, { signal: ctx.signal });
  await printView(ctx, { json: treeJson(res), text: () => treeText(res, "...") });
}

function treeJson(res: ListProcessesResponse) {
  return { host: res.host, tree: buildProcessTree(res.processes).map(nodeJson) };
}

function treeText(res: ListProcessesResponse, root: string): string {
  return renderTree({ label: root, children: buildProcessTree(res.processes).map(textNode) });
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
