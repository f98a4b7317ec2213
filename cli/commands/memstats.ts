// `gopsctl memstats <pid>`: the agent's runtime.MemStats (its own text on a terminal, typed fields + raw in JSON);
// across hosts, one table row per host with the main fields.
import type { MemStatsResponse } from "../../proto/index.js";
import { answeredInHostOrder, eachHost, finishAcross } from "../across-hosts.js";
import { parseOnlyPid } from "../arguments.js";
import type { CommandContext, CommandSpec } from "../command.js";
import { formatGoDuration } from "../duration.js";
import { printView, renderTable, wantsJson, withNewline, write } from "../output/index.js";
import { formatBytes } from "../progress.js";

export interface MemstatsOptions {
  pid: number;
}

export const spec: CommandSpec<MemstatsOptions> = {
  name: "memstats",
  args: "<pid>",
  summary: "print memory allocation statistics",
  details: [
    "Across hosts (the pid applies on every host): HOST HEAP-ALLOC HEAP-INUSE HEAP-OBJECTS SYS TOTAL-ALLOC NUM-GC",
    "  NEXT-GC GC-PAUSE-TOTAL, one row per host.",
  ],
  parse: (args) => ({ pid: parseOnlyPid(args) }),
  defaultTimeoutMs: (_opts, base) => base,
  run,
};

export async function run(opts: MemstatsOptions, ctx: CommandContext): Promise<void> {
  const json = (res: MemStatsResponse) => ({ pid: opts.pid, stats: res.stats ?? null, raw: res.raw, unknownKeys: res.unknownKeys });
  const fleet = ctx.fleet;
  if (fleet !== undefined) {
    const settled = await eachHost(ctx, fleet.run((client, { signal }) => client.memStats({ pid: opts.pid }, { signal })), { json });
    if (!wantsJson(ctx)) await write(ctx.stdout, memstatsTable(answeredInHostOrder(fleet, settled)), ctx.signal);
    await finishAcross(ctx, settled);
    return;
  }
  const res = await ctx.diagnostics.memStats({ pid: opts.pid }, { signal: ctx.signal });
  await printView(ctx, { json: json(res), text: () => withNewline(res.raw) });
}

function memstatsTable(rows: readonly { host: string; value: MemStatsResponse }[]): string {
  return renderTable(
    rows.map(({ host, value }) => {
      const s = value.stats;
      if (s === undefined) return [host, "-", "-", "-", "-", "-", "-", "-", "-"];
      return [
        host,
        formatBytes(s.heapAlloc),
        formatBytes(s.heapInUse),
        String(s.heapObjects),
        formatBytes(s.sys),
        formatBytes(s.totalAlloc),
        String(s.numGc),
        formatBytes(s.nextGc),
        formatGoDuration(s.gcPauseTotalNs / 1e6),
      ];
    }),
    ["HOST", "HEAP-ALLOC", "HEAP-INUSE", "HEAP-OBJECTS", "SYS", "TOTAL-ALLOC", "NUM-GC", "NEXT-GC", "GC-PAUSE-TOTAL"],
  );
}
