import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AgentKind, type ProcessStats } from "../../proto/index.js";
import { RuleEvaluator } from "./evaluate.js";
import { parseRule, ruleFromConfig } from "./rules.js";

function proc(pid: number, over: Partial<ProcessStats> = {}): ProcessStats {
  return {
    pid,
    name: "svc",
    modulePath: "example.com/svc",
    backend: AgentKind.AGENT_KIND_GOPS_AGENT,
    cpuPercent: 1,
    rssBytes: 50 << 20,
    threads: 8,
    goroutines: 10,
    heapInUseBytes: 4 << 20,
    heapObjects: 1000,
    gcCycles: 0,
    gcPauseNs: 0,
    numGc: 3,
    gcPauseTotalNs: 100,
    gcCpuFraction: 0.01,
    gogc: 100,
    gogcSource: "env",
    gomaxprocs: 2,
    startTimeUnixMs: 1000 + pid,
    unknownFields: [],
    staleFields: [],
    detail: "",
    ...over,
  };
}

describe("parseRule", () => {
  it("reads the three conditions, units, selectors and what to capture", () => {
    const r = parseRule("goroutines>300");
    assert.deepEqual([r.name, r.metric, r.condition, r.extras], ["goroutines>300", "goroutines", { kind: "above", value: 300 }, ["heap"]]);
    assert.deepEqual(parseRule("heap>512MiB").condition, { kind: "above", value: 512 << 20 });
    assert.deepEqual(parseRule("rss>2G").condition, { kind: "above", value: 2 * 1024 ** 3 });
    assert.deepEqual(parseRule("gc-pause>50ms").condition, { kind: "above", value: 50e6 });
    assert.deepEqual(parseRule("gc-cpu>25%").condition, { kind: "above", value: 0.25 });
    assert.deepEqual(parseRule("cpu>90.5").condition, { kind: "above", value: 90.5 });
    assert.deepEqual(parseRule("goroutines>150%avg warmup=3 window=10 min=100").condition, { kind: "aboveAverage", percent: 150, warmup: 3, window: 10, min: 100 });
    const o = parseRule("heap>outlier name=fat module=example.com/* pod=prod/api-* capture=cpu,trace");
    assert.deepEqual([o.name, o.condition, o.selectors, o.extras], ["fat", { kind: "outlier" }, { module: "example.com/*", pod: "prod/api-*" }, ["cpu", "trace"]]);
    assert.deepEqual(parseRule("threads>200 capture=none").extras, []);
    assert.deepEqual(ruleFromConfig({ when: "goroutines>300", name: "leak", capture: ["heap", "cpu"] }), parseRule("goroutines>300 name=leak capture=heap,cpu"));
  });

  it("refuses what it cannot mean, with the reason", () => {
    const cases: [string, RegExp][] = [
      ["goroutines<300", /want METRIC>VALUE/],
      ["fds>10", /unknown metric "fds"/],
      ["heap>lots", /"lots" is not a size/],
      ["goroutines>3.5", /a whole number/],
      ["gc-cpu>2", /a fraction from 0 to 1/],
      ["rss>outlier", /outlier applies to goroutines, heap, gc-pause only/],
      ["goroutines>90%avg", /want more than 100%/],
      ["goroutines>300 warmup=3", /warmup= applies to N%avg conditions only/],
      ["goroutines>300 capture=core", /capture=core: use a comma list of heap, cpu, trace, or none/],
      ["goroutines>300 exe=svc", /want an absolute path/],
      ["goroutines>300 colour=red", /unknown key "colour"/],
      ["goroutines>300 name=a/b", /name "a\/b"/],
    ];
    for (const [text, re] of cases) assert.throws(() => parseRule(text), re, text);
  });
});

describe("RuleEvaluator", () => {
  it("above a value: fires on every fresh sample above it, never on a stale or unknown value", () => {
    const ev = new RuleEvaluator([parseRule("goroutines>300")]);
    assert.deepEqual(ev.evaluate({ processes: [proc(1, { goroutines: 300 }), proc(2)] }), []);
    const f = ev.evaluate({ processes: [proc(1, { goroutines: 412 }), proc(2)] });
    assert.deepEqual(f.map((x) => [x.sample.pid, x.reason]), [[1, "goroutines 412 > 300"]]);
    assert.deepEqual(ev.evaluate({ processes: [proc(1, { goroutines: 412, staleFields: ["goroutines"] })] }), []);
    assert.deepEqual(ev.evaluate({ processes: [proc(1, { goroutines: 412, unknownFields: ["goroutines"] })] }), []);
  });

  it("above N% of its moving average: only after the warm-up, and per process", () => {
    const ev = new RuleEvaluator([parseRule("goroutines>150%avg warmup=3 window=4")]);
    const at = (a: number, b: number) => ev.evaluate({ processes: [proc(1, { goroutines: a }), proc(2, { goroutines: b })] }).map((f) => f.sample.pid);
    assert.deepEqual(at(100, 10), []);
    assert.deepEqual(at(100, 10), []);
    assert.deepEqual(at(400, 10), [], "still warming up (2 samples)");
    assert.deepEqual(at(100, 10), []);
    assert.deepEqual(at(300, 10), [1], "300 > 1.5 × avg(100,400,100 ... 175)");
    assert.deepEqual(at(100, 100), [2]);
  });

  it("an outlier among the processes of its module, by top's rule; the neighbours never", () => {
    const ev = new RuleEvaluator([parseRule("goroutines>outlier")]);
    const f = ev.evaluate({ processes: [proc(1, { goroutines: 12 }), proc(2, { goroutines: 11 }), proc(3, { goroutines: 13 }), proc(4, { goroutines: 900 }), proc(5, { goroutines: 900, modulePath: "other" })] });
    assert.deepEqual(f.map((x) => x.sample.pid), [4]);
    assert.match(f[0]!.reason, /^goroutines 900 is an outlier among 4 processes of example\.com\/svc \(median 12\.5\)$/);
  });

  it("selectors: module by the sample; exe, container and pod by the identity the engine supplies", () => {
    const ev = new RuleEvaluator([parseRule("goroutines>5 module=example.com/* container=api pod=prod/web-*")]);
    assert.equal(ev.needsIdentity(), true);
    const identity = (pid: number) => ({ exe: "/bin/svc", container: { name: pid === 1 ? "api" : "db", id: "c1" }, pod: { name: "web-1", namespace: "prod" } });
    const f = ev.evaluate({ processes: [proc(1), proc(2), proc(3, { modulePath: "other.org/x" })] }, (p) => identity(p.pid));
    assert.deepEqual(f.map((x) => x.sample.pid), [1]);
    assert.deepEqual(ev.evaluate({ processes: [proc(1)] }, () => undefined), [], "unknown identity: not selected");
  });
});

describe("selectorMatches", () => {
  it("exact, or a glob with * anywhere; regexp characters are literal", async () => {
    const { selectorMatches } = await import("./rules.js");
    assert.equal(selectorMatches(undefined, "x"), true);
    assert.equal(selectorMatches("api", "api"), true);
    assert.equal(selectorMatches("api", "api-1"), false);
    assert.equal(selectorMatches("example.com/*", "example.com/api"), true);
    assert.equal(selectorMatches("/tmp/*/capture-*", "/tmp/x1/capture-leaker"), true);
    assert.equal(selectorMatches("/tmp/*/capture-*", "/tmp/x1/other"), false);
    assert.equal(selectorMatches("a.c", "abc"), false);
    assert.equal(selectorMatches("prod/*", "", "prod/web-1"), true);
  });
});
