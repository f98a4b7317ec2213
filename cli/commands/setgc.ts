// `gopsctl setgc <pid> <percent|off>`: set the target's GOGC; across hosts, HOST PREVIOUS CURRENT rows.
import { parseGcPercent, parsePid } from "../arguments.js";
import { defineCommand } from "../command.js";
import { UsageError } from "../errors.js";
import { renderTable, withNewline } from "../output/index.js";

export const spec = defineCommand({
  name: "setgc",
  args: "<pid> <percent|off>",
  summary: "set the garbage collection target percentage (GOGC); off disables the collector",
  details: [
    "Needs a gops agent (ps: *). A process reached through net/http/pprof (ps: ~) has no endpoint that sets GOGC:",
    '  one line "gopsctl: pid N serves net/http/pprof, which has no endpoint to set GOGC" and exit 4 (FAILED_PRECONDITION).',
  ],
  parse(args) {
    if (args.length > 2) throw new UsageError(`too many arguments: "${args[2]}"`);
    return { pid: parsePid(args[0]), percent: parseGcPercent(args[1]) };
  },
  call: (d, opts, { signal }) => d.setGCPercent({ pid: opts.pid, percent: opts.percent }, { signal }),
  render: {
    text: (res) => withNewline(res.raw),
    json: (res, opts) => ({ pid: opts.pid, previous: res.previous, current: res.current, raw: res.raw }),
    across: {
      kind: "table",
      table: (rows) => renderTable(rows.map(({ host, value }) => [host, gogc(value.previous), gogc(value.current)]), ["HOST", "PREVIOUS", "CURRENT"]),
    },
  },
});
export const run = spec.run;

/** A GOGC value as GOGC spells it: a percentage, or off. */
function gogc(percent: number): string {
  return percent < 0 ? "off" : String(percent);
}
