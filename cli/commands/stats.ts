// `gopsctl stats <pid>`: goroutines, OS threads, GOMAXPROCS and CPUs (the agent's text); across hosts, one table
// row per host.
import { parseOnlyPid } from "../arguments.js";
import { defineCommand } from "../command.js";
import { renderTable, withNewline } from "../output/index.js";

export const spec = defineCommand({
  name: "stats",
  args: "<pid>",
  summary: "print runtime statistics (goroutines, threads, GOMAXPROCS, CPUs)",
  details: ["Across hosts (the pid applies on every host): HOST GOROUTINES THREADS GOMAXPROCS CPUS, one row per host."],
  parse: (args) => ({ pid: parseOnlyPid(args) }),
  call: (d, opts, { signal }) => d.stats({ pid: opts.pid }, { signal }),
  render: {
    text: (res) => withNewline(res.raw),
    json: (res, opts) => ({ pid: opts.pid, goroutines: res.goroutines, osThreads: res.osThreads, gomaxprocs: res.gomaxprocs, numCpu: res.numCpu, raw: res.raw }),
    across: {
      kind: "table",
      table: (rows) =>
        renderTable(
          rows.map(({ host, value: s }) => [host, String(s.goroutines), String(s.osThreads), String(s.gomaxprocs), String(s.numCpu)]),
          ["HOST", "GOROUTINES", "THREADS", "GOMAXPROCS", "CPUS"],
        ),
    },
  },
});
export const run = spec.run;
