import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import type { AuditRecord } from "../auth/audit.js";
import { AgentKind, type ProcessStats } from "../../proto/index.js";
import { CaptureEngine, type CaptureCore } from "./engine.js";
import { parseRule } from "./rules.js";
import { CaptureStore } from "./store.js";

function proc(pid: number, goroutines: number): ProcessStats {
  return { pid, name: `p${pid}`, modulePath: "m", backend: AgentKind.AGENT_KIND_GOPS_AGENT, goroutines, startTimeUnixMs: pid, unknownFields: [], staleFields: [] } as unknown as ProcessStats;
}

/** A core whose stack call for `hung` pids never answers until its signal aborts; everything else answers at once. */
function fakeCore(hung: Set<number>, calls: string[]): CaptureCore {
  const wait = (signal?: AbortSignal) =>
    new Promise<never>((_, reject) => signal?.addEventListener("abort", () => reject(signal.reason), { once: true }));
  return {
    watchStats: () => (async function* () {})(),
    getProcess: async (req) => ({ process: { pid: req.pid, exe: `/bin/p${req.pid}` } }) as never,
    stack: (req, o) =>
      (async function* () {
        calls.push(`stack ${req.pid}`);
        if (hung.has(req.pid!)) await wait(o?.signal);
        yield { chunk: Buffer.from(`goroutine 1 [running]:\nmain.main()\n`) };
      })(),
    memStats: async (req) => (calls.push(`memstats ${req.pid}`), { raw: "alloc: 1" }) as never,
    streamProfile: (req) =>
      (async function* () {
        calls.push(`heap ${req.pid}`);
        yield { payload: { $case: "chunk" as const, value: Buffer.from("pprof") } };
      })(),
    streamTrace: () => (async function* () {})(),
  };
}

describe("CaptureEngine", () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(path.join(tmpdir(), "gopsctl-capture-engine-"));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function engine(name: string, hung: Set<number>, settings: Partial<{ cooldownMs: number; maxPerMinute: number }> = {}) {
    const calls: string[] = [];
    const audit: AuditRecord[] = [];
    const logs: string[] = [];
    const store = await CaptureStore.open(path.join(root, name), { maxBytes: 1 << 20, maxCount: 100, maxAgeMs: 3_600_000 }, { log: (m) => logs.push(m) });
    const e = new CaptureEngine({
      host: "h",
      core: fakeCore(hung, calls),
      store,
      settings: { rules: [parseRule("goroutines>100 name=leak")], intervalMs: 1000, cooldownMs: settings.cooldownMs ?? 600_000, maxPerMinute: settings.maxPerMinute ?? 6 },
      audit: (r) => audit.push(r),
      log: (m) => logs.push(m),
    });
    return { e, store, calls, audit, logs };
  }

  it("a capture per firing process, audited with the trigger; the cooldown holds per process and rule", async () => {
    const { e, store, audit } = await engine("a", new Set());
    await e.onSample([proc(1, 500), proc(2, 5)]);
    await e.onSample([proc(1, 600), proc(2, 5)]);
    await e.settled();
    await e.stop();
    assert.deepEqual(store.list().map((c) => [c.pid, c.rule, c.files.map((f) => f.name)]), [[1, "leak", ["goroutines.txt", "memstats.json", "heap.pprof.gz"]]]);
    assert.equal(e.counters.skippedCooldown, 1);
    assert.deepEqual(audit.filter((r) => r.phase === undefined).map((r) => [r.method.split("/").pop(), r.outcome, r.trigger, r.subject]), [
      ["Stack", "OK", "leak", null],
      ["MemStats", "OK", "leak", null],
      ["StreamProfile", "OK", "leak", null],
    ]);
  });

  it("the global rate limit: at most maxPerMinute captures start, the rest are dropped and logged once", async () => {
    const { e, store, logs } = await engine("b", new Set(), { maxPerMinute: 2 });
    await e.onSample([proc(1, 500), proc(2, 500), proc(3, 500), proc(4, 500)]);
    await e.settled();
    await e.stop();
    assert.equal(store.list().length, 2);
    assert.equal(e.counters.skippedRate, 2);
    assert.equal(logs.filter((l) => /capture\.maxPerMinute/.test(l)).length, 1);
  });

  it("a hung agent: firings for it are dropped while its capture runs (never queued); stop() cuts it and keeps nothing", async () => {
    const { e, store, calls } = await engine("c", new Set([1]), { cooldownMs: 1 });
    await e.onSample([proc(1, 500)]);
    await new Promise((r) => setTimeout(r, 5));
    await e.onSample([proc(1, 500)]);
    await new Promise((r) => setTimeout(r, 5));
    await e.onSample([proc(1, 500), proc(2, 500)]);
    assert.equal(e.counters.skippedBusy, 2);
    assert.deepEqual(calls.filter((c) => c === "stack 1"), ["stack 1"], "one call to the hung agent");
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(store.list().map((c) => c.pid), [2], "the other process's capture is not held up");
    await e.stop();
    assert.deepEqual(store.list().map((c) => c.pid), [2], "the hung capture is not kept");
  });
});
