// The exposition of a snapshot in the Prometheus text format (0.0.4) or OpenMetrics 1.0, through prom-client's
// Registry: each family is a custom metric whose get() lists the snapshot's values, and the registry writes HELP,
// TYPE, label escaping, number formatting and, for OpenMetrics, the counter `_total` handling and `# EOF`.
// prom-client's own Gauge/Counter keep a value per label set that a collect() would have to set and reset each scrape
// (a hash of every label set, per series, per scrape); the values are already in the snapshot, so get() hands them
// over as they are, each process's labels as prom-client's `sharedLabels`: the registry formats and escapes one such
// object once and reuses the text (cached by identity) for every series of the process, scrape after scrape. Two registries (one per format), each with its own metric objects: in OpenMetrics mode the
// registry renames a counter's metric object (drops `_total`) before it asks for its values.
import { Registry, type Metric, type OpenMetricsContentType, type RegistryContentType } from "prom-client";
import type { Family, Labels, ProcessSeries } from "./go-series.js";
import { GO_GC_DURATION, GO_INFO, PROCESS_SERIES_FAMILIES } from "./go-series.js";

export const PROMETHEUS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;
export const OPENMETRICS_CONTENT_TYPE = Registry.OPENMETRICS_CONTENT_TYPE;

/** One sample of gopsd's own series. */
export interface OwnSample {
  readonly labels?: Labels;
  readonly value: number;
}

export interface Snapshot {
  readonly processes: readonly ProcessSeries[];
  /** gopsd's own series by family name (a family without samples is left out). */
  readonly own: ReadonlyMap<string, readonly OwnSample[]>;
}

interface Value {
  value: number;
  labels: Record<string, string | number>;
  /** The process's labels: the registry formats each such object once and keeps the text (a WeakMap by identity). */
  sharedLabels?: Labels;
  metricName?: string;
}

const NO_LABELS = Object.freeze({}) as Record<string, string>;

const EMPTY: Snapshot = { processes: [], own: new Map() };

/** Renders snapshots; `ownFamilies` are gopsd's own series, after the per-process ones. */
export class Exposition {
  private current: Snapshot = EMPTY;
  private readonly prometheus = new Registry();
  private readonly openMetrics = new Registry<OpenMetricsContentType>();

  constructor(ownFamilies: readonly Family[]) {
    this.openMetrics.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    for (const registry of [this.prometheus, this.openMetrics] as Array<Registry<RegistryContentType>>) {
      for (const f of PROCESS_SERIES_FAMILIES) registry.registerMetric(this.metric(f, (s) => processValues(f, s)));
      for (const f of ownFamilies) registry.registerMetric(this.metric(f, (s) => (s.own.get(f.name) ?? []).map((o) => ({ value: o.value, labels: { ...o.labels } }))));
    }
  }

  async render(snapshot: Snapshot, openMetrics: boolean): Promise<{ contentType: string; body: string }> {
    const registry: Registry<RegistryContentType> = openMetrics ? this.openMetrics : this.prometheus;
    // Every metric's get() runs synchronously inside metrics() (before its first await): all see this snapshot.
    this.current = snapshot;
    const body = registry.metrics();
    this.current = EMPTY;
    return { contentType: registry.contentType, body: await body };
  }

  /** A metric object of the shape prom-client's registry reads (name, help, type, get). */
  private metric(f: Family, values: (s: Snapshot) => Value[]): Metric {
    const self = this;
    const m = {
      name: f.name,
      help: f.help,
      type: f.type,
      aggregator: "sum",
      // `this.name`: in OpenMetrics mode the registry has dropped a counter's `_total` from it.
      get() {
        return { name: m.name, help: f.help, type: f.type, aggregator: "sum", values: values(self.current) };
      },
      reset() {},
    };
    return m as unknown as Metric;
  }
}

function processValues(f: Family, s: Snapshot): Value[] {
  const out: Value[] = [];
  if (f === GO_GC_DURATION) {
    for (const p of s.processes) {
      const gc = p.gcDuration;
      if (gc === undefined) continue;
      for (const [q, v] of gc.quantiles ?? []) out.push({ value: v, labels: { quantile: q }, sharedLabels: p.labels });
      out.push({ metricName: `${f.name}_sum`, value: gc.sum, labels: NO_LABELS, sharedLabels: p.labels });
      out.push({ metricName: `${f.name}_count`, value: gc.count, labels: NO_LABELS, sharedLabels: p.labels });
    }
    return out;
  }
  for (const p of s.processes) {
    const v = p.values.get(f.name);
    if (v === undefined) continue;
    out.push({ value: v, labels: f === GO_INFO ? { version: p.goVersion } : NO_LABELS, sharedLabels: p.labels });
  }
  return out;
}

/**
 * Whether an Accept header asks for OpenMetrics: application/openmetrics-text with a q above 0 and not below
 * that of text/plain (Prometheus sends OpenMetrics first; curl's * / * gets the classic format).
 */
export function wantsOpenMetrics(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  let om = 0;
  let text = 0;
  for (const part of accept.split(",")) {
    const [type = "", ...params] = part.split(";").map((x) => x.trim().toLowerCase());
    const qParam = params.find((p) => p.startsWith("q="));
    const q = qParam === undefined ? 1 : Number(qParam.slice(2));
    if (!Number.isFinite(q)) continue;
    if (type === "application/openmetrics-text") om = Math.max(om, q);
    else if (type === "text/plain") text = Math.max(text, q);
  }
  return om > 0 && om >= text;
}
