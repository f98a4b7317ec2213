// `gopsctl gc <pid>`: force a garbage collection. Prints nothing on success, like gops (across hosts: the summary
// line; a failed host's error on stderr).
import { parseOnlyPid } from "../arguments.js";
import { defineCommand } from "../command.js";

export const spec = defineCommand({
  name: "gc",
  args: "<pid>",
  summary: "force a garbage collection",
  parse: (args) => ({ pid: parseOnlyPid(args) }),
  call: async (d, opts, { signal }) => void (await d.forceGC({ pid: opts.pid }, { signal })),
  render: { text: () => "", json: (_none, opts) => ({ pid: opts.pid, ok: true }) },
});
export const run = spec.run;
