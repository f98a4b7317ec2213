import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fakeProfile } from "./fake-profile.testkit.js";
import { flameTree } from "./flame-graph.js";
import { diffProfiles } from "./profile-diff.js";
import { topFunctions } from "./top-functions.js";

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
