// A fleet-wide heap check with gopsctl's client library: the Go heap of one process on every selected host, printed
// as each host answers, then the summary line. Exits 1 when any host failed.
//
//   node --import tsx examples/fleet-memstats.ts --fleet fleet.yaml --selector role=web --pid 4132
//
// --fleet defaults to $XDG_CONFIG_HOME/gopsctl/fleet.yaml; --selector (or --hosts a,b, or --all) chooses hosts;
// --pid is the process on every host (as `gopsctl ps --all` shows it); --timeout-ms is each host's deadline.
// In your own code, import from "gopsctl" instead of "../client/index.js".
import { parseArgs } from "node:util";
import { openFleet, summarize, type HostResult } from "../client/index.js";

const { values } = parseArgs({
  options: {
    fleet: { type: "string" },
    selector: { type: "string" },
    hosts: { type: "string" },
    all: { type: "boolean" },
    pid: { type: "string" },
    "timeout-ms": { type: "string", default: "10000" },
  },
});
const pid = Number(values.pid);
if (!Number.isInteger(pid) || pid <= 0) {
  console.error("usage: fleet-memstats.ts [--fleet FILE] (--selector K=V | --hosts A,B | --all) --pid PID");
  process.exit(2);
}

// Ctrl-C cancels every host's call; hosts not done yet report CANCELLED.
const controller = new AbortController();
process.once("SIGINT", () => controller.abort());

const fleet = await openFleet({
  ...(values.fleet !== undefined ? { inventoryPath: values.fleet } : {}),
  ...(values.selector !== undefined ? { selector: values.selector } : {}),
  ...(values.hosts !== undefined ? { hosts: values.hosts } : {}),
  ...(values.all === true ? { all: true } : {}),
  perHostDeadlineMs: Number(values["timeout-ms"]),
  signal: controller.signal,
});
const results: HostResult<unknown>[] = [];
try {
  for await (const r of fleet.memStats({ pid })) {
    results.push(r);
    if (r.error !== undefined) console.log(`${r.host}\terror\t${r.error.message}`);
    else console.log(`${r.host}\theap ${mib(r.value.stats?.heapAlloc ?? 0)}\tobjects ${r.value.stats?.heapObjects ?? 0}\tgc ${r.value.stats?.numGc ?? 0}`);
  }
} finally {
  fleet.close();
}
console.error(summarize(results));
process.exit(results.some((r) => r.error !== undefined) ? 1 : 0);

function mib(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}
