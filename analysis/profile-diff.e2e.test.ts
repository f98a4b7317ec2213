// `pprof diff` against Debian's `go tool pprof -diff_base` on two heap profiles of a real leaking Go program (the
// agentprog fixture leaking goroutines that each hold 64 KiB allocated in main.leakedBuffer).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { runCli, startFixture, type Fixture } from "../integration/harness.js";
import { agentAddress, callAgent } from "../server/agent/client.js";
import { Signal } from "../server/agent/signals.js";
import { chromium } from "playwright-core";
import { pathToFileURL } from "node:url";
import { decodeProfile, diffProfiles, formatTop, renderFlameGraph, topFunctions } from "./index.js";

const run = promisify(execFile);

/** The rows of a pprof -top text, split into columns. */
function topRows(text: string): string[][] {
  const lines = text.split("\n");
  const head = lines.findIndex((l) => /^\s+flat\s+flat%\s+sum%\s+cum\s+cum%$/.test(l));
  assert.ok(head >= 0, `no table header in:\n${text}`);
  return lines
    .slice(head + 1)
    .filter((l) => l.trim() !== "")
    .map((l) => {
      const m = /^\s*(\S+)\s+(\S+%)\s+(\S+%)\s+(\S+)\s+(\S+%)\s+(.+)$/.exec(l);
      assert.ok(m, `unexpected row: ${l}`);
      return m.slice(1);
    });
}

describe("pprof diff of two heap profiles of a leaking program, against go tool pprof -diff_base", () => {
  let fixture: Fixture;
  let dir: string;
  let base: string;
  let next: string;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "gopsctl-capture-diff-"));
    fixture = await startFixture("agentprog", { args: ["-alloc", "-leak-goroutines-per-sec", "40", "-leak-kib", "64"], env: { FIXTURE_CPU_PROFILE_SECONDS: "1" } });
    const addr = agentAddress("127.0.0.1", fixture.port!);
    const heap = async (name: string) => {
      const file = path.join(dir, name);
      await writeFile(file, await callAgent(addr, Signal.HeapProfile, undefined, { connectTimeoutMs: 3000, deadlineMs: 15_000 }));
      return file;
    };
    base = await heap("base.pb.gz");
    await sleep(3000);
    next = await heap("new.pb.gz");
  });

  after(async () => {
    await fixture?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const summary = (text: string) => text.split("\n").filter((l) => /^(Showing|Dropped) /.test(l));

  for (const index of ["inuse_space", "inuse_objects", "alloc_space", "alloc_objects"]) {
    it(`${index}: the same top functions with the same signs and values`, async () => {
      const { readFile } = await import("node:fs/promises");
      const diff = diffProfiles(decodeProfile(await readFile(base)), decodeProfile(await readFile(next)));
      const ours = formatTop(topFunctions(diff, { sampleIndex: index, limit: 10 }));
      const { stdout } = await run("/usr/bin/go", ["tool", "pprof", `-sample_index=${index}`, "-diff_base", base, "-top", "-nodecount=10", next], {
        timeout: 60_000,
        env: { ...process.env, PPROF_TMPDIR: dir },
      });
      const theirs = topRows(stdout);
      assert.ok(theirs.length > 0);
      assert.deepEqual(topRows(ours), theirs);
      assert.deepEqual(summary(ours), summary(stdout));
      if (index !== "alloc_space") {
        const leak = theirs.find((r) => r[5] === "main.leakedBuffer");
        assert.ok(leak && !leak[0]!.startsWith("-"), `main.leakedBuffer grew:\n${stdout}`);
      }
    });

    // At 5% more functions are dropped, and the cutoff that drops them (5% of the net change) and the one the
    // "Dropped" line names (5% of the base's total) are further apart than at pprof's default 0.5%.
    it(`${index} at -nodefraction=0.05: the same functions dropped, the same "Dropped" line`, async () => {
      const { readFile } = await import("node:fs/promises");
      const diff = diffProfiles(decodeProfile(await readFile(base)), decodeProfile(await readFile(next)));
      const ours = formatTop(topFunctions(diff, { sampleIndex: index, nodeFraction: 0.05 }));
      const { stdout } = await run("/usr/bin/go", ["tool", "pprof", `-sample_index=${index}`, "-nodefraction=0.05", "-diff_base", base, "-top", next], {
        timeout: 60_000,
        env: { ...process.env, PPROF_TMPDIR: dir },
      });
      assert.deepEqual(topRows(ours), topRows(stdout));
      assert.deepEqual(summary(ours), summary(stdout));
    });
  }

  it("the diff flame graph draws the leak's growth in red, in headless Chromium", async () => {
    const { readFile } = await import("node:fs/promises");
    const diff = diffProfiles(decodeProfile(await readFile(base)), decodeProfile(await readFile(next)));
    const file = path.join(dir, "diff.html");
    await writeFile(file, renderFlameGraph(diff, { diff: true, sampleIndex: "alloc_space" }));
    const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu", "--no-first-run"], timeout: 30_000 });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 420 } });
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      await page.goto(pathToFileURL(file).href);
      await page.waitForFunction(() => "flameGraph" in globalThis);
      type FG = { frameDelta(n: string): number | null; frameColor(n: string): string | null; drawnFrames(): { name: string }[] };
      const got = await page.evaluate(() => {
        const fg = (globalThis as unknown as { flameGraph: FG }).flameGraph;
        return { delta: fg.frameDelta("main.leakedBuffer"), color: fg.frameColor("main.leakedBuffer"), drawn: fg.drawnFrames().map((f) => f.name) };
      });
      assert.ok(got.delta !== null && got.delta > 0, `main.leakedBuffer grew: ${got.delta}`);
      assert.match(got.color ?? "", /^hsl\(0,/, "growth is red");
      assert.ok(got.drawn.includes("main.leakedBuffer"));
      assert.match((await page.locator("#summary").textContent()) ?? "", /^alloc_space diff: .* changed, net \+/);
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  });

  it("gopsctl pprof diff prints that table, and refuses a CPU profile against a heap profile", async () => {
    const cli = await runCli(["pprof", "diff", base, next, "--top", "10"]);
    assert.equal(cli.code, 0, cli.stderr);
    const { stdout } = await run("/usr/bin/go", ["tool", "pprof", "-diff_base", base, "-top", "-nodecount=10", next], { timeout: 60_000, env: { ...process.env, PPROF_TMPDIR: dir } });
    assert.deepEqual(topRows(cli.stdout), topRows(stdout));
    assert.equal(topRows(cli.stdout)[0]![5], "main.leakedBuffer");

    const addr = agentAddress("127.0.0.1", fixture.port!);
    const cpu = path.join(dir, "cpu.pb.gz");
    await writeFile(cpu, await callAgent(addr, Signal.CPUProfile, undefined, { connectTimeoutMs: 3000, deadlineMs: 60_000 }));
    const refused = await runCli(["pprof", "diff", base, cpu]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /cannot diff profiles of different kinds: the base is space\/bytes, the new one cpu\/nanoseconds/);
  });
});
