import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AgentKind, MemStats } from "../../proto/index.js";
import type { HubState, ProcessEntry, RoundEntries, WatchOptions } from "../stats-watch/index.js";
import { MetricsExporter, parseMaxOpenFiles, type EntrySource } from "./exporter.js";

/** A sampler whose rounds the test hands over one by one. */
class FakeSource implements EntrySource {
  subscriptions = 0;
  active = 0;
  lastInterval = 0;
  private push: ((r: RoundEntries) => void) | undefined;
  private queue: RoundEntries[] = [];
  watchEntries(opts: WatchOptions): AsyncIterable<RoundEntries> {
    this.subscriptions++;
    this.lastInterval = opts.intervalMs;
    const self = this;
    return (async function* () {
      self.active++;
      try {
        while (!opts.signal?.aborted) {
          const next = self.queue.shift() ?? (await new Promise<RoundEntries | undefined>((resolve) => {
            self.push = resolve;
            opts.signal?.addEventListener("abort", () => resolve(undefined), { once: true });
          }));
          if (next === undefined) return;
          yield next;
        }
      } finally {
        self.active--;
      }
    })();
  }
  round(r: RoundEntries): void {
    const push = this.push;
    this.push = undefined;
    if (push) push(r);
    else this.queue.push(r);
  }
  state(): HubState {
    return { subscribers: this.active, running: true, rounds: 1, agentReads: 7, peakReadsAtOnce: 1, readFailures: new Map([["timeout", 2]]) };
  }
}

const entry = (pid: number, goroutines: number): ProcessEntry => ({
  proc: {
    pid,
    starttime: pid,
    name: `p${pid}`,
    modulePath: "m",
    backend: AgentKind.AGENT_KIND_GOPS_AGENT,
    cpuTicks: 100,
    rssBytes: 1,
    threads: 1,
    startTimeUnixMs: 0,
    gogcEnv: 100,
    gogcSet: undefined,
    exe: `/bin/p${pid}`,
    goVersion: "go1.19.8",
  },
  at: 0,
  agent: { goroutines },
  unknown: new Set(),
  stale: new Set(),
  detail: "",
  runtime: { memStats: MemStats.create({ numGc: 1 }), memUnknown: [], osThreads: 3, pauseNs: undefined },
  runtimeAt: 0,
});

let seq = 0;
const round = (...entries: ProcessEntry[]): RoundEntries => ({ seq: ++seq, timeUnixMs: Date.now(), at: 0, durationMs: 42, entries });

const fs = {
  clockTicks: 100,
  countFds: (pid: number) => {
    if (pid === 3) throw Object.assign(new Error("EACCES"), { code: "EACCES" });
    return 5;
  },
  readLimits: () => "Limit  Soft Limit  Hard Limit  Units\nMax open files            1024                 4096                 files     \n",
};

const flush = () => new Promise((r) => setImmediate(r));
const lines = (body: string, name: string) => body.split("\n").filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));

describe("MetricsExporter", () => {
  it("serves the latest round; exited processes vanish; past maxProcesses processes are counted, not exported", async () => {
    const source = new FakeSource();
    const x = new MetricsExporter({ source, fs, intervalMs: 15_000, maxProcesses: 2, now: () => 1_000 });
    x.start();
    source.round(round(entry(2, 20), entry(1, 10), entry(3, 30)));
    await flush();
    const first = (await x.scrape(undefined)).body;
    assert.equal(source.lastInterval, 15_000);
    assert.deepEqual(lines(first, "go_goroutines"), ['go_goroutines{pid="1",exe="/bin/p1",module="m"} 10', 'go_goroutines{pid="2",exe="/bin/p2",module="m"} 20']);
    assert.match(first, /^gopsd_metrics_processes\{state="over_limit"\} 1$/m);
    assert.match(first, /^gopsd_metrics_processes\{state="fresh"\} 2$/m);
    assert.match(first, /^process_open_fds\{pid="1",[^}]*\} 5$/m);
    assert.match(first, /^process_max_fds\{pid="1",[^}]*\} 1024$/m);
    assert.match(first, /^gopsd_agent_reads_total 7$/m);
    assert.match(first, /^gopsd_agent_read_errors_total\{reason="timeout"\} 2$/m);
    assert.match(first, /^gopsd_metrics_sample_duration_seconds 0.042$/m);

    source.round(round(entry(2, 25)));
    await flush();
    const second = (await x.scrape(undefined)).body;
    assert.deepEqual(lines(second, "go_goroutines"), ['go_goroutines{pid="2",exe="/bin/p2",module="m"} 25']);
    assert.doesNotMatch(second, /pid="1"/);
    assert.match(second, /^gopsd_metrics_scrapes_total 2$/m);
    x.close();
    await flush();
    assert.equal(source.active, 0, "close() ends the subscription");
  });

  it("a scrape between rounds serves the same sample without reading anything", async () => {
    const source = new FakeSource();
    const x = new MetricsExporter({ source, fs, intervalMs: 15_000, maxProcesses: 10 });
    x.start();
    source.round(round(entry(5, 1)));
    await flush();
    const a = await x.scrape(undefined);
    const b = await x.scrape(undefined);
    assert.deepEqual(lines(a.body, "go_goroutines"), lines(b.body, "go_goroutines"));
    assert.equal(source.subscriptions, 1);
    x.close();
  });

  it("the first scrape waits for the first round, and is answered without it when none comes in time", async () => {
    const source = new FakeSource();
    const x = new MetricsExporter({ source, fs, intervalMs: 15_000, maxProcesses: 10 });
    const pending = x.scrape(undefined);
    setTimeout(() => source.round(round(entry(8, 4))), 50);
    assert.deepEqual(lines((await pending).body, "go_goroutines"), ['go_goroutines{pid="8",exe="/bin/p8",module="m"} 4']);
    x.close();

    // No round at all (a sampler stuck behind a hung /proc): the scrape still answers, with gopsd's own series.
    const stuck = new FakeSource();
    const y = new MetricsExporter({ source: stuck, fs, intervalMs: 15_000, maxProcesses: 10 });
    const body = (await y.scrape(undefined)).body;
    assert.deepEqual(lines(body, "go_goroutines"), []);
    assert.match(body, /^gopsd_metrics_scrapes_total 1$/m);
    y.close();
  });
});

describe("parseMaxOpenFiles", () => {
  it("reads the soft limit; unlimited is unknown", () => {
    assert.equal(parseMaxOpenFiles(fs.readLimits()), 1024);
    assert.equal(parseMaxOpenFiles("Max open files            unlimited            unlimited            files\n"), undefined);
    assert.equal(parseMaxOpenFiles("garbage"), undefined);
  });
});
