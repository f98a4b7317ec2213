// `gopsctl` / `gopsctl ps [--all]`: the gops process list.
import { AgentState, ScanProblemKind, type ListProcessesResponse, type Process, type ScanProblemCount } from "../../proto/index.js";
import { DEFAULT_TIMEOUT_MS, type CommandContext, type CommandSpec } from "../command.js";
import { UsageError } from "../errors.js";
import { printView, processJson, renderTable, scanProblemKindName, write } from "../output/index.js";

export interface PsOptions {
  all: boolean;
}

export const spec: CommandSpec<PsOptions> = {
  name: "ps",
  args: "[--all]",
  summary: "list Go processes (* = gops agent listening); the default command",
  flags: ["all"],
  parse(args, options) {
    if (args.length > 0) throw new UsageError(`ps takes no arguments, got "${args[0]}"`);
    return { all: options.all };
  },
  defaultTimeoutMs: () => DEFAULT_TIMEOUT_MS,
  run,
};

export async function run(opts: PsOptions, ctx: CommandContext): Promise<void> {
  const res = await ctx.diagnostics.listProcesses({ all: opts.all }, { signal: ctx.signal });
  const processes = [...res.processes].sort((a, b) => a.pid - b.pid);
  await printView(ctx, { json: listJson(res, processes), text: () => processTable(processes) });
  const footer = problemFooter(res.problemCounts);
  if (footer !== undefined && !ctx.json) await write(ctx.stderr, `${footer}\n`, ctx.signal);
}

function processTable(processes: readonly Process[]): string {
  return renderTable(
    processes.map((p) => [
      String(p.pid),
      String(p.ppid),
      p.name,
      p.agent?.state === AgentState.AGENT_STATE_LISTENING ? "*" : "",
      shortGoVersion(p.goVersion),
      p.exe,
    ]),
    ["PID", "PPID", "NAME", "*", "VERSION", "PATH"],
  );
}

/** Like gops: a development toolchain's long version string is cut to "devel +<hash>". */
export function shortGoVersion(version: string): string {
  return /devel\s+\+\w+/.exec(version)?.[0] ?? version;
}

/** Kinds that mean "this process could not be inspected" (the others are simply not Go, or gone), with their labels. */
const UNINSPECTED = new Map<ScanProblemKind, string>([
  [ScanProblemKind.SCAN_PROBLEM_KIND_PERMISSION_DENIED, "permission denied"],
  [ScanProblemKind.SCAN_PROBLEM_KIND_CORRUPT, "corrupt"],
  [ScanProblemKind.SCAN_PROBLEM_KIND_IO_ERROR, "I/O error"],
]);

/** e.g. "3 processes could not be inspected (permission denied: 2, corrupt: 1); run as root or see --json". */
export function problemFooter(counts: readonly ScanProblemCount[]): string | undefined {
  const relevant = counts.filter((c) => UNINSPECTED.has(c.kind) && c.count > 0);
  const total = relevant.reduce((n, c) => n + c.count, 0);
  if (total === 0) return undefined;
  const parts = relevant.map((c) => `${UNINSPECTED.get(c.kind)}: ${c.count}`);
  const denied = relevant.some((c) => c.kind === ScanProblemKind.SCAN_PROBLEM_KIND_PERMISSION_DENIED);
  return `${total} ${total === 1 ? "process" : "processes"} could not be inspected (${parts.join(", ")}); ${denied ? "run as root or see --json" : "see --json"}`;
}

function listJson(res: ListProcessesResponse, sorted: readonly Process[]) {
  return {
    host: res.host,
    scanned: res.scanned,
    processes: sorted.map(processJson),
    problemCounts: res.problemCounts.map((c) => ({ kind: scanProblemKindName(c.kind), count: c.count })),
    problems: res.problems.map((p) => ({ pid: p.pid, kind: scanProblemKindName(p.kind), detail: p.detail })),
  };
}
