// `gopsctl memstats <pid>`: the agent's runtime.MemStats (its own text on a terminal, typed fields + raw in JSON).
import { parseOnlyPid } from "../arguments.js";
import { DEFAULT_TIMEOUT_MS, type CommandContext, type CommandSpec } from "../command.js";
import { printView, withNewline } from "../output/index.js";

export interface MemstatsOptions {
  pid: number;
}

export const spec: CommandSpec<MemstatsOptions> = {
  name: "memstats",
  args: "<pid>",
  summary: "print memory allocation statistics",
  parse: (args) => ({ pid: parseOnlyPid(args) }),
  defaultTimeoutMs: () => DEFAULT_TIMEOUT_MS,
  run,
};

export async function run(opts: MemstatsOptions, ctx: CommandContext): Promise<void> {
  const res = await ctx.diagnostics.memStats({ pid: opts.pid }, { signal: ctx.signal });
  await printView(ctx, {
    json: { pid: opts.pid, stats: res.stats ?? null, raw: res.raw, unknownKeys: res.unknownKeys },
    text: () => withNewline(res.raw),
  });
}
