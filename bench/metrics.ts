// Benchmark (not a test): the cost of gopsd's metrics exporter (issue 21). Part of `npm run bench`; prints a table,
// then one JSON line.
//
//  cpu      CPU of a gopsd (% of one core) with --metrics-listen at the default 15 s interval, scraped every 15 s (as
//           Prometheus does by default), while PROCESSES Go programs with our agent run, over WINDOW s; baseline: a
//           second gopsd without a metrics port, idle over the same window on the same machine.
//           Goal (issue 21): <= 5% of a core on average.
//  scrape   GET /metrics answered from the cached sample, p50 of SCRAPES scrapes; baseline: GET of a path the port
//           answers 404 (the HTTP round trip without the rendering). Goal: <= 50 ms.
// The machine may be shared: figures are comparisons made in the same run.
import { startFixture, startGopsd, type Fixture } from "../integration/harness.js";
import { percentile, procCpuMs } from "./measure.js";

const PROCESSES = Number(process.env.BENCH_METRICS_PROCESSES ?? 100);
const WINDOW_S = Number(process.env.BENCH_METRICS_SECONDS ?? 60);
const SCRAPE_EVERY_MS = 15_000;
const SCRAPES = 30;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function get(url: string): Promise<{ ms: number; status: number; body: string }> {
  const t0 = performance.now();
  const res = await fetch(url, { headers: { accept: "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5" } });
  const body = await res.text();
  return { ms: performance.now() - t0, status: res.status, body };
}

const fixtures: Fixture[] = [];
const [withMetrics, without] = await Promise.all([startGopsd({ args: ["--host-name", "bm1", "--metrics-listen", "127.0.0.1:0"] }), startGopsd({ args: ["--host-name", "bm2"] })]);
try {
  const url = /^gopsd: metrics on (\S+)$/m.exec(withMetrics.stderr())![1]!;
  for (let i = 0; i < PROCESSES; i += 10) fixtures.push(...(await Promise.all(Array.from({ length: Math.min(10, PROCESSES - i) }, () => startFixture("agentprog")))));
  const ours = new Set(fixtures.map((f) => String(f.pid)));
  // Until a round has read every fixture (the first one started with gopsd, before the fixtures).
  let fresh = 0;
  for (let i = 0; i < 60 && fresh < PROCESSES; i++) {
    const { body } = await get(url);
    fresh = [...body.matchAll(/^go_goroutines\{pid="(\d+)"/gm)].filter((m) => ours.has(m[1]!)).length;
    if (fresh < PROCESSES) await sleep(1000);
  }
  const exported = [...(await get(url)).body.matchAll(/^go_goroutines\{/gm)].length;

  // CPU over the window, scraped every 15 s.
  const [g1, g2] = [withMetrics.proc.pid!, without.proc.pid!];
  const c1 = procCpuMs(g1);
  const c2 = procCpuMs(g2);
  const t0 = performance.now();
  while (performance.now() - t0 < WINDOW_S * 1000) {
    await get(url);
    await sleep(Math.min(SCRAPE_EVERY_MS, WINDOW_S * 1000 - (performance.now() - t0)));
  }
  const elapsed = performance.now() - t0;
  const cpu = ((procCpuMs(g1) - c1) / elapsed) * 100;
  const idle = ((procCpuMs(g2) - c2) / elapsed) * 100;

  // Scrape latency from the cached sample, against a 404 on the same port.
  const scrapes: number[] = [];
  const floors: number[] = [];
  let bytes = 0;
  for (let i = 0; i < SCRAPES; i++) {
    const s = await get(url);
    if (s.status !== 200) throw new Error(`scrape answered ${s.status}`);
    bytes = s.body.length;
    scrapes.push(s.ms);
    floors.push((await get(url.replace(/\/metrics$/, "/nothing"))).ms);
  }
  const p50 = percentile(scrapes, 50);
  const floor = percentile(floors, 50);

  const rows = [
    {
      bench: "metrics",
      metric: `gopsd CPU % of a core, ${PROCESSES} Go programs (${exported} exported), 15 s interval, scraped every 15 s, ${WINDOW_S} s`,
      value: cpu,
      unit: "%",
      baseline: "idle gopsd without metrics",
      baselineValue: idle,
      ratio: idle > 0 ? cpu / idle : 0,
      goal: "<= 5 %",
      ok: cpu <= 5,
    },
    {
      bench: "metrics",
      metric: `scrape from the cached sample p50, ${exported} programs, ${(bytes / 1024).toFixed(0)} KiB OpenMetrics`,
      value: p50,
      unit: "ms",
      baseline: "404 on the same port",
      baselineValue: floor,
      ratio: p50 / floor,
      goal: "<= 50 ms",
      ok: p50 <= 50,
    },
  ];
  for (const r of rows) console.log(`${r.metric.padEnd(100)} ${r.value.toFixed(2).padStart(8)} ${r.unit}   ${r.baseline} ${r.baselineValue.toFixed(2)}`);
  console.log(JSON.stringify({ rows }));
} finally {
  await Promise.all([...fixtures.map((f) => f.stop()), withMetrics.stop(), without.stop()]);
}
