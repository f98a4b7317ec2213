// `gopsctl stats <pid>`: goroutines, OS threads, GOMAXPROCS and CPUs (the agent's text on a terminal).
import { parseOnlyPid } from "../arguments.js";
import { DEFAULT_TIMEOUT_MS, type CommandContext, type CommandSpec } from "../command.js";
import { printView, withNewline } from "../output/index.js";

export interface StatsOptions {
  pid: number;
}

export const spec: CommandSpec<StatsOptions> = {
  name: "stats",
  args: "<pid>",
  summary: "print runtime statistics (goroutines, threads, GOMAXPROCS, CPUs)",
  parse: (args) => ({ pid: parseOnlyPid(args) }),
  defaultTimeoutMs: () => DEFAULT_TIMEOUT_MS,
  run,
};

export async function run(opts: StatsOptions, ctx: CommandContext): Promise<void> {
  const res = await ctx.diagnostics.stats({ pid: opts.pid }, { signal: ctx.signal });
  await printView(ctx, {
    json: { pid: opts.pid, goroutines: res.goroutines, osThreads: res.osThreads, gomaxprocs: res.gomaxprocs, numCpu: res.numCpu, raw: res.raw },
    text: () => withNewline(res.raw),
  });
}
