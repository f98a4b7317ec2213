import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { test } from "node:test";
import { AgentKind, type ProcessStats, type WatchStatsResponse } from "../../proto/index.js";
import { HostsFailedError, UsageError } from "../errors.js";
import { CapturedStream, fakeContext, fakeFleet } from "../fake-context.testkit.js";
import { parseCommandLine, resolveCommand } from "./index.js";
import { runTop, type TopOptions } from "./top.js";
import { ESC } from "../top/top-screen.js";

const proc = (pid: number, goroutines: number, over: Partial<ProcessStats> = {}): ProcessStats => ({
  pid,
  name: `app-${pid}`,
  modulePath: "example.com/app",
  backend: AgentKind.AGENT_KIND_GOPS_AGENT,
  cpuPercent: 1,
  rssBytes: 10 << 20,
  threads: 8,
  goroutines,
  heapInUseBytes: 4 << 20,
  heapObjects: 1000,
  gcCycles: 0,
  gcPauseNs: 0,
  numGc: 3,
  gcPauseTotalNs: 1000,
  gcCpuFraction: 0,
  gogc: 100,
  gogcSource: "env",
  gomaxprocs: 2,
  startTimeUnixMs: 1,
  unknownFields: [],
  staleFields: [],
  detail: "",
  ...over,
});
const sample = (host: string, seq: number, processes: ProcessStats[]): WatchStatsResponse => ({ host, timeUnixMs: 0, intervalMs: 500, seq, processes });

/** A WatchStats stream: the samples one after the other (a tick apart), then it waits until cancelled. */
function watch(samples: (seq: number) => WatchStatsResponse | undefined) {
  return async function* (_req: unknown, o?: { signal?: AbortSignal }) {
    for (let seq = 1; ; seq++) {
      const s = samples(seq);
      if (s === undefined) break;
      await new Promise((r) => setTimeout(r, 5));
      if (o?.signal?.aborted) return;
      yield s;
    }
    await new Promise<void>((resolve) => o?.signal?.addEventListener("abort", () => resolve(), { once: true }));
  };
}

const opts = (over: Partial<TopOptions> = {}): TopOptions => ({ sort: "goroutines", intervalMs: 500, iterations: 2, pids: [], ...over });

test("flags: --sort, --interval (500ms floor), --iterations, --pid lists", () => {
  const parse = (...argv: string[]) => resolveCommand(parseCommandLine(["top", ...argv], {}));
  const inv = parse("--sort", "heap", "--interval", "2s", "--iterations", "3", "--pid", "10,11", "--pid", "12");
  assert.deepEqual(inv.opts, { sort: "heap", intervalMs: 2000, iterations: 3, pids: [10, 11, 12] });
  assert.equal(inv.timeoutMs, undefined, "a live view has no default deadline");
  assert.deepEqual(parse().opts, { sort: "cpu", intervalMs: 1000, iterations: undefined, pids: [] });
  assert.throws(() => parse("--sort", "name"), UsageError);
  assert.throws(() => parse("--interval", "100ms"), /at least|500ms/);
  assert.throws(() => parse("--iterations", "0"), UsageError);
  assert.throws(() => parse("--pid", "x"), UsageError);
  assert.throws(() => parse("123"), /takes no arguments/);
});

test("in a pipe: one table per interval, then it stops after --iterations; the stream is cancelled", async () => {
  let signal: AbortSignal | undefined;
  const f = fakeContext(
    {
      watchStats: (req, o) => {
        signal = o?.signal;
        assert.deepEqual(req, { intervalMs: 500, pids: [7] });
        return watch((seq) => sample("h", seq, [proc(7, 10 + seq)]))(req, o);
      },
    },
    { isTTY: false },
  );
  await runTop(opts({ pids: [7] }), f.ctx);
  const tables = f.stdout.text().split("\n\n");
  assert.equal(tables.length, 2);
  assert.match(tables[0]!, /^PID\s+NAME\s+CPU%\s+RSS\s+THR\s+GOROUTINES\s+\+\/-\s+HEAP/);
  assert.match(tables[1]!, /\n7\s+app-7\s+1\.0\s+10MB\s+8\s+12\s+\+1\s+4MB\s+1000\s+0\s+0\s+0\.00\s+100\s+2\s+agent\n$/);
  assert.equal(signal?.aborted, true, "the watch is cancelled once done");
});

test("across hosts, --json: one NDJSON line per interval once every host sent its sample, outliers listed", async () => {
  const fleet = fakeFleet({
    "web-1": { watchStats: watch((seq) => (seq <= 3 ? sample("web-1", seq, [proc(1, 5), proc(2, 5)]) : undefined)) },
    "web-2": { watchStats: watch((seq) => (seq <= 3 ? sample("web-2", seq, [proc(3, 5), proc(4, 500 * seq, { staleFields: [] })]) : undefined)) },
  });
  const f = fakeContext({}, { fleet, json: true, isTTY: true });
  await runTop(opts(), f.ctx);
  const lines = f.stdout.text().trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(lines.length, 2);
  const last = lines[1];
  assert.equal(last.seq, 2);
  assert.deepEqual(last.processes.map((p: { host: string; pid: number }) => `${p.host}/${p.pid}`).slice(0, 1), ["web-2/4"]);
  for (const p of last.processes) assert.deepEqual(p.outlier, p.pid === 4 ? ["goroutines"] : []);
  assert.equal(last.processes.find((p: { pid: number }) => p.pid === 4).goroutinesDelta, 500);
  assert.equal(f.stdout.text().includes("\x1b"), false);
});

test("a host whose stream fails is reported and the run fails with its status after the others' tables", async () => {
  const fleet = fakeFleet({
    ok: { watchStats: watch((seq) => sample("ok", seq, [proc(1, 5)])) },
    bad: {
      // eslint-disable-next-line require-yield
      watchStats: async function* () {
        throw Object.assign(new Error("connection refused"), {});
      },
    },
  });
  const f = fakeContext({}, { fleet, isTTY: false });
  await assert.rejects(runTop(opts(), f.ctx), HostsFailedError);
  assert.match(f.stderr.text(), /^bad: \w+: connection refused$/m);
  assert.match(f.stderr.text(), /1\/2 hosts ok/);
  assert.match(f.stdout.text(), /^HOST\s+PID/);
});

class FakeTerminal extends EventEmitter {
  isTTY = true;
  isRaw = false;
  columns = 100;
  rows = 12;
  readonly out = new CapturedStream();
  setRawMode(mode: boolean) {
    this.isRaw = mode;
    return this;
  }
  resume() {
    return this;
  }
  pause() {
    return this;
  }
  write(s: string) {
    return this.out.write(s);
  }
}

test("on a terminal: alternate screen, in-place redraws cut to the width, sort keys, q restores everything", async () => {
  const term = new FakeTerminal();
  const f = fakeContext({ watchStats: watch((seq) => sample("h", seq, [proc(1, 50), proc(2, 5, { rssBytes: 900 << 20 })])) }, { isTTY: true });
  (f.ctx as { stdout: unknown }).stdout = term;
  const running = runTop(opts({ iterations: undefined }), f.ctx, { stdin: term });
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(term.isRaw, true);
  const shown = term.out.text();
  assert.ok(shown.startsWith(ESC.enter));
  assert.ok(shown.includes(ESC.home) && shown.includes(ESC.clearLine));
  const lastFrame = shown.slice(shown.lastIndexOf(ESC.home));
  for (const line of lastFrame.split("\r\n")) assert.ok(line.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "").length <= 100, line);
  assert.match(lastFrame, /sort: goroutines[\s\S]*\r\n1 +app-1/);
  term.emit("data", Buffer.from("m"));
  const afterM = term.out.text();
  assert.match(afterM.slice(afterM.lastIndexOf(ESC.home)), /sort: rss[\s\S]*\r\n2 +app-2/);
  term.columns = 30;
  term.emit("resize");
  const resized = term.out.text();
  for (const line of resized.slice(resized.lastIndexOf(ESC.home)).split("\r\n")) assert.ok(line.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "").length <= 30);
  term.emit("data", Buffer.from("q"));
  await running;
  assert.equal(term.isRaw, false, "raw mode off");
  assert.ok(term.out.text().endsWith(ESC.leave), "main screen and cursor back last");
  assert.equal(term.listenerCount("data"), 0);
  assert.equal(term.listenerCount("resize"), 0);
});

test("on a terminal, an error restores the terminal before it is reported", async () => {
  const term = new FakeTerminal();
  const f = fakeContext(
    {
      // eslint-disable-next-line require-yield
      watchStats: async function* () {
        throw new Error("boom");
      },
    },
    { isTTY: true },
  );
  (f.ctx as { stdout: unknown }).stdout = term;
  await assert.rejects(runTop(opts(), f.ctx, { stdin: term }), /boom/);
  assert.ok(term.out.text().endsWith(ESC.leave));
  assert.equal(term.isRaw, false);
});

test("text from targets is escaped in the table and on the screen; JSON keeps it exact", async () => {
  const evil = "ev\x1b[2Jil\r";
  const pipe = fakeContext({ watchStats: watch((seq) => sample("h", seq, [proc(1, 5, { name: evil })])) }, { isTTY: false });
  await runTop(opts({ iterations: 1 }), pipe.ctx);
  assert.ok(!pipe.stdout.text().includes("\x1b") && !pipe.stdout.text().includes("\r"));
  assert.match(pipe.stdout.text(), /ev\\e\[2Jil\\r/);
  const term = new FakeTerminal();
  const tty = fakeContext({ watchStats: watch((seq) => sample("h", seq, [proc(1, 5, { name: evil })])) }, { isTTY: true });
  (tty.ctx as { stdout: unknown }).stdout = term;
  await runTop(opts({ iterations: 1 }), tty.ctx, { stdin: term });
  assert.ok(!term.out.text().includes("\x1b[2J"));
  const json = fakeContext({ watchStats: watch((seq) => sample("h", seq, [proc(1, 5, { name: evil })])) }, { isTTY: false, json: true });
  await runTop(opts({ iterations: 1 }), json.ctx);
  assert.equal(JSON.parse(json.stdout.text()).processes[0].name, evil);
});
