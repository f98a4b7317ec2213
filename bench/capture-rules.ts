// Benchmark (not a test): the cost of capture rules on the shared sampler (server/capture/evaluate.ts). One
// evaluation of a typical rule set (an absolute threshold, a moving average, an outlier rule, one with a module
// selector, and RSS / GC thresholds) over one sample of PROCESSES processes, against the pure part of the sampler's
// round for the same processes (toProcessStats: what every subscriber pays per sample anyway). Pure, in-process;
// one process is a heap outlier of its module, so the outlier rule fires on every sample.
import { RuleEvaluator } from "../server/capture/evaluate.js";
import { parseRule } from "../server/capture/rules.js";
import { toProcessStats, type ProcessEntry } from "../server/stats-watch/index.js";
import { AgentKind, type ProcessStats } from "../proto/index.js";
import { percentile, timeSync } from "./measure.js";
import type { Row } from "./rows.js";

const PROCESSES = 100;
const RUNS = 2000;
const RULES = [
  "goroutines>10000",
  "goroutines>150%avg warmup=5 window=30 min=100",
  "heap>outlier",
  "rss>2GiB module=example.com/api*",
  "gc-pause>50ms",
  "gc-cpu>25%",
].map(parseRule);

function entry(i: number, round: number): ProcessEntry {
  return {
    proc: {
      pid: 1000 + i,
      starttime: 5000 + i,
      name: `svc${i % 10}`,
      modulePath: `example.com/${i % 4 === 0 ? "api" : `svc${i % 10}`}`,
      backend: AgentKind.AGENT_KIND_GOPS_AGENT,
      cpuTicks: round * 7 + i,
      rssBytes: (50 + (i % 30)) << 20,
      threads: 8 + (i % 5),
      startTimeUnixMs: 1_700_000_000_000 + i,
      gogcEnv: 100,
      gogcSet: undefined,
    },
    at: round * 1000,
    agent: { goroutines: 20 + (i % 17) + (round % 3), gomaxprocs: 4, heapInUseBytes: i === 4 ? 512 << 20 : (8 + (i % 9)) << 20, heapObjects: 1000, numGc: round, gcPauseTotalNs: round * 1e5, gcCpuFraction: 0.01, enableGc: true },
    unknown: new Set(),
    stale: new Set(),
    detail: "",
  };
}

/** Rows for bench/run.ts: µs per sample of 100 processes, rules vs the sampler's own per-sample arithmetic. */
export function captureRulesRows(): Row[] {
  const samples: ProcessStats[][] = [];
  for (let round = 0; round < 64; round++) {
    const prev = round > 0 ? round - 1 : undefined;
    samples.push(
      Array.from({ length: PROCESSES }, (_, i) => toProcessStats(entry(i, round), prev === undefined ? undefined : { at: prev * 1000, cpuTicks: prev * 7 + i, numGc: prev, gcPauseTotalNs: prev * 1e5 }, 100).stats),
    );
  }
  const evaluator = new RuleEvaluator(RULES);
  let k = 0;
  let fired = 0;
  const rules = percentile(timeSync(RUNS, () => (fired += evaluator.evaluate({ processes: samples[k++ % samples.length]! }).length)), 50) * 1000;
  let j = 0;
  const base = percentile(
    timeSync(RUNS, () => {
      const round = j++ % 64;
      for (let i = 0; i < PROCESSES; i++) toProcessStats(entry(i, round), { at: (round - 1) * 1000, cpuTicks: 0, numGc: 0, gcPauseTotalNs: 0 }, 100);
    }),
    50,
  ) * 1000;
  if (fired === 0) throw new Error("no rule fired in the bench's samples: the outlier rule should");
  return [
    {
      bench: "capture-rules",
      metric: `${RULES.length} rules over one sample of ${PROCESSES} processes, p50`,
      value: rules,
      unit: "µs",
      baseline: `the sampler's per-sample arithmetic (toProcessStats) for ${PROCESSES} processes`,
      baselineValue: base,
      ratio: rules / base,
      // Rules run once per sampling interval (1 s at the shortest): 1% of one core at most.
      goal: "<= 10 ms per sample (1% of a core at 1 s)",
      ok: rules <= 10_000,
    },
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { printTable } = await import("./rows.js");
  console.log(printTable(captureRulesRows()));
}
