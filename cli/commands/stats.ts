// `gopsctl stats <pid>`: goroutines, OS threads, GOMAXPROCS and CPUs (the agent's text); across hosts, one table
// row per host. A backend that cannot tell some of them (a net/http/pprof endpoint: GOMAXPROCS, CPUs) names them
// in unknownFields: they print as `unknown`, never a made-up 0.
import type { StatsResponse } from "../../proto/index.js";
import { parseOnlyPid } from "../arguments.js";
import { defineCommand } from "../command.js";
import { renderTable, withNewline } from "../output/index.js";

export const spec = defineCommand({
  name: "stats",
  args: "<pid>",
  summary: "print runtime statistics (goroutines, threads, GOMAXPROCS, CPUs)",
  details: [
    "From a net/http/pprof endpoint (ps: ~) GOMAXPROCS and num CPU are not served: they read `unknown`.",
    "--json: {pid, goroutines, osThreads, gomaxprocs, numCpu, raw, unknownFields} (unknownFields: proto names of",
    "  the fields the backend could not tell, which are 0 in the JSON; [] from a gops agent).",
    "Across hosts (the pid applies on every host): HOST GOROUTINES THREADS GOMAXPROCS CPUS, one row per host.",
  ],
  parse: (args) => ({ pid: parseOnlyPid(args) }),
  call: (d, opts, { signal }) => d.stats({ pid: opts.pid }, { signal }),
  render: {
    text: (res) => (res.unknownFields !== undefined ? statsText(res) : withNewline(res.raw)),
    json: (res, opts) => ({
      pid: opts.pid,
      goroutines: res.goroutines,
      osThreads: res.osThreads,
      gomaxprocs: res.gomaxprocs,
      numCpu: res.numCpu,
      raw: res.raw,
      unknownFields: res.unknownFields?.names ?? [],
    }),
    across: {
      kind: "table",
      table: (rows) =>
        renderTable(
          rows.map(({ host, value: s }) => [host, ...statsCells(s)]),
          ["HOST", "GOROUTINES", "THREADS", "GOMAXPROCS", "CPUS"],
        ),
    },
  },
});
export const run = spec.run;

/** The four values in gops' order, `unknown` where the backend could not tell. */
function statsCells(s: StatsResponse): string[] {
  const unknown = new Set(s.unknownFields?.names ?? []);
  const cell = (field: string, v: number) => (unknown.has(field) ? "unknown" : String(v));
  return [cell("goroutines", s.goroutines), cell("os_threads", s.osThreads), cell("gomaxprocs", s.gomaxprocs), cell("num_cpu", s.numCpu)];
}

/** gops' four lines from the typed fields. */
export function statsText(s: StatsResponse): string {
  const [g, t, p, c] = statsCells(s);
  return `goroutines: ${g}\nOS threads: ${t}\nGOMAXPROCS: ${p}\nnum CPU: ${c}\n`;
}
