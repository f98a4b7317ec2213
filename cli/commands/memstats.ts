// `gopsctl memstats <pid>`: the agent's runtime.MemStats (its own text; typed fields + raw in JSON); across hosts,
// one table row per host with the main fields.
import type { MemStatsResponse } from "../../proto/index.js";
import { parseOnlyPid } from "../arguments.js";
import { defineCommand } from "../command.js";
import { formatGoDuration } from "../duration.js";
import { renderTable, withNewline } from "../output/index.js";
import { formatBytes } from "../progress.js";

export const spec = defineCommand({
  name: "memstats",
  args: "<pid>",
  summary: "print memory allocation statistics",
  details: [
    "Across hosts (the pid applies on every host): HOST HEAP-ALLOC HEAP-INUSE HEAP-OBJECTS SYS TOTAL-ALLOC NUM-GC",
    "  NEXT-GC GC-PAUSE-TOTAL, one row per host.",
  ],
  parse: (args) => ({ pid: parseOnlyPid(args) }),
  call: (d, opts, { signal }) => d.memStats({ pid: opts.pid }, { signal }),
  render: {
    text: (res) => withNewline(res.raw),
    json: (res, opts) => ({ pid: opts.pid, stats: res.stats ?? null, raw: res.raw, unknownKeys: res.unknownKeys }),
    across: { kind: "table", table: memstatsTable },
  },
});
export const run = spec.run;

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
