// `gopsctl gc <pid>`: force a garbage collection. Prints nothing on success, like gops (across hosts: the summary
// line; a failed host's error on stderr).
import { parseOnlyPid } from "../arguments.js";
import { defineCommand } from "../command.js";

export const spec = defineCommand({
  name: "gc",
  args: "<pid>",
  summary: "force a garbage collection",
  details: [
    "Needs a gops agent (ps: *). A process reached through net/http/pprof (ps: ~) has no endpoint that runs the GC:",
    '  one line "gopsctl: pid N serves net/http/pprof, which has no endpoint to run the GC" and exit 4 (FAILED_PRECONDITION).',
  ],
  parse: (args) => ({ pid: parseOnlyPid(args) }),
  call: async (d, opts, { signal }) => void (await d.forceGC({ pid: opts.pid }, { signal })),
  render: { text: () => "", json: (_none, opts) => ({ pid: opts.pid, ok: true }) },
});
export const run = spec.run;
