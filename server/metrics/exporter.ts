// The metrics exporter: a subscriber of the host's one StatsHub (the sampler `top` uses), so each Go process is read
// at most once per interval however many scrapers and watchers there are. Each round it gets is turned into a
// snapshot of series (go-series.ts) once; a scrape renders the latest snapshot and never waits for an agent. Only
// the first scrape after a start (or after an idle stop) waits for the first round, at most FIRST_SAMPLE_WAIT_MS.
// The subscription starts with the exporter and stops after IDLE_MS without a scrape (no agent is read for nobody);
// the next scrape starts it again.
import type { ProcFs } from "../proc/index.js";
import type { HubState, ProcessEntry, RoundEntries, WatchOptions } from "../stats-watch/index.js";
import { Exposition, wantsOpenMetrics, type OwnSample, type Snapshot } from "./exposition.js";
import { processSeries, type Family, type FdCounts, type ProcessSeries } from "./go-series.js";

/** The sampler as the exporter uses it. */
export interface EntrySource {
  watchEntries(opts: WatchOptions): AsyncIterable<RoundEntries>;
  state(): HubState;
}

export interface ExporterOptions {
  source: EntrySource;
  fs: Pick<ProcFs, "countFds" | "readLimits" | "clockTicks">;
  intervalMs: number;
  maxProcesses: number;
  /** Counters kept elsewhere in gopsd, read at each scrape. */
  counters?: () => ExternalCounters;
  /** The sampler's monotonic clock (ms); default performance.now(), as the hub's. */
  now?: () => number;
}

export interface ExternalCounters {
  namespaceDials?: { opened: number; failed: number };
  /** Refused gRPC calls by status name. */
  refusedCalls?: ReadonlyMap<string, number>;
  /** Refused /metrics requests by reason. */
  refusedScrapes?: ReadonlyMap<string, number>;
}

/** The longest a scrape waits for the first round when there is no sample yet. */
export const FIRST_SAMPLE_WAIT_MS = 5_000;
/** Without a scrape for this long (and at least 4 intervals) the exporter stops reading agents. */
export const IDLE_MS = 10 * 60_000;
/** A runtime reading older than this many intervals is not exported (the agent stopped answering). */
const MAX_AGE_INTERVALS = 4;

const own = (name: string, type: Family["type"], help: string): Family => ({ name, type, help });
export const OWN = {
  scrapes: own("gopsd_metrics_scrapes_total", "counter", "Scrapes of /metrics answered."),
  scrapeDuration: own("gopsd_metrics_scrape_duration_seconds", "gauge", "Time the previous scrape of /metrics took to render."),
  sampleAge: own("gopsd_metrics_sample_age_seconds", "gauge", "Age of the sample this scrape serves (the sampler reads each process once per interval)."),
  sampleDuration: own("gopsd_metrics_sample_duration_seconds", "gauge", "Time the sampling round of the served sample took (/proc and every agent read)."),
  interval: own("gopsd_metrics_interval_seconds", "gauge", "Interval at which the exporter samples each Go process."),
  processes: own(
    "gopsd_metrics_processes",
    "gauge",
    "Go processes in the served sample by state: fresh (runtime series exported), stale (runtime reading too old, only process_* exported), no_runtime (no gops agent or known net/http/pprof endpoint), over_limit (past metrics.maxProcesses: counted, not exported).",
  ),
  agentReads: own("gopsd_agent_reads_total", "counter", "Runtime reads of gops agents and net/http/pprof endpoints the sampler started."),
  agentErrors: own(
    "gopsd_agent_read_errors_total",
    "counter",
    "Runtime reads that failed or were skipped, by reason (timeout, previous_read_pending, capture_busy, or the error's status, e.g. unavailable).",
  ),
  namespaceDials: own("gopsd_namespace_dials_total", "counter", "Dials into another network namespace (agents in containers), by result."),
  refusedCalls: own("gopsd_refused_calls_total", "counter", "gRPC calls refused, by status (RESOURCE_EXHAUSTED: a limit was hit)."),
  refusedScrapes: own("gopsd_metrics_refused_requests_total", "counter", "Requests to the metrics port refused, by reason."),
} as const;

interface Sample {
  at: number;
  durationMs: number;
  processes: ProcessSeries[];
  counts: Map<string, number>;
}

export class MetricsExporter {
  private readonly exposition = new Exposition(Object.values(OWN));
  private readonly now: () => number;
  private latest: Sample | undefined;
  private life: AbortController | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private firstWaiters: Array<() => void> = [];
  private scrapes = 0;
  private lastScrapeMs: number | undefined;

  constructor(private readonly o: ExporterOptions) {
    this.now = o.now ?? (() => performance.now());
  }

  /** Starts sampling (also done by a scrape). */
  start(): void {
    this.touch();
    if (this.life !== undefined) return;
    const life = new AbortController();
    this.life = life;
    void this.run(life.signal);
  }

  /** Stops sampling for good (gopsd is closing). */
  close(): void {
    clearTimeout(this.idleTimer);
    this.stopSampling();
  }

  /** The body of one scrape: the latest sample rendered, OpenMetrics when `accept` asks for it. */
  async scrape(accept: string | undefined): Promise<{ contentType: string; body: string }> {
    const started = this.now();
    this.start();
    if (this.latest === undefined) await this.firstSample();
    this.scrapes++;
    const snapshot: Snapshot = { processes: this.latest?.processes ?? [], own: this.ownSeries() };
    const out = await this.exposition.render(snapshot, wantsOpenMetrics(accept));
    this.lastScrapeMs = this.now() - started;
    return out;
  }

  private async run(signal: AbortSignal): Promise<void> {
    try {
      for await (const round of this.o.source.watchEntries({ intervalMs: this.o.intervalMs, signal })) {
        this.latest = this.sampleOf(round);
        for (const wake of this.firstWaiters.splice(0)) wake();
      }
    } catch {
      // The hub's watch ends quietly on abort; nothing else is expected. The next scrape starts it again.
    } finally {
      if (this.life?.signal === signal) this.life = undefined;
    }
  }

  private stopSampling(): void {
    this.life?.abort();
    this.life = undefined;
    this.latest = undefined;
    for (const wake of this.firstWaiters.splice(0)) wake();
  }

  private touch(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.stopSampling(), Math.max(IDLE_MS, MAX_AGE_INTERVALS * this.o.intervalMs));
    this.idleTimer.unref();
  }

  private firstSample(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, FIRST_SAMPLE_WAIT_MS);
      const wake = () => (clearTimeout(timer), resolve());
      function done() {
        resolve();
      }
      this.firstWaiters.push(wake);
    });
  }

  /** The series of one round: processes by pid, at most maxProcesses of them, the rest counted. */
  private sampleOf(round: RoundEntries): Sample {
    const entries = [...round.entries].sort((a, b) => a.proc.pid - b.proc.pid);
    const counts = new Map<string, number>([
      ["fresh", 0],
      ["stale", 0],
      ["no_runtime", 0],
      ["over_limit", Math.max(0, entries.length - this.o.maxProcesses)],
    ]);
    const processes: ProcessSeries[] = [];
    const opts = { clockTicks: this.o.fs.clockTicks, nowMs: round.at, maxAgeMs: MAX_AGE_INTERVALS * this.o.intervalMs };
    for (const e of entries.slice(0, this.o.maxProcesses)) {
      const s = processSeries(e, this.fdCounts(e), opts);
      const state = s.runtime === "none" ? "no_runtime" : s.runtime;
      counts.set(state, counts.get(state)! + 1);
      processes.push(s);
    }
    return { at: round.at, durationMs: round.durationMs, processes, counts };
  }

  private fdCounts(e: ProcessEntry): FdCounts {
    const pid = e.proc.pid;
    let open: number | undefined;
    let max: number | undefined;
    try {
      open = this.o.fs.countFds(pid);
    } catch {
      // gone, or not ours to read: left out
    }
    try {
      max = parseMaxOpenFiles(this.o.fs.readLimits(pid));
    } catch {
      // idem
    }
    return { ...(open !== undefined ? { open } : {}), ...(max !== undefined ? { max } : {}) };
  }

  private ownSeries(): Map<string, OwnSample[]> {
    const m = new Map<string, OwnSample[]>();
    const hub = this.o.source.state();
    const ext = this.o.counters?.() ?? {};
    const byLabel = (label: string, counts: ReadonlyMap<string, number> | undefined) =>
      [...(counts ?? [])].sort(([a], [b]) => a.localeCompare(b)).map(([k, value]) => ({ labels: { [label]: k }, value }));
    m.set(OWN.scrapes.name, [{ value: this.scrapes }]);
    if (this.lastScrapeMs !== undefined) m.set(OWN.scrapeDuration.name, [{ value: this.lastScrapeMs / 1000 }]);
    m.set(OWN.interval.name, [{ value: this.o.intervalMs / 1000 }]);
    if (this.latest !== undefined) {
      m.set(OWN.sampleAge.name, [{ value: Math.max(0, this.now() - this.latest.at) / 1000 }]);
      m.set(OWN.sampleDuration.name, [{ value: this.latest.durationMs / 1000 }]);
      m.set(OWN.processes.name, byLabel("state", this.latest.counts));
    }
    m.set(OWN.agentReads.name, [{ value: hub.agentReads }]);
    m.set(OWN.agentErrors.name, byLabel("reason", hub.readFailures));
    if (ext.namespaceDials) {
      m.set(OWN.namespaceDials.name, [
        { labels: { result: "opened" }, value: ext.namespaceDials.opened },
        { labels: { result: "failed" }, value: ext.namespaceDials.failed },
      ]);
    }
    m.set(OWN.refusedCalls.name, byLabel("code", ext.refusedCalls));
    m.set(OWN.refusedScrapes.name, byLabel("reason", ext.refusedScrapes));
    return m;
  }
}

/** The soft "Max open files" limit of /proc/PID/limits; undefined when unlimited or absent. */
export function parseMaxOpenFiles(limits: string): number | undefined {
  const m = /^Max open files\s+(\S+)/m.exec(limits);
  if (!m || !/^\d+$/.test(m[1]!)) return undefined;
  return Number(m[1]);
}
