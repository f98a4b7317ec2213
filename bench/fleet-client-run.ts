// One library fan-out, measured from inside the client process: `node bench/fleet-client-run.ts FLEET_FILE
// [CONCURRENCY]`. Opens the fleet file through the library, asks every host for memstats once and prints
// { ok, failed, wallMs, cpuMs, maxRssMiB } as one JSON line. Wall time and CPU count from opening the fleet to
// closing it after the last host's answer (connection set-up included, Node start-up and module loading excluded).
import { openFleet } from "../client/fleet/index.js";

const [file, concurrency] = process.argv.slice(2);
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const fleet = await openFleet({
  inventoryPath: file!,
  sshConfigPath: null,
  all: true,
  ...(concurrency !== undefined ? { concurrency: Number(concurrency) } : {}),
});
let ok = 0;
let failed = 0;
let firstError: string | undefined;
for await (const r of fleet.memStats(() => ({ pid: 1 }))) {
  if (r.value) ok++;
  else {
    failed++;
    firstError ??= `${r.host}: ${r.error.message}`;
  }
}
// Closing is part of the work (a library user closes the fleet; connections closed during the fan-out count too).
fleet.close();
const wallMs = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
console.log(JSON.stringify({ ok, failed, firstError, wallMs, cpuMs: (cpu.user + cpu.system) / 1000, maxRssMiB: process.resourceUsage().maxRSS / 1024 }));
process.exit(0);
