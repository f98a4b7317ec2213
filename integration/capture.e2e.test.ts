// Incident capture end to end: a real gopsd with capture rules over real Go programs with agents. A program that
// starts leaking goroutines after a delay fires `goroutines>400` once within two sampling intervals of crossing it
// and not again within the cooldown, while its quiet neighbour (same rule, same executable name pattern) is never
// captured; the bundle's goroutine dump names the leaking function and its heap profile opens in go tool pprof; the
// store's caps hold under a rule that fires on every sample; a hostile agent's endless reply gives a bounded capture.
// Every rule selects the test's own executables (exe=...), so no other process on the machine is ever captured.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { connect, type DiagnosticsHandle } from "../client/index.js";
import type { CaptureInfo, WatchStatsResponse } from "../proto/index.js";
import { runCli, startFixture, startGopsd, type Fixture, type Gopsd } from "./harness.js";

const run = promisify(execFile);
const NOBODY = 65534;
const INTERVAL_MS = 1000;
const THRESHOLD = 400;
const tag = `capture-${randomBytes(3).toString("hex")}`;

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 45_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

describe("capture rules on a real gopsd", () => {
  let leaker: Fixture;
  let quiet: Fixture;
  let gopsd: Gopsd;
  let client: DiagnosticsHandle;
  let dir: string;
  const samples: WatchStatsResponse[] = [];
  const watching = new AbortController();
  let watch: Promise<void>;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "gopsctl-capture-e2e-"));
    [leaker, quiet] = await Promise.all([
      startFixture("agentprog", { exeName: `${tag}-leaker`, args: ["-leak-goroutines-per-sec", "100", "-leak-after", "4s", "-leak-kib", "16"] }),
      startFixture("agentprog", { exeName: `${tag}-quiet`, args: ["-goroutines", "200"] }),
    ]);
    // One glob for both executables: the neighbour is selected by the rule and must still never fire it.
    const glob = path.join(path.dirname(path.dirname(leaker.exe)), "*", `${tag}-*`);
    gopsd = await startGopsd({
      args: ["--capture-dir", path.join(dir, "store"), "--capture-interval", "1s", "--capture-rule", `goroutines>${THRESHOLD} name=leak exe=${glob}`],
    });
    client = connect(gopsd.address);
    // A client of the same sampler: it sees the rounds the rules see.
    watch = (async () => {
      try {
        for await (const s of client.watchStats({ intervalMs: INTERVAL_MS, pids: [leaker.pid, quiet.pid] }, { signal: watching.signal })) samples.push(s);
      } catch {
        // ended by the test
      }
    })();
  });

  after(async () => {
    watching.abort();
    await watch;
    client?.close();
    await gopsd?.stop();
    await Promise.all([leaker?.stop(), quiet?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const captures = async () => (await client.listCaptures({})).captures;

  it("fires once within two sampling intervals of the crossing, never on the quiet neighbour, not again within the cooldown", async () => {
    const capture = await waitFor("the leaker's capture", async () => (await captures()).find((c) => c.pid === leaker.pid));
    const crossing = samples
      .map((s) => ({ at: s.timeUnixMs, p: s.processes.find((p) => p.pid === leaker.pid) }))
      .find(({ p }) => p !== undefined && p.goroutines > THRESHOLD && !p.staleFields.includes("goroutines"));
    assert.ok(crossing, "the watcher saw the crossing");
    const lag = capture.timeUnixMs - crossing.at;
    assert.ok(lag < 2 * INTERVAL_MS, `fired ${lag} ms after the first sample above ${THRESHOLD}`);
    assert.equal(capture.rule, "leak");
    assert.match(capture.reason, new RegExp(`^goroutines \\d+ > ${THRESHOLD}$`));
    assert.equal(capture.exe, leaker.exe);
    const manifest = JSON.parse(await readFile(path.join(dir, "store", capture.id, "manifest.json"), "utf8"));
    assert.ok(manifest.sample.goroutines > THRESHOLD, "the manifest keeps the sample that fired");
    assert.equal(manifest.sample.pid, leaker.pid);
    // Five more samples above the threshold: the cooldown (10 min by default) holds.
    const seen = samples.length;
    await waitFor("five more samples", async () => (samples.length >= seen + 5 ? true : undefined), 30_000);
    const all = await captures();
    assert.deepEqual(all.map((c) => c.pid), [leaker.pid], "one capture, of the leaker only");
    assert.ok(samples.some((s) => s.processes.some((p) => p.pid === quiet.pid && p.goroutines > 150)), "the neighbour was sampled");
  });

  it("the bundle: goroutine dump names the leaking function, heap profile opens in go tool pprof, root-only modes, audited with the trigger", async () => {
    const [capture] = await captures();
    assert.ok(capture);
    assert.deepEqual(capture.files.map((f) => f.name), ["goroutines.txt", "memstats.json", "heap.pprof.gz"]);
    assert.deepEqual(capture.errors, []);
    const json = await runCli(["captures", "--host", gopsd.address, "--json"]);
    assert.equal(json.code, 0, json.stderr);
    const lines = json.stdout.trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(lines.length, 1);
    assert.equal(lines[0].id, capture.id);
    assert.equal(lines[0].pid, leaker.pid);
    assert.equal(lines[0].rule, "leak");
    assert.equal(lines[0].time, new Date(capture.timeUnixMs).toISOString());

    const out = path.join(dir, "got");
    const got = await runCli(["captures", "get", capture.id, "--host", gopsd.address, "-o", out]);
    assert.equal(got.code, 0, got.stderr);
    assert.match(got.stdout, new RegExp(`^saved capture ${capture.id}: 4 files`));
    assert.deepEqual((await readdir(out)).sort(), ["goroutines.txt", "heap.pprof.gz", "manifest.json", "memstats.json"]);
    const dump = await readFile(path.join(out, "goroutines.txt"), "utf8");
    assert.match(dump, /main\.leakedWorker\(/);
    const memstats = JSON.parse(await readFile(path.join(out, "memstats.json"), "utf8"));
    assert.ok(memstats.stats.heapInUse > 0);
    const { stdout } = await run("/usr/bin/go", ["tool", "pprof", "-top", path.join(out, "heap.pprof.gz")], { timeout: 60_000, env: { ...process.env, PPROF_TMPDIR: dir } });
    assert.match(stdout, /^Type: inuse_space$/m);
    for (const f of capture.files) {
      const data = await readFile(path.join(out, f.name));
      assert.equal(data.length, f.bytes, f.name);
      assert.equal((await import("node:crypto")).createHash("sha256").update(data).digest("hex"), f.sha256, f.name);
    }

    const stored = path.join(dir, "store", capture.id);
    assert.equal((await stat(path.join(dir, "store"))).mode & 0o777, 0o700);
    assert.equal((await stat(stored)).mode & 0o777, 0o700);
    for (const name of await readdir(stored)) assert.equal((await stat(path.join(stored, name))).mode & 0o777, 0o600, name);

    const audit = gopsd
      .stdout()
      .split("\n")
      .filter((l) => l.includes('"trigger"'))
      .map((l) => JSON.parse(l));
    const ends = audit.filter((r) => r.phase === undefined);
    assert.deepEqual(ends.map((r) => r.method.split("/").pop()), ["Stack", "MemStats", "StreamProfile"]);
    for (const r of ends) {
      assert.equal(r.trigger, "leak");
      assert.equal(r.subject, null);
      assert.equal(r.outcome, "OK");
      assert.equal(r.pid, leaker.pid);
      assert.equal(r.backend, "gops-agent");
    }
  });

  it("captures rm removes it from the store", async () => {
    const [capture] = await captures();
    const rmed = await runCli(["captures", "rm", capture!.id, "--host", gopsd.address]);
    assert.equal(rmed.code, 0, rmed.stderr);
    assert.equal(rmed.stdout, `removed capture ${capture!.id}\n`);
    assert.deepEqual(await captures(), []);
    await assert.rejects(stat(path.join(dir, "store", capture!.id)));
    const again = await runCli(["captures", "get", capture!.id, "--host", gopsd.address]);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /no capture ".*" on this host/);
  });
});

describe("capture store caps and hostile agents", () => {
  let quiet: Fixture;
  let flood: Fixture;
  let dir: string;
  const gopsds: Gopsd[] = [];

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "gopsctl-capture-caps-"));
    [quiet, flood] = await Promise.all([
      startFixture("agentprog", { exeName: `${tag}-every` }),
      startFixture("agentprog", { uid: NOBODY, exeName: `${tag}-flood`, args: ["-mode", "flood"] }),
    ]);
  });

  after(async () => {
    await Promise.all(gopsds.map((g) => g.stop()));
    await Promise.all([quiet?.stop(), flood?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("a gopsd without capture.dir keeps none, and says how to get a store", async () => {
    const g = await startGopsd();
    gopsds.push(g);
    const r = await runCli(["captures", "--host", g.address]);
    assert.notEqual(r.code, 0);
    assert.equal(r.stderr, "gopsctl: no capture store: this gopsd keeps none (start it with --capture-dir DIR)\n");
  });

  it("the count cap holds under a rule that fires on every sample (oldest removed first)", async () => {
    const store = path.join(dir, "every");
    const g = await startGopsd({
      args: ["--capture-dir", store, "--capture-interval", "1s", "--capture-cooldown", "1s", "--capture-max-count", "3", "--capture-max-per-minute", "1000",
        "--capture-rule", `threads>0 name=every exe=${quiet.exe} capture=none`],
    });
    gopsds.push(g);
    const client = connect(g.address);
    try {
      const ids: string[] = [];
      await waitFor("six captures", async () => {
        const now = (await client.listCaptures({})).captures;
        for (const c of now) if (!ids.includes(c.id)) ids.push(c.id);
        assert.ok(now.length <= 3, `${now.length} captures listed`);
        assert.ok((await readdir(store)).length <= 3 + 1, "on disk: at most the cap (and one being written)");
        return ids.length >= 6 ? true : undefined;
      });
      const left = (await client.listCaptures({})).captures;
      assert.equal(left.length, 3);
      for (const old of ids.slice(0, 3)) assert.ok(!left.some((c) => c.id === old), `the oldest went first (${old} is gone)`);
      assert.ok(left.every((c: CaptureInfo) => c.pid === quiet.pid));
    } finally {
      client.close();
    }
  });

  it("a capture of a hostile agent (endless reply) is bounded: errors noted, the store's cap held, gopsd answers", async () => {
    const store = path.join(dir, "flood");
    const g = await startGopsd({
      args: ["--capture-dir", store, "--capture-interval", "1s", "--capture-max-bytes", String(2 << 20), "--agent-timeout", "stack=4s", "--agent-timeout", "memstats=4s", "--agent-timeout", "heap=4s",
        "--capture-rule", `threads>0 name=hostile exe=${flood.exe}`],
    });
    gopsds.push(g);
    const client = connect(g.address);
    try {
      const capture = await waitFor("the flood's capture", async () => (await client.listCaptures({})).captures.find((c) => c.pid === flood.pid), 60_000);
      assert.equal(capture.rule, "hostile");
      assert.ok(capture.errors.length > 0, "what the agent flooded is noted");
      for (const e of capture.errors) assert.match(e, /sent more than \d+ bytes|did not finish .* within|exceed the store's cap/);
      assert.ok(capture.bytes <= 2 << 20, `${capture.bytes} bytes kept`);
      assert.ok((await client.listProcesses({})).processes.length > 0, "gopsd still answers");
    } finally {
      client.close();
    }
  });
});
