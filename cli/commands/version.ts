// `gopsctl version <pid>`: the Go runtime version the target's agent reports; across hosts, HOST VERSION rows.
import { parseOnlyPid } from "../arguments.js";
import { defineCommand } from "../command.js";
import { renderTable } from "../output/index.js";

export const spec = defineCommand({
  name: "version",
  args: "<pid>",
  summary: "print the Go version the target runs (its agent's answer)",
  parse: (args) => ({ pid: parseOnlyPid(args) }),
  call: async (d, opts, { signal }) => (await d.version({ pid: opts.pid }, { signal })).goVersion,
  render: {
    text: (goVersion) => `${goVersion}\n`,
    json: (goVersion, opts) => ({ pid: opts.pid, goVersion }),
    across: { kind: "table", table: (rows) => renderTable(rows.map(({ host, value }) => [host, value]), ["HOST", "VERSION"]) },
  },
});
export const run = spec.run;
