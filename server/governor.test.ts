import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { GopsError, Status } from "../common/errors.js";
import { Governor, type GovernorCallOptions } from "./governor.js";

const o = (what: string, more: Partial<GovernorCallOptions> = {}): GovernorCallOptions => ({
  what,
  queueTimeoutMs: 2_000,
  ...more,
});
const cpu = (more: Partial<GovernorCallOptions> = {}) =>
  o("a CPU profile", { capture: { label: "a CPU profile", expectedMs: 30_000 }, ...more });
const trace = (more: Partial<GovernorCallOptions> = {}) =>
  o("a trace", { capture: { label: "a trace", expectedMs: 5_000 }, ...more });

function deferred<T = void>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const isCode = (code: Status, re?: RegExp) => (e: unknown) => {
  assert.ok(e instanceof GopsError, `expected a GopsError, got ${String(e)}`);
  assert.equal(Status[e.code], Status[code], e.message);
  if (re) assert.match(e.message, re);
  return true;
};

describe("Governor.run", () => {
  it("runs calls for one key one at a time, in FIFO order", async () => {
    const g = new Governor();
    const log: string[] = [];
    let inFlight = 0;
    const job = (name: string, ms: number) => async () => {
      inFlight++;
      assert.equal(inFlight, 1, `${name} overlapped another call`);
      log.push(`start ${name}`);
      await sleep(ms);
      log.push(`end ${name}`);
      inFlight--;
      return name;
    };
    const results = await Promise.all([
      g.run(1, o("a"), job("a", 30)),
      g.run(1, o("b"), job("b", 5)),
      g.run(1, o("c"), job("c", 15)),
    ]);
    assert.deepEqual(results, ["a", "b", "c"]);
    assert.deepEqual(log, ["start a", "end a", "start b", "end b", "start c", "end c"]);
    assert.deepEqual(g.activeKeys(), []);
  });

  it("runs different keys in parallel", async () => {
    const g = new Governor();
    const gate = deferred();
    const started: number[] = [];
    const p1 = g.run(1, o("x"), async () => (started.push(1), gate.promise));
    const p2 = g.run(2, o("y"), async () => (started.push(2), gate.promise));
    await sleep(10);
    assert.deepEqual(started, [1, 2]);
    gate.resolve();
    await Promise.all([p1, p2]);
    assert.deepEqual(g.activeKeys(), []);
  });

  it("releases the slot when the call throws", async () => {
    const g = new Governor();
    await assert.rejects(
      g.run(1, o("a"), async () => {
        throw new Error("boom");
      }),
      /boom/,
    );
    assert.equal(await g.run(1, o("b"), async () => "next"), "next");
    assert.deepEqual(g.activeKeys(), []);
  });

  it("fails a second capture at once while one is running, saying what runs and for how long", async () => {
    const g = new Governor();
    const gate = deferred();
    const first = g.run(7, cpu(), () => gate.promise);
    await sleep(5);
    let called = false;
    await assert.rejects(
      g.run(7, trace(), async () => void (called = true)),
      isCode(Status.RESOURCE_EXHAUSTED, /^pid 7 is busy: a CPU profile is already running \(about 30s left\)/),
    );
    // Busy at once: queued, it would have failed at its 2 s queue deadline with "waited ... for its turn".
    assert.equal(called, false);
    // Normal calls still queue behind the capture; other keys are not affected.
    const normal = g.run(7, o("memstats"), async () => "ms");
    await g.run(8, cpu(), async () => undefined);
    gate.resolve();
    await first;
    assert.equal(await normal, "ms");
    assert.deepEqual(g.activeKeys(), []);
  });

  it("fails a second capture at once while one is queued", async () => {
    const g = new Governor();
    const gate = deferred();
    const running = g.run(3, o("a heap profile"), () => gate.promise);
    const queuedCapture = g.run(3, trace(), async () => "traced");
    await assert.rejects(g.run(3, cpu(), async () => undefined), isCode(Status.RESOURCE_EXHAUSTED, /a trace is already queued/));
    assert.equal(g.queued(3), 1);
    gate.resolve();
    await running;
    assert.equal(await queuedCapture, "traced");
    // Once the capture is over, a new one is accepted.
    await g.run(3, cpu(), async () => undefined);
    assert.deepEqual(g.activeKeys(), []);
  });

  it("takes a queued call out of the queue at its queue deadline without running it", async () => {
    const g = new Governor();
    const gate = deferred();
    const running = g.run(5, o("a CPU profile"), () => gate.promise);
    let called = false;
    const t0 = performance.now();
    await assert.rejects(
      g.run(5, o("stack", { queueTimeoutMs: 100 }), async () => void (called = true)),
      isCode(Status.RESOURCE_EXHAUSTED, /stack waited 100ms for its turn behind a CPU profile/),
    );
    const elapsed = performance.now() - t0;
    assert.ok(elapsed >= 95, `elapsed ${elapsed}`);
    assert.equal(g.queued(5), 0);
    gate.resolve();
    await running;
    assert.equal(called, false);
    assert.deepEqual(g.activeKeys(), []);
  });

  it("does not time out a call that got its turn before its queue deadline", async () => {
    const g = new Governor();
    const first = g.run(5, o("a"), () => sleep(20));
    const second = g.run(5, o("b", { queueTimeoutMs: 100 }), () => sleep(200).then(() => "done"));
    await first;
    assert.equal(await second, "done");
  });

  it("takes a queued call out of the queue when its signal aborts; later calls keep their order", async () => {
    const g = new Governor();
    const gate = deferred();
    const order: string[] = [];
    const running = g.run(9, o("a"), () => gate.promise);
    const ac = new AbortController();
    const aborted = g.run(9, o("b", { signal: ac.signal }), async () => void order.push("b"));
    const third = g.run(9, o("c"), async () => void order.push("c"));
    assert.equal(g.queued(9), 2);
    ac.abort();
    await assert.rejects(aborted, isCode(Status.CANCELLED, /^b was cancelled/));
    assert.equal(g.queued(9), 1);
    gate.resolve();
    await Promise.all([running, third]);
    assert.deepEqual(order, ["c"]);
    assert.deepEqual(g.activeKeys(), []);
  });

  it("rejects a call whose signal is already aborted without queueing it", async () => {
    const g = new Governor();
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(g.run(1, o("gc", { signal: ac.signal }), async () => undefined), isCode(Status.CANCELLED));
    assert.deepEqual(g.activeKeys(), []);
  });

  it("deletes a key whose only queued call left", async () => {
    const g = new Governor();
    const gate = deferred();
    const running = g.run(4, o("a"), () => gate.promise);
    const late = g.run(4, o("b", { queueTimeoutMs: 20 }), async () => undefined);
    await assert.rejects(late, isCode(Status.RESOURCE_EXHAUSTED));
    gate.resolve();
    await running;
    assert.deepEqual(g.activeKeys(), []);
  });
});

describe("Governor.stream", () => {
  /** A source of n items; records whether its finally ran. */
  function source(n: number, state: { closed: boolean }, failAt?: number) {
    return async function* () {
      try {
        for (let i = 0; i < n; i++) {
          if (i === failAt) throw new Error(`failed at ${i}`);
          await sleep(5);
          yield i;
        }
      } finally {
        state.closed = true;
      }
    };
  }

  it("holds the slot until the stream ends", async () => {
    const g = new Governor();
    const state = { closed: false };
    const log: string[] = [];
    const consume = (async () => {
      for await (const i of g.stream(1, cpu(), source(4, state))) log.push(`item ${i}`);
      log.push("stream end");
    })();
    await sleep(1);
    const after = g.run(1, o("version"), async () => void log.push(`version (source closed: ${state.closed})`));
    await Promise.all([consume, after]);
    // The slot is given back as the stream finishes, so "version" may start before the consumer's loop exits.
    assert.deepEqual(log.filter((l) => l !== "stream end"), ["item 0", "item 1", "item 2", "item 3", "version (source closed: true)"]);
    assert.deepEqual(g.activeKeys(), []);
  });

  it("is busy for a second capture while a stream is being consumed", async () => {
    const g = new Governor();
    const it1 = g.stream(2, cpu(), source(3, { closed: false }))[Symbol.asyncIterator]();
    assert.deepEqual(await it1.next(), { value: 0, done: false });
    await assert.rejects(g.run(2, cpu(), async () => undefined), isCode(Status.RESOURCE_EXHAUSTED));
    await it1.return?.();
    await g.run(2, cpu(), async () => undefined);
  });

  it("releases the slot when the consumer breaks out early, and closes the source", async () => {
    const g = new Governor();
    const state = { closed: false };
    for await (const i of g.stream(1, cpu(), source(100, state))) {
      assert.equal(i, 0);
      break;
    }
    assert.ok(state.closed, "source not closed");
    assert.deepEqual(g.activeKeys(), []);
    assert.equal(await g.run(1, o("x", { queueTimeoutMs: 50 }), async () => "free"), "free");
  });

  it("releases the slot when the source throws", async () => {
    const g = new Governor();
    const state = { closed: false };
    const seen: number[] = [];
    await assert.rejects(async () => {
      for await (const i of g.stream(1, trace(), source(10, state, 2))) seen.push(i);
    }, /failed at 2/);
    assert.deepEqual(seen, [0, 1]);
    assert.deepEqual(g.activeKeys(), []);
  });

  it("releases the slot when the stream is aborted", async () => {
    const g = new Governor();
    const ac = new AbortController();
    async function* abortable() {
      yield "first";
      await new Promise<void>((_, reject) =>
        ac.signal.addEventListener("abort", () => reject(new GopsError(Status.CANCELLED, "capture was cancelled"))),
      );
    }
    const got: string[] = [];
    await assert.rejects(async () => {
      for await (const s of g.stream(6, cpu({ signal: ac.signal }), abortable)) {
        got.push(s);
        setTimeout(() => ac.abort(), 10);
      }
    }, isCode(Status.CANCELLED));
    assert.deepEqual(got, ["first"]);
    assert.deepEqual(g.activeKeys(), []);
  });

  it("leaves the queue on abort before its turn, never calling the source", async () => {
    const g = new Governor();
    const gate = deferred();
    const running = g.run(1, o("stack"), () => gate.promise);
    const ac = new AbortController();
    let called = false;
    const consume = (async () => {
      for await (const _ of g.stream(1, cpu({ signal: ac.signal }), () => {
        called = true;
        return source(1, { closed: false })();
      })) {
        assert.fail("no item expected");
      }
    })();
    await sleep(10);
    assert.equal(g.queued(1), 1);
    ac.abort();
    await assert.rejects(consume, isCode(Status.CANCELLED));
    gate.resolve();
    await running;
    assert.equal(called, false);
    assert.deepEqual(g.activeKeys(), []);
  });
});

describe("Governor.abandoned: a timed capture stopped early keeps the agent busy until its end", () => {
  it("refuses every call for the key at once, saying what the agent finishes and how long is left; others are free", async () => {
    const g = new Governor();
    const release = await g.acquire(7, trace());
    const queued = g.acquire(7, o("version"));
    // The trace started 1.5 s ago and was stopped now: about 3.5 s left.
    g.abandoned(7, "a trace", Date.now() - 1_500, 5_000);
    release();
    const finishing = /^pid 7 is busy: its gops agent is finishing a trace that was stopped early, which an agent cannot cancel \(about 4s left\); retry when it has finished$/;
    await assert.rejects(queued, isCode(Status.RESOURCE_EXHAUSTED, finishing));
    await assert.rejects(g.acquire(7, o("memstats")), isCode(Status.RESOURCE_EXHAUSTED, finishing));
    await assert.rejects(g.acquire(7, cpu()), isCode(Status.RESOURCE_EXHAUSTED, finishing));
    assert.match(g.captureOf(7) ?? "", /finishing a trace/);
    (await g.acquire(8, o("version")))();
    assert.deepEqual(g.activeKeys(), []);
  });

  it("ends when the capture's time is over (and is not recorded for a capture already past it)", async () => {
    const g = new Governor();
    g.abandoned(7, "a trace", Date.now() - 4_950, 5_000);
    await assert.rejects(g.acquire(7, o("version")), isCode(Status.RESOURCE_EXHAUSTED));
    await sleep(80);
    (await g.acquire(7, o("version")))();
    g.abandoned(7, "a trace", Date.now() - 6_000, 5_000);
    (await g.acquire(7, o("version")))();
    assert.equal(g.captureOf(7), undefined);
  });
});
