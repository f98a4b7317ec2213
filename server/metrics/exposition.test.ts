import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Exposition, OPENMETRICS_CONTENT_TYPE, PROMETHEUS_CONTENT_TYPE, wantsOpenMetrics, type Snapshot } from "./exposition.js";
import type { ProcessSeries } from "./go-series.js";

const proc = (pid: number, exe: string): ProcessSeries => ({
  labels: { pid: String(pid), exe, module: "example.com/m" },
  goVersion: "go1.22.1",
  values: new Map([
    ["go_goroutines", 12],
    ["go_info", 1],
    ["go_memstats_alloc_bytes", 100],
    ["go_memstats_alloc_bytes_total", 5000],
    ["process_cpu_seconds_total", 1.5],
  ]),
  gcDuration: {
    count: 4,
    sum: 0.002,
    quantiles: [
      [0, 0.0001],
      [1, 0.001],
    ],
  },
  runtime: "fresh",
});

const OWN = [{ name: "gopsd_metrics_scrapes_total", type: "counter" as const, help: "Scrapes." }];
const snapshot: Snapshot = {
  processes: [proc(10, "/srv/a"), proc(11, 'C:\\odd "name"\nx')],
  own: new Map([["gopsd_metrics_scrapes_total", [{ value: 3 }]]]),
};

describe("Exposition", () => {
  it("writes the Prometheus text format: HELP/TYPE once per family, one line per process, escaped labels", async () => {
    const x = new Exposition(OWN);
    const { contentType, body } = await x.render(snapshot, false);
    assert.equal(contentType, PROMETHEUS_CONTENT_TYPE);
    assert.equal(body.match(/^# TYPE go_goroutines gauge$/gm)?.length, 1);
    assert.match(body, /^go_goroutines\{pid="10",exe="\/srv\/a",module="example.com\/m"\} 12$/m);
    assert.match(body, /^go_goroutines\{pid="11",exe="C:\\\\odd \\"name\\"\\nx",module="example.com\/m"\} 12$/m);
    assert.match(body, /^go_info\{version="go1.22.1",pid="10",exe="\/srv\/a",module="example.com\/m"\} 1$/m);
    assert.match(body, /^# TYPE go_memstats_alloc_bytes_total counter$/m);
    assert.match(body, /^go_memstats_alloc_bytes_total\{pid="10",[^}]*\} 5000$/m);
    assert.match(body, /^# TYPE go_gc_duration_seconds summary$/m);
    assert.match(body, /^go_gc_duration_seconds\{quantile="0",pid="10",exe="\/srv\/a",module="example.com\/m"\} 0.0001$/m);
    assert.match(body, /^go_gc_duration_seconds_sum\{pid="10",[^}]*\} 0.002$/m);
    assert.match(body, /^go_gc_duration_seconds_count\{pid="10",[^}]*\} 4$/m);
    assert.match(body, /^gopsd_metrics_scrapes_total 3$/m);
    // A family without values this time (go_threads) has no sample line.
    assert.doesNotMatch(body, /^go_threads\{/m);
  });

  it("writes OpenMetrics: counter families without _total, samples with it, # EOF; the text format stays right after it", async () => {
    const x = new Exposition(OWN);
    const om = await x.render(snapshot, true);
    assert.equal(om.contentType, OPENMETRICS_CONTENT_TYPE);
    assert.match(om.body, /^# TYPE go_memstats_alloc_bytes counter$/m);
    assert.match(om.body, /^go_memstats_alloc_bytes_total\{pid="10",[^}]*\} 5000$/m);
    assert.match(om.body, /^# TYPE gopsd_metrics_scrapes counter$/m);
    assert.match(om.body, /^gopsd_metrics_scrapes_total 3$/m);
    assert.ok(om.body.endsWith("# EOF\n"));
    assert.doesNotMatch(om.body, /_total_total/);
    // prom-client renames the OpenMetrics registry's counters in place: the other registry must not see it.
    const text = await x.render(snapshot, false);
    assert.match(text.body, /^# TYPE go_memstats_alloc_bytes_total counter$/m);
    assert.match(text.body, /^gopsd_metrics_scrapes_total 3$/m);
    const again = await x.render(snapshot, true);
    assert.equal(again.body, om.body);
  });

  it("renders each scrape's own snapshot (no values left over from the previous one)", async () => {
    const x = new Exposition(OWN);
    await x.render(snapshot, false);
    const { body } = await x.render({ processes: [proc(12, "/srv/c")], own: new Map() }, false);
    assert.doesNotMatch(body, /pid="10"/);
    assert.match(body, /pid="12"/);
    assert.doesNotMatch(body, /^gopsd_metrics_scrapes_total/m);
  });
});

describe("wantsOpenMetrics", () => {
  it("follows the Accept header's preference", () => {
    // What Prometheus 2.x sends.
    assert.equal(wantsOpenMetrics("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"), true);
    assert.equal(wantsOpenMetrics("text/plain;version=0.0.4;q=1,application/openmetrics-text;version=1.0.0;q=0.5"), false);
    assert.equal(wantsOpenMetrics("application/openmetrics-text; version=1.0.0; q=0"), false);
    assert.equal(wantsOpenMetrics("*/*"), false);
    assert.equal(wantsOpenMetrics(undefined), false);
  });
});
