import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isGopsError } from "../common/errors.js";
import { fakeProfile } from "./fake-profile.testkit.js";
import { mergeProfiles } from "./merge-profiles.js";
import { decodeProfile, encodeProfile, sampleTypes } from "./profile.js";
import { topFunctions } from "./top-functions.js";

const CPU: [string, string][] = [
  ["samples", "count"],
  ["cpu", "nanoseconds"],
];

describe("mergeProfiles", () => {
  it("sums values of equal stacks across builds and keeps other stacks", () => {
    const hostA = fakeProfile({
      sampleTypes: CPU,
      durationNanos: 30e9,
      samples: [
        { stack: ["hot", "main"], values: [3, 30] },
        { stack: [["inl", "outer"], "main"], values: [1, 10] },
      ],
    });
    const hostB = fakeProfile({
      sampleTypes: CPU,
      durationNanos: 29e9,
      addressBase: 0x900000, // another build: other addresses, same functions
      samples: [
        { stack: [["inl", "outer"], "main"], values: [2, 20] },
        { stack: ["hot", "main"], values: [4, 40] },
        { stack: ["only_b", "main"], values: [1, 5] },
      ],
    });
    const merged = mergeProfiles([hostA, hostB]);
    assert.deepEqual(sampleTypes(merged), sampleTypes(hostA));
    assert.equal(Number(merged.durationNanos), 59e9);
    assert.equal(merged.sample.length, 3, "equal stacks become one sample");
    // Round trip through the wire format, as --merge saves it.
    const reread = decodeProfile(encodeProfile(merged));
    const top = Object.fromEntries(topFunctions(reread, { nodeFraction: 0 }).rows.map((r) => [r.name, [r.flat, r.cum, r.inline]]));
    assert.deepEqual(top, {
      hot: [70, 70, ""],
      inl: [30, 30, "inline"],
      only_b: [5, 5, ""],
      outer: [0, 30, ""],
      main: [0, 105, ""],
    });
    assert.equal(topFunctions(reread, { sampleIndex: "samples" }).total, 11);
  });

  it("keeps samples with different labels apart", () => {
    const a = fakeProfile({ sampleTypes: CPU, samples: [{ stack: ["f"], values: [1, 1], labels: { handler: "x" } }] });
    const b = fakeProfile({ sampleTypes: CPU, samples: [{ stack: ["f"], values: [1, 1], labels: { handler: "y" } }] });
    assert.equal(mergeProfiles([a, b]).sample.length, 2);
    assert.equal(mergeProfiles([a, a]).sample.length, 1);
  });

  it("refuses profiles of different kinds with a clear error", () => {
    const cpu = fakeProfile({ sampleTypes: CPU, samples: [] });
    const heap = fakeProfile({ sampleTypes: [["inuse_space", "bytes"]], samples: [] });
    assert.throws(
      () => mergeProfiles([cpu, heap]),
      (e: unknown) =>
        isGopsError(e) &&
        e.message ===
          "cannot merge profiles with different sample types: profile 1 has [samples/count, cpu/nanoseconds], profile 2 has [inuse_space/bytes]",
    );
    assert.throws(() => mergeProfiles([]), /no profiles/);
  });
});
