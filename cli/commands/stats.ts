// `gopsctl stats <pid>`: goroutines, OS threads, GOMAXPROCS and CPUs (the agent's text on a terminal); across
// hosts, one table row per host.
import type { StatsResponse } from "../../proto/index.js";
import { answeredInHostOrder, eachHost, finishAcross } from "../across-hosts.js";
import { parseOnlyPid } from "../arguments.js";
import type { CommandContext, CommandSpec } from "../command.js";
import { printView, renderTable, wantsJson, withNewline, write } from "../output/index.js";

export interface StatsOptions {
  pid: number;
}

export const spec: CommandSpec<StatsOptions> = {
  name: "stats",
  args: "<pid>",
  summary: "print runtime statistics (goroutines, threads, GOMAXPROCS, CPUs)",
  details: ["Across hosts (the pid applies on every host): HOST GOROUTINES THREADS GOMAXPROCS CPUS, one row per host."],
  parse: (args) => ({ pid: parseOnlyPid(args) }),
  defaultTimeoutMs: (_opts, base) => base,
  run,
};

export async function run(opts: StatsOptions, ctx: CommandContext): Promise<void> {
  const json = (res: StatsResponse) => ({
    pid: opts.pid,
    goroutines: res.goroutines,
    osThreads: res.osThreads,
    gomaxprocs: res.gomaxprocs,
    numCpu: res.numCpu,
    raw: res.raw,
  });
  const fleet = ctx.fleet;
  if (fleet !== undefined) {
    const settled = await eachHost(ctx, fleet.run((client, { signal }) => client.stats({ pid: opts.pid }, { signal })), { json });
    if (!wantsJson(ctx)) {
      const rows = answeredInHostOrder(fleet, settled).map(({ host, value: s }) => [
        host,
        String(s.goroutines),
        String(s.osThreads),
        String(s.gomaxprocs),
        String(s.numCpu),
      ]);
      await write(ctx.stdout, renderTable(rows, ["HOST", "GOROUTINES", "THREADS", "GOMAXPROCS", "CPUS"]), ctx.signal);
    }
    await finishAcross(ctx, settled);
    return;
  }
  const res = await ctx.diagnostics.stats({ pid: opts.pid }, { signal: ctx.signal });
  await printView(ctx, { json: json(res), text: () => withNewline(res.raw) });
}
