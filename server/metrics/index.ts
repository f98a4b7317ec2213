// gopsd as a Prometheus exporter: the series Prometheus' Go client exports, for every Go program gopsd reaches
// (go-series.ts), from the host's shared sampler (exporter.ts), rendered by prom-client (exposition.ts) on the
// metrics port (http-server.ts).
export { FIRST_SAMPLE_WAIT_MS, IDLE_MS, MetricsExporter, OWN, parseMaxOpenFiles, type EntrySource, type ExporterOptions, type ExternalCounters } from "./exporter.js";
export { Exposition, OPENMETRICS_CONTENT_TYPE, PROMETHEUS_CONTENT_TYPE, wantsOpenMetrics, type OwnSample, type Snapshot } from "./exposition.js";
export { pauseQuantiles, processLabels, processSeries, PROCESS_SERIES_FAMILIES, type FdCounts, type ProcessSeries } from "./go-series.js";
export { startMetricsServer, type MetricsServerOptions, type RunningMetricsServer } from "./http-server.js";
