// Goroutine-leak alerts with gopsctl's client library: watches every Go process on the selected hosts (WatchStats,
// one sample per interval) and prints an alert line when a process's goroutine count has grown in N intervals in a
// row. Runs until Ctrl-C (or, with --max-alerts K, until K alerts were printed).
//
//   node --import tsx examples/watch-goroutines.ts --fleet fleet.yaml --selector role=web --intervals 5
//
// Output, one line per alert (tab-separated):
//   ALERT  web-2  4132  api  goroutines grew 5 intervals in a row: 180 -> 420
// --pid limits the watch to some processes (on every host); --interval-ms is the sampling interval (>= 500).
// In your own code, import from "gopsctl" instead of "../client/index.js".
import { parseArgs } from "node:util";
import { openFleet } from "../client/index.js";

const { values } = parseArgs({
  options: {
    fleet: { type: "string" },
    selector: { type: "string" },
    hosts: { type: "string" },
    all: { type: "boolean" },
    pid: { type: "string" },
    "interval-ms": { type: "string", default: "1000" },
    intervals: { type: "string", default: "5" },
    "max-alerts": { type: "string" },
  },
});
const intervalMs = Number(values["interval-ms"]);
const n = Number(values.intervals);
const maxAlerts = values["max-alerts"] === undefined ? Infinity : Number(values["max-alerts"]);
const pids = (values.pid ?? "").split(",").filter((p) => p !== "").map(Number);
if (!(intervalMs >= 500) || !(n >= 1) || !(maxAlerts >= 1) || pids.some((p) => !Number.isInteger(p) || p <= 0)) {
  console.error("usage: watch-goroutines.ts [--fleet FILE] (--selector K=V | --hosts A,B | --all) [--pid P,...] [--interval-ms MS] [--intervals N] [--max-alerts K]");
  process.exit(2);
}

const controller = new AbortController();
process.once("SIGINT", () => controller.abort());

const fleet = await openFleet({
  ...(values.fleet !== undefined ? { inventoryPath: values.fleet } : {}),
  ...(values.selector !== undefined ? { selector: values.selector } : {}),
  ...(values.hosts !== undefined ? { hosts: values.hosts } : {}),
  ...(values.all === true ? { all: true } : {}),
  signal: controller.signal,
});

/** Per process (host, pid, start time): the last fresh count, how many intervals in a row it grew, and where the run started. */
const runs = new Map<string, { last: number; streak: number; from: number }>();
let alerts = 0;
let failed = false;
try {
  for await (const item of fleet.watchStats({ intervalMs, pids }, { signal: controller.signal })) {
    if (item.error !== undefined) {
      console.error(`${item.host}: ${item.error.message}`);
      failed = true;
      continue;
    }
    const seen = new Set<string>();
    for (const p of item.sample.processes) {
      // Only fresh, known counts: a stale value is the previous one again.
      if (p.unknownFields.includes("goroutines") || p.staleFields.includes("goroutines")) continue;
      const key = `${item.host}|${p.pid}|${p.startTimeUnixMs}`;
      seen.add(key);
      const r = runs.get(key);
      if (r === undefined) {
        runs.set(key, { last: p.goroutines, streak: 0, from: p.goroutines });
        continue;
      }
      if (p.goroutines > r.last) {
        if (r.streak === 0) r.from = r.last;
        r.streak++;
      } else r.streak = 0;
      r.last = p.goroutines;
      if (r.streak > 0 && r.streak % n === 0) {
        console.log(["ALERT", item.host, p.pid, p.name, `goroutines grew ${r.streak} intervals in a row: ${r.from} -> ${p.goroutines}`].join("\t"));
        if (++alerts >= maxAlerts) controller.abort();
      }
    }
    for (const key of runs.keys()) if (key.startsWith(`${item.host}|`) && !seen.has(key)) runs.delete(key);
  }
} finally {
  fleet.close();
}
process.exit(failed ? 1 : 0);
