import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fakeProfile } from "./fake-profile.testkit.js";
import { flameTree } from "./flame-graph.js";
import { diffProfiles } from "./profile-diff.js";
import { formatTop, topFunctions } from "./top-functions.js";

const HEAP: [string, string][] = [
  ["alloc_objects", "count"],
  ["alloc_space", "bytes"],
  ["inuse_objects", "count"],
  ["inuse_space", "bytes"],
];
const heap = (samples: { stack: string[]; values: number[] }[]) =>
  fakeProfile({ sampleTypes: HEAP, samples, periodType: ["space", "bytes"], defaultSampleType: "inuse_space" });

const BASE = heap([
  { stack: ["main.leak", "main.main"], values: [1, 100, 1, 100] },
  { stack: ["main.cache", "main.main"], values: [1, 400, 1, 400] },
  { stack: ["main.steady", "main.main"], values: [1, 500, 1, 500] },
]);
const NEW = heap([
  { stack: ["main.leak", "main.main"], values: [9, 900, 9, 900] },
  { stack: ["main.cache", "main.main"], values: [1, 100, 1, 100] },
  { stack: ["main.steady", "main.main"], values: [1, 500, 1, 500] },
]);

describe("diffProfiles", () => {
  it("ranks growth and shrinkage by size with their signs, percentages of the base's total", () => {
    const top = topFunctions(diffProfiles(BASE, NEW));
    assert.equal(top.sampleType, "inuse_space");
    assert.equal(top.total, 1000, "pprof takes the base's total in a diff");
    assert.deepEqual(
      top.rows.map((r) => [r.name, r.flat, r.cum]),
      [
        ["main.leak", 800, 800],
        ["main.cache", -300, -300],
        ["main.main", 0, 500],
      ],
    );
    assert.equal(top.rows[0]!.flatPercent, 80);
  });

  it("drops by a fraction of the net change but prints the cutoff as a fraction of the base's total, as pprof does", () => {
    const v = (n: number) => [n, n, n, n];
    const base = heap([
      { stack: ["main.steady", "main.main"], values: v(700) },
      { stack: ["main.leak", "main.main"], values: v(100) },
      { stack: ["main.cache", "main.main"], values: v(200) },
    ]);
    const next = heap([
      { stack: ["main.steady", "main.main"], values: v(700) },
      { stack: ["main.leak", "main.main"], values: v(700) },
      { stack: ["main.cache", "main.main"], values: v(100) },
      { stack: ["main.small", "main.main"], values: v(3) },
      { stack: ["main.tiny", "main.main"], values: v(1) },
    ]);
    // `go tool pprof -diff_base base -top new` (Go 1.19) on these two profiles prints exactly this: the net change
    // (+504) gives the cutoff nodes are dropped by (2: main.small, cum 3, stays; main.tiny, cum 1, goes) and the
    // base's total (1000) the one its "Dropped" line names (5).
    assert.deepEqual(formatTop(topFunctions(diffProfiles(base, next))).split("\n"), [
      "Type: inuse_space",
      "Showing nodes accounting for 503B, 50.30% of 1000B total",
      "Dropped 1 node (cum <= 5B)",
      "      flat  flat%   sum%        cum   cum%",
      "      600B 60.00% 60.00%       600B 60.00%  main.leak",
      "     -100B 10.00% 50.00%      -100B 10.00%  main.cache",
      "        3B   0.3% 50.30%         3B   0.3%  main.small",
      "         0     0% 50.30%       504B 50.40%  main.main",
      "",
    ]);
  });

  it("refuses profiles of different kinds or sample types", () => {
    const cpu = fakeProfile({ sampleTypes: [["samples", "count"], ["cpu", "nanoseconds"]], samples: [], periodType: ["cpu", "nanoseconds"] });
    assert.throws(() => diffProfiles(BASE, cpu), { message: "cannot diff profiles of different kinds: the base is space/bytes, the new one cpu/nanoseconds" });
    const inuseOnly = fakeProfile({ sampleTypes: HEAP.slice(2), samples: [], periodType: ["space", "bytes"] });
    assert.throws(() => diffProfiles(BASE, inuseOnly), { message: /^cannot diff profiles with different sample types: the base has \[alloc_objects\/count, .*\], the new one \[inuse_objects\/count, inuse_space\/bytes\]$/ });
  });

  it("a flame graph of the diff: width by the size of the change, delta by its sign, unchanged stacks left out", () => {
    const tree = flameTree(diffProfiles(BASE, NEW), { diff: true });
    const frames: [string, number, number][] = [];
    for (let i = 0; i < tree.nodes.length; i += 4) frames.push([tree.names[tree.nodes[i]!]!, tree.nodes[i + 2]!, tree.deltas![i / 4]!]);
    assert.deepEqual(frames, [
      ["root", 1100, 500],
      ["main.main", 1100, 500],
      ["main.leak", 800, 800],
      ["main.cache", 300, -300],
    ]);
    assert.equal(flameTree(NEW).deltas, undefined, "no deltas outside diff mode");
  });
});
