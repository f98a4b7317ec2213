import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fakeProfile } from "./fake-profile.testkit.js";
import { escapeHtml, scriptSafeJson } from "./flame-graph-page.js";
import { flameTree, renderFlameGraph } from "./flame-graph.js";

const CPU: [string, string][] = [
  ["samples", "count"],
  ["cpu", "nanoseconds"],
];

/** Frames of a FlameTree as [name, depth, total, self]. */
function frames(tree: ReturnType<typeof flameTree>): [string, number, number, number][] {
  const out: [string, number, number, number][] = [];
  for (let i = 0; i < tree.nodes.length; i += 4) {
    out.push([tree.names[tree.nodes[i]!]!, tree.nodes[i + 1]!, tree.nodes[i + 2]!, tree.nodes[i + 3]!]);
  }
  return out;
}

describe("flameTree", () => {
  it("builds the call tree root first, biggest child first, inlined frames included", () => {
    const profile = fakeProfile({
      sampleTypes: CPU,
      samples: [
        { stack: ["a", "main"], values: [1, 10] },
        { stack: [["inl", "b"], "main"], values: [1, 30] },
        { stack: ["b", "main"], values: [1, 5] },
        { stack: ["main"], values: [1, 2] },
        { stack: ["ignored", "main"], values: [0, 0] },
      ],
    });
    const tree = flameTree(profile);
    assert.equal(tree.total, 47);
    assert.equal(tree.unit, "nanoseconds");
    assert.deepEqual(frames(tree), [
      ["root", 0, 47, 0],
      ["main", 1, 47, 2],
      ["b", 2, 35, 5],
      ["inl", 3, 30, 30],
      ["a", 2, 10, 10],
    ]);
    assert.deepEqual(frames(flameTree(profile, { sampleIndex: "samples" }))[1], ["main", 1, 4, 1]);
  });
});

describe("renderFlameGraph", () => {
  it("escapes names and titles so no markup or script can break out", () => {
    const evil = `main.</script><img src=x onerror="alert(1)">&amp;'`;
    const html = renderFlameGraph(
      fakeProfile({ sampleTypes: CPU, samples: [{ stack: [evil, "main"], values: [1, 1] }] }),
      { title: `<b>"t"</b> & co` },
    );
    assert.equal(html.match(/<\/script>/g)?.length, 2, "only the two script elements close");
    assert.ok(!html.includes("<img"));
    assert.ok(html.includes("<title>&lt;b&gt;&quot;t&quot;&lt;/b&gt; &amp; co</title>"));
    const json = html.slice(html.indexOf('type="application/json">') + 24, html.indexOf("</script>"));
    assert.ok(JSON.parse(json).names.includes(evil), "the name survives intact in the data");
    assert.equal(escapeHtml(`<&>"'`), "&lt;&amp;&gt;&quot;&#39;");
    assert.equal(scriptSafeJson("\u2028</script>&"), '"\\u2028\\u003c/script\\u003e\\u0026"');
  });

  it("is self-contained: no URLs to fetch, a CSP that forbids fetching", () => {
    const html = renderFlameGraph(fakeProfile({ sampleTypes: CPU, samples: [{ stack: ["f"], values: [1, 1] }] }));
    assert.ok(!/\b(src|href)=/.test(html));
    assert.ok(!/https?:\/\//.test(html));
    assert.ok(html.includes(`content="default-src 'none'`));
  });

  it("refuses a profile without samples of the chosen type", () => {
    assert.throws(() => renderFlameGraph(fakeProfile({ sampleTypes: CPU, samples: [] })), /no cpu samples/);
  });

  it("renders a 50k-frame tree in one page of bounded size", () => {
    const samples = [];
    for (let i = 0; i < 50_000; i++) {
      samples.push({ stack: [`pkg.leaf${i}`, `pkg.mid${i % 500}`, `pkg.top${i % 50}`, "main.main"], values: [1, 1 + (i % 7)] });
    }
    const profile = fakeProfile({ sampleTypes: CPU, samples });
    const started = performance.now();
    const html = renderFlameGraph(profile);
    const elapsed = performance.now() - started;
    const tree = flameTree(profile);
    assert.ok(tree.nodes.length / 4 > 50_000);
    assert.ok(html.length < 3_000_000, `${html.length} bytes`);
    console.log(`50k-frame flame graph: ${(tree.nodes.length / 4) | 0} frames, ${html.length} bytes, ${elapsed.toFixed(0)} ms`);
  });
});
