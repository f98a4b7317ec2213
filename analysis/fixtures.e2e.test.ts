// The analysis functions against real data from the Go fixture (hot function main.hotLoop, allocation
// site main.allocSite, 100 goroutines blocked in main.blockedWorker), checked against Debian's
// `go tool pprof` and, for the flame graph, in Debian's headless Chromium.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { chromium, type Browser, type Page } from "playwright-core";
import { repoRoot, startFixture, type Fixture } from "../integration/harness.js";
import { agentAddress, callAgent } from "../server/agent/client.js";
import { Signal } from "../server/agent/signals.js";
import { fakeProfile } from "./fake-profile.testkit.js";
import {
  decodeProfile,
  describeTrace,
  encodeProfile,
  formatTop,
  mergeProfiles,
  renderFlameGraph,
  summarizeStacks,
  topFunctions,
  type Profile,
} from "./index.js";

const run = promisify(execFile);
const ARTIFACTS = path.join(repoRoot, ".cache", "artifacts");
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];
const HEAP_INDEXES = ["inuse_space", "inuse_objects", "alloc_space", "alloc_objects"];

interface Table {
  /** "Showing nodes accounting for ..." and "Dropped ..." lines. */
  summary: string[];
  rows: string[][];
}

/** The header lines that describe the totals, and the rows split into columns, of a pprof -top text. */
function parseTop(text: string): Table {
  const lines = text.split("\n");
  const head = lines.findIndex((l) => /^\s+flat\s+flat%\s+sum%\s+cum\s+cum%$/.test(l));
  assert.ok(head >= 0, `no table header in:\n${text}`);
  const summary = lines.slice(0, head).filter((l) => /^(Showing|Dropped) /.test(l));
  const rows = lines
    .slice(head + 1)
    .filter((l) => l.trim() !== "")
    .map((l) => {
      const m = /^\s*(\S+)\s+(\S+%)\s+(\S+%)\s+(\S+)\s+(\S+%)\s+(.+)$/.exec(l);
      assert.ok(m, `unexpected row: ${l}`);
      return m.slice(1);
    });
  return { summary, rows };
}

async function goToolPprofTop(file: string, sampleIndex?: string): Promise<string> {
  const args = ["tool", "pprof", "-top", "-nodecount=10", ...(sampleIndex ? [`-sample_index=${sampleIndex}`] : []), file];
  const { stdout } = await run("/usr/bin/go", args, { timeout: 60_000, env: { ...process.env, PPROF_TMPDIR: tmpdir() } });
  return stdout;
}

async function assertSameTop(profile: Profile, file: string, sampleIndex?: string): Promise<Table> {
  const ours = parseTop(formatTop(topFunctions(profile, { sampleIndex, limit: 10 })));
  const theirs = parseTop(await goToolPprofTop(file, sampleIndex));
  assert.ok(theirs.rows.length > 0);
  assert.deepEqual(ours.rows, theirs.rows, `top 10 for ${sampleIndex ?? "the default sample index"}`);
  assert.deepEqual(ours.summary, theirs.summary);
  return theirs;
}

describe("analysis of real fixture data", () => {
  let fixture: Fixture;
  let dir: string;
  const files: Record<string, string> = {};
  const bytes: Record<string, Buffer> = {};

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "gopsctl-analysis-"));
    fixture = await startFixture("agentprog", {
      args: ["-hot", "-alloc", "-goroutines", "100"],
      env: { FIXTURE_CPU_PROFILE_SECONDS: "2", FIXTURE_TRACE_SECONDS: "0.5" },
    });
    const addr = agentAddress("127.0.0.1", fixture.port!);
    const fetch = async (name: string, signal: number) => {
      bytes[name] = await callAgent(addr, signal, undefined, { connectTimeoutMs: 3000, deadlineMs: 15_000 });
      files[name] = path.join(dir, name);
      await writeFile(files[name], bytes[name]);
    };
    // One connection at a time, like gopsd: the agent serves them in turn.
    await fetch("cpu.pb.gz", Signal.CPUProfile);
    await fetch("heap1.pb.gz", Signal.HeapProfile);
    await fetch("heap2.pb.gz", Signal.HeapProfile);
    await fetch("stack.txt", Signal.StackTrace);
    await fetch("trace.out", Signal.Trace);
  });

  after(async () => {
    await fixture?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("CPU profile: top 10 as go tool pprof -top shows it, main.hotLoop first", async () => {
    const profile = decodeProfile(bytes["cpu.pb.gz"]!);
    const top = topFunctions(profile);
    assert.equal(top.sampleType, "cpu");
    assert.equal(top.rows[0]!.name, "main.hotLoop");
    assert.ok(top.rows[0]!.flatPercent > 50, `main.hotLoop has ${top.rows[0]!.flatPercent}% flat`);
    const theirs = await assertSameTop(profile, files["cpu.pb.gz"]!);
    assert.equal(theirs.rows[0]![5], "main.hotLoop");
    await assertSameTop(profile, files["cpu.pb.gz"]!, "samples");
  });

  it("heap profile: top 10 for each of the four sample indexes as go tool pprof shows them", async () => {
    const profile = decodeProfile(bytes["heap1.pb.gz"]!);
    assert.equal(topFunctions(profile).sampleType, "inuse_space");
    for (const index of HEAP_INDEXES) await assertSameTop(profile, files["heap1.pb.gz"]!, index);
    const alloc = topFunctions(profile, { sampleIndex: "alloc_space" });
    assert.equal(alloc.rows[0]!.name, "main.allocSite");
  });

  it("merges two heap profiles: values summed, and go tool pprof reads the merged file", async () => {
    const one = decodeProfile(bytes["heap1.pb.gz"]!);
    const two = decodeProfile(bytes["heap2.pb.gz"]!);
    const merged = mergeProfiles([one, two]);
    for (const index of HEAP_INDEXES) {
      const site = (p: Profile) => topFunctions(p, { sampleIndex: index, nodeFraction: 0 }).rows.find((r) => r.name === "main.allocSite");
      const summed = (site(one)?.flat ?? 0) + (site(two)?.flat ?? 0);
      assert.equal(site(merged)?.flat ?? 0, summed, index);
      assert.equal(
        topFunctions(merged, { sampleIndex: index }).total,
        topFunctions(one, { sampleIndex: index }).total + topFunctions(two, { sampleIndex: index }).total,
      );
    }
    assert.ok(topFunctions(merged, { sampleIndex: "alloc_space" }).rows[0]!.flat > 0);
    const file = path.join(dir, "merged.pb.gz");
    await writeFile(file, encodeProfile(merged));
    await assertSameTop(merged, file, "alloc_space");
  });

  it("stack summary: the 100 blocked goroutines are one group", () => {
    const groups = summarizeStacks(bytes["stack.txt"]!.toString("utf8"));
    const biggest = groups[0]!;
    assert.equal(biggest.count, 100);
    assert.equal(biggest.frames[0]!.func, "main.blockedWorker");
    assert.match(biggest.frames[0]!.location, /agentprog\/main\.go:\d+$/);
    assert.deepEqual(biggest.states, [{ state: "chan receive", count: 100 }]);
    assert.equal(biggest.createdBy?.func, "main.startWorkloads");
    assert.ok(groups.slice(1).every((g) => g.count < 100));
  });

  it("trace: a one-line summary with the Go version and the open command", () => {
    const d = describeTrace(bytes["trace.out"]!, { file: files["trace.out"]!, durationMs: 500 });
    assert.equal(d.goVersion, "1.19");
    assert.equal(d.bytes, bytes["trace.out"]!.length);
    assert.equal(d.openCommand, `go tool trace ${files["trace.out"]}`);
    assert.match(d.line, /runtime trace \(go 1\.19 format\), 500ms; open it with: go tool trace /);
  });

  describe("flame graph in headless Chromium", () => {
    let browser: Browser;

    before(async () => {
      browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS, timeout: 30_000 });
    });
    after(async () => {
      await browser?.close();
    });

    async function open(html: string, name: string): Promise<{ page: Page; errors: string[]; urls: string[] }> {
      await mkdir(ARTIFACTS, { recursive: true });
      const file = path.join(ARTIFACTS, name);
      await writeFile(file, html);
      const page = await browser.newPage({ viewport: { width: 1280, height: 420 } });
      const errors: string[] = [];
      const urls: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      page.on("console", (m) => {
        if (m.type() === "error") errors.push(m.text());
      });
      page.on("request", (r) => urls.push(r.url()));
      await page.goto(pathToFileURL(file).href);
      await page.waitForFunction(() => "flameGraph" in globalThis);
      return { page, errors, urls };
    }

    type Drawn = { name: string; label: string; x: number; y: number; width: number; height: number; matched: boolean };
    const drawnFrames = (page: Page) => page.evaluate(() => (globalThis as unknown as { flameGraph: { drawnFrames(): Drawn[] } }).flameGraph.drawnFrames());
    const state = (page: Page) =>
      page.evaluate(() => {
        const fg = (globalThis as unknown as { flameGraph: { zoomedFrame(): string; canvasWidth(): number; renderMs(): number; frameCount: number } }).flameGraph;
        return { zoomed: fg.zoomedFrame(), width: fg.canvasWidth(), renderMs: fg.renderMs(), frames: fg.frameCount };
      });

    async function clickFrame(page: Page, frame: Drawn): Promise<void> {
      const box = (await page.locator("#flame").boundingBox())!;
      await page.mouse.click(box.x + frame.x + Math.min(frame.width / 2, 40), box.y + frame.y + frame.height / 2);
    }

    it("draws main.hotLoop, shows tooltips, zooms on click, searches and resets", async () => {
      const profile = decodeProfile(bytes["cpu.pb.gz"]!);
      const html = renderFlameGraph(profile, { title: "agentprog CPU (2 s)" });
      const { page, errors, urls } = await open(html, "flamegraph.html");
      // A 2 s profile of a busy loop can sample nothing but main.hotLoop; only then may it start at full width.
      const top = topFunctions(profile, { nodeFraction: 0 });
      const hotShare = top.rows.find((r) => r.name === "main.hotLoop")!.cum / top.total;

      const hot = (await drawnFrames(page)).find((f) => f.name === "main.hotLoop");
      assert.ok(hot, "a main.hotLoop frame is drawn");
      assert.equal(hot.label, "main.hotLoop", "and labelled");
      const before = await state(page);
      assert.equal(before.zoomed, "root");
      if (hotShare < 1) assert.ok(hot.width < before.width, `not yet the full width (${(hotShare * 100).toFixed(2)}% of samples)`);

      const box = (await page.locator("#flame").boundingBox())!;
      await page.mouse.move(box.x + hot.x + 20, box.y + hot.y + hot.height / 2);
      const tooltip = page.locator("#tooltip");
      assert.equal(await tooltip.isVisible(), true);
      const tip = await tooltip.textContent();
      assert.match(tip!, /^main\.hotLoop\n\d+(\.\d+)?(s|ms) \(\d+\.\d\d% of total, \d+\.\d\d% of view\)\nself /);

      // Highlighting follows the (regexp, case-insensitive) search exactly.
      await page.locator("#search").fill("HOTLOOP|alloc");
      const searched = await drawnFrames(page);
      for (const f of searched) assert.equal(f.matched, /hotloop|alloc/i.test(f.name), f.name);
      assert.ok(searched.some((f) => f.name === "main.hotLoop" && f.matched));
      assert.match((await page.locator("#matched").textContent())!, /^matched \S+ \(\d+\.\d\d%\) in \d+ frames?$/);
      await page.locator("#search").fill("no such function");
      assert.equal(await page.locator("#matched").textContent(), "no match");
      assert.ok((await drawnFrames(page)).every((f) => !f.matched));
      await page.locator("#search").fill("hotLoop");
      await page.mouse.move(box.x + hot.x + 200, box.y + hot.y + hot.height / 2);
      await page.screenshot({ path: path.join(ARTIFACTS, "flamegraph.png") });

      await clickFrame(page, hot);
      const zoomed = await state(page);
      assert.equal(zoomed.zoomed, "main.hotLoop");
      const hotAfter = (await drawnFrames(page)).find((f) => f.name === "main.hotLoop")!;
      assert.equal(hotAfter.x, 0);
      assert.ok(Math.abs(hotAfter.width - zoomed.width) < 0.01, `zoomed width ${hotAfter.width} of ${zoomed.width}`);
      const inView = await drawnFrames(page);
      assert.deepEqual(
        inView.filter((f) => f.y <= hot.y).map((f) => f.name),
        ["root", "main.hotLoop"],
        "siblings leave the view, the ancestors stay",
      );

      await page.locator("#reset").click();
      assert.equal((await state(page)).zoomed, "root");
      const hotReset = (await drawnFrames(page)).find((f) => f.name === "main.hotLoop")!;
      assert.ok(Math.abs(hotReset.width - hot.width) < 0.01, "reset draws main.hotLoop as before the zoom");

      assert.deepEqual(errors, []);
      assert.ok(urls.every((u) => u.startsWith("file://")), `no network fetches: ${urls.join(", ")}`);
      await page.close();
    });

    it("draws a 50k-frame graph and zooms in it quickly", async () => {
      const samples = [];
      for (let i = 0; i < 50_000; i++) {
        samples.push({ stack: [`pkg.leaf${i}`, `pkg.mid${i % 500}`, `pkg.top${i % 50}`, "main.main"], values: [1, 1 + (i % 7)] });
      }
      const { page, errors } = await open(renderFlameGraph(fakeProfile({ sampleTypes: [["samples", "count"], ["cpu", "nanoseconds"]], samples })), "flamegraph-50k.html");
      const first = await state(page);
      assert.ok(first.frames > 50_000);
      const top = (await drawnFrames(page)).find((f) => f.name.startsWith("pkg.top"))!;
      await clickFrame(page, top);
      const zoomed = await state(page);
      assert.equal(zoomed.zoomed, top.name);
      console.log(`50k frames: first render ${first.renderMs.toFixed(1)} ms, zoomed render ${zoomed.renderMs.toFixed(1)} ms`);
      assert.deepEqual(errors, []);
      await page.close();
    });
  });
});
