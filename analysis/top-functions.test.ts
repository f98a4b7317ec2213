import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isGopsError } from "../common/errors.js";
import { fakeProfile } from "./fake-profile.testkit.js";
import { resolveSampleIndex, sampleTypes } from "./profile.js";
import { formatTop, topFunctions } from "./top-functions.js";

const CPU: [string, string][] = [
  ["samples", "count"],
  ["cpu", "nanoseconds"],
];
const HEAP: [string, string][] = [
  ["alloc_objects", "count"],
  ["alloc_space", "bytes"],
  ["inuse_objects", "count"],
  ["inuse_space", "bytes"],
];
const ms = 1_000_000;

function byName(rows: { name: string; flat: number; cum: number }[]) {
  return Object.fromEntries(rows.map((r) => [r.name, { flat: r.flat, cum: r.cum }]));
}

describe("topFunctions", () => {
  it("counts flat at the leaf and cum once per sample anywhere on the stack", () => {
    const profile = fakeProfile({
      sampleTypes: CPU,
      samples: [
        { stack: ["a", "b", "main"], values: [1, 10 * ms] },
        { stack: ["b", "main"], values: [1, 5 * ms] },
        { stack: ["c", "main"], values: [1, 5 * ms] },
        { stack: ["f", "f", "f", "main"], values: [1, 7 * ms] },
      ],
    });
    const top = topFunctions(profile, { nodeFraction: 0 });
    assert.equal(top.sampleType, "cpu");
    assert.equal(top.unit, "nanoseconds");
    assert.equal(top.total, 27 * ms);
    assert.deepEqual(
      top.rows.map((r) => r.name),
      ["a", "f", "b", "c", "main"],
      "flat descending, ties by name",
    );
    assert.deepEqual(byName(top.rows), {
      a: { flat: 10 * ms, cum: 10 * ms },
      b: { flat: 5 * ms, cum: 15 * ms },
      c: { flat: 5 * ms, cum: 5 * ms },
      f: { flat: 7 * ms, cum: 7 * ms },
      main: { flat: 0, cum: 27 * ms },
    });
    assert.ok(Math.abs(top.rows[1]!.sumPercent - (17 / 27) * 100) < 1e-9);
    assert.ok(Math.abs(top.rows[4]!.cumPercent - 100) < 1e-9);
  });

  it("treats inlined frames as functions of their own and marks them inline", () => {
    const profile = fakeProfile({
      sampleTypes: CPU,
      samples: [
        { stack: [["inl", "outer"], "main"], values: [1, 30] },
        { stack: [["both", "outer"], "main"], values: [1, 20] },
        { stack: ["both", "main"], values: [1, 10] },
      ],
    });
    const top = topFunctions(profile, { nodeFraction: 0 });
    assert.deepEqual(byName(top.rows), {
      inl: { flat: 30, cum: 30 },
      both: { flat: 30, cum: 30 },
      outer: { flat: 0, cum: 50 },
      main: { flat: 0, cum: 60 },
    });
    const inline = Object.fromEntries(top.rows.map((r) => [r.name, r.inline]));
    assert.deepEqual(inline, { inl: "inline", both: "partial-inline", outer: "", main: "" });
  });

  it("labels inlining as pprof -top does: from calls between the functions shown, light calls left out", () => {
    const profile = fakeProfile({
      sampleTypes: CPU,
      samples: [
        { stack: ["hot", "main"], values: [1, 90_000] },
        { stack: [["marked", "scan"], "gc"], values: [1, 9_950] },
        { stack: [["tiny", "scan"], "gc"], values: [1, 50] },
      ],
    });
    const inlineOf = (limit?: number) =>
      Object.fromEntries(topFunctions(profile, { nodeFraction: 0, ...(limit !== undefined ? { limit } : {}) }).rows.map((r) => [r.name, r.inline]));
    // All shown: scan calls marked inlined; its call of tiny (0.05% of the total) is under pprof's 0.1% edge cutoff.
    assert.deepEqual(inlineOf(), { hot: "", marked: "inline", gc: "", main: "", scan: "", tiny: "" });
    // Two rows, hot and marked: marked has no caller among them, so no label (go tool pprof -nodecount=2 agrees).
    assert.deepEqual(inlineOf(2), { hot: "", marked: "" });
  });

  it("chooses the sample index by default, by name (with or without inuse_) and by number", () => {
    const heap = fakeProfile({ sampleTypes: HEAP, samples: [{ stack: ["x", "main"], values: [1, 2, 3, 4] }] });
    assert.deepEqual(sampleTypes(heap)[3], { type: "inuse_space", unit: "bytes" });
    assert.equal(resolveSampleIndex(heap), 3);
    assert.equal(topFunctions(heap).sampleType, "inuse_space");
    for (const [name, index] of [["alloc_objects", 0], ["alloc_space", 1], ["inuse_objects", 2], ["inuse_space", 3]] as const) {
      const top = topFunctions(heap, { sampleIndex: name });
      assert.equal(top.sampleType, name);
      assert.equal(top.rows[0]!.flat, index + 1);
      assert.equal(resolveSampleIndex(heap, String(index)), index);
      assert.equal(resolveSampleIndex(heap, index), index);
    }
    const legacy = fakeProfile({ sampleTypes: [["objects", "count"], ["space", "bytes"]], samples: [] });
    assert.equal(resolveSampleIndex(legacy, "inuse_space"), 1);
    const cpu = fakeProfile({ sampleTypes: CPU, samples: [] });
    assert.equal(resolveSampleIndex(cpu), 1);
    assert.equal(resolveSampleIndex(cpu, "samples"), 0);
    const withDefault = fakeProfile({ sampleTypes: HEAP, samples: [], defaultSampleType: "alloc_space" });
    assert.equal(resolveSampleIndex(withDefault), 1);

    for (const bad of ["bogus", 4, "7", -1]) {
      assert.throws(
        () => resolveSampleIndex(heap, bad),
        (e: unknown) => isGopsError(e) && /sample index/.test((e as Error).message),
      );
    }
    assert.throws(() => resolveSampleIndex(heap, "bogus"), /must be one of: alloc_objects, alloc_space, inuse_objects, inuse_space/);
  });

  it("drops functions with cum below the node fraction (pprof keeps cum == cutoff) and honours the limit", () => {
    const profile = fakeProfile({
      sampleTypes: CPU,
      samples: [
        { stack: ["big", "main"], values: [1, 991] },
        { stack: ["edge", "main"], values: [1, 5] },
        { stack: ["tiny", "main"], values: [1, 4] },
        { stack: ["zero", "main"], values: [0, 0] },
      ],
    });
    const top = topFunctions(profile);
    assert.equal(top.cutoff, 5);
    assert.deepEqual(top.rows.map((r) => r.name), ["big", "edge", "main"]);
    assert.equal(top.dropped, 1, "tiny: cum 4 < 5; edge: cum 5 is kept, as go tool pprof keeps it");
    assert.equal(top.nodeCount, 3);
    assert.match(formatTop(top), /Dropped 1 node \(cum <= 5ns\)/);
    const limited = topFunctions(profile, { limit: 1, nodeFraction: 0 });
    assert.deepEqual(limited.rows.map((r) => r.name), ["big"]);
    assert.equal(limited.nodeCount, 4);
    assert.throws(() => topFunctions(profile, { limit: 0 }), /positive integer/);
  });

  it("takes the cutoff from the functions' flat values: a sample without locations counts in the total only", () => {
    const profile = fakeProfile({
      sampleTypes: CPU,
      samples: [
        { stack: [], values: [1, 600] },
        { stack: ["main.hot", "main.main"], values: [1, 396] },
        { stack: ["main.small", "main.main"], values: [1, 3] },
        { stack: ["main.tiny", "main.main"], values: [1, 1] },
      ],
    });
    // As `go tool pprof -top` (Go 1.19) prints it: nodes are dropped below 0.5% of their flat sum (400: cutoff 2, so
    // main.small stays), the "Dropped" line names 0.5% of the total (1000, the location-less sample included).
    const top = topFunctions(profile);
    assert.equal(top.total, 1000);
    assert.equal(top.cutoff, 2);
    assert.deepEqual(top.rows.map((r) => r.name), ["main.hot", "main.small", "main.main"]);
    assert.equal(top.dropped, 1);
    assert.match(formatTop(top), /^Showing nodes accounting for 399ns, 39.90% of 1000ns total\nDropped 1 node \(cum <= 5ns\)$/m);
  });

  it("renders the pprof -top table", () => {
    const profile = fakeProfile({
      sampleTypes: CPU,
      durationNanos: 2_000_000_000,
      samples: [
        { stack: ["main.hot", "main.main"], values: [197, 1_970_000_000] },
        { stack: ["runtime.memclr", "main.alloc", "main.main"], values: [2, 20_000_000] },
        { stack: ["x.rare", "main.main"], values: [1, 10_000_000] },
      ],
    });
    assert.equal(
      formatTop(topFunctions(profile, { limit: 2 })),
      [
        "Type: cpu",
        // The smallest shown value (20ms) is not 100 times below the total, so everything is in ms.
        // Checked against `go tool pprof -top -nodecount=2` on this profile: x.rare (cum 10ms = the cutoff) is kept.
        "Duration: 2s, Total samples = 2000ms (  100%)",
        "Showing nodes accounting for 1990ms, 99.50% of 2000ms total",
        "Showing top 2 nodes out of 5",
        "      flat  flat%   sum%        cum   cum%",
        "    1970ms 98.50% 98.50%     1970ms 98.50%  main.hot",
        "      20ms  1.00% 99.50%       20ms  1.00%  runtime.memclr",
        "",
      ].join("\n"),
    );
  });
});
