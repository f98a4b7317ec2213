import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { isGopsError, Status } from "../../common/errors.js";
import { createLimiter } from "./limits.js";

const WATCH = { maxWatchStreams: 100, maxWatchStreamsPerSubject: 100 };
const exhausted = (re: RegExp) => (e: unknown) => isGopsError(e) && e.code === Status.RESOURCE_EXHAUSTED && re.test(e.message);

describe("limiter", () => {
  it("token bucket: burst, then the rate, with the wait in the message", () => {
    let now = 0;
    const l = createLimiter({ ratePerSec: 2, burst: 3, maxConcurrentPerSubject: 100, maxConcurrentStreams: 100, ...WATCH }, () => now);
    for (let i = 0; i < 3; i++) l.admit("a", "unary")();
    assert.throws(() => l.admit("a", "unary"), exhausted(/^rate limit exceeded for a; retry in 0\.5s$/));
    l.admit("b", "unary")(); // other subjects have their own bucket
    now += 250;
    assert.throws(() => l.admit("a", "unary"), exhausted(/retry in 0\.3s$/));
    now += 250;
    l.admit("a", "unary")();
    now += 10_000; // refills up to the burst, not beyond
    for (let i = 0; i < 3; i++) l.admit("a", "unary")();
    assert.throws(() => l.admit("a", "unary"), exhausted(/rate limit/));
  });

  it("caps concurrent calls per subject and streams overall; release is idempotent", () => {
    const l = createLimiter({ ratePerSec: 1000, burst: 1000, maxConcurrentPerSubject: 2, maxConcurrentStreams: 2, ...WATCH }, () => 0);
    const r1 = l.admit("a", "stream");
    const r2 = l.admit("a", "unary");
    assert.throws(() => l.admit("a", "unary"), exhausted(/^too many concurrent calls for a \(limit 2\)/));
    const r3 = l.admit("b", "stream");
    assert.throws(() => l.admit("c", "stream"), exhausted(/^server is at its limit of 2 concurrent streams/));
    l.admit("c", "unary")();
    r1();
    r1();
    const r4 = l.admit("c", "stream");
    assert.throws(() => l.admit("d", "stream"), exhausted(/concurrent streams/));
    for (const r of [r2, r3, r4]) r();
    l.admit("a", "stream")();
  });

  it("forgets idle subjects once their bucket is full again, but not subjects with calls in flight", () => {
    let now = 0;
    const l = createLimiter({ ratePerSec: 10, burst: 5, maxConcurrentPerSubject: 10, maxConcurrentStreams: 10, ...WATCH }, () => now);
    for (let i = 0; i < 1000; i++) l.admit(`user-${i}`, "unary")();
    const busy = l.admit("busy", "unary");
    assert.equal(l.trackedSubjects(), 1001);
    now += 1000; // 0.5 s refills burst 5 at 10/s; sweeps run at most once a second
    l.admit("next", "unary")();
    assert.equal(l.trackedSubjects(), 2, "busy and next remain");
    busy();
    now += 1000;
    l.admit("next2", "unary")();
    assert.equal(l.trackedSubjects(), 1);
  });

  it("watches have their own budget and a per-subject cap: they never take a one-off stream's slot (issue 17 item 3)", () => {
    const l = createLimiter(
      { ratePerSec: 1000, burst: 1000, maxConcurrentPerSubject: 8, maxConcurrentStreams: 2, maxWatchStreams: 3, maxWatchStreamsPerSubject: 2 },
      () => 0,
    );
    // Four read-only subjects try 8 watches each: 2 each at most, 3 in all.
    const held: (() => void)[] = [];
    let refusedPerSubject = 0;
    let refusedServer = 0;
    for (const who of ["r1", "r2", "r3", "r4"]) {
      for (let i = 0; i < 8; i++) {
        try {
          held.push(l.admit(who, "watch"));
        } catch (e) {
          if (exhausted(/^too many concurrent WatchStats streams for r\d \(limit 2\); end one first$/)(e)) refusedPerSubject++;
          else if (exhausted(/^server is at its limit of 3 concurrent WatchStats streams; retry later$/)(e)) refusedServer++;
          else throw e;
        }
      }
    }
    assert.equal(held.length, 3);
    assert.equal(refusedPerSubject, 6, "r1 beyond its 2");
    assert.equal(refusedServer, 7 + 8 + 8, "r2's first filled the budget of 3");
    // The operator's one-off streams (Stack, captures) still get both slots; a third is refused as before.
    const s1 = l.admit("operator", "stream");
    const s2 = l.admit("operator", "stream");
    assert.throws(() => l.admit("operator", "stream"), exhausted(/^server is at its limit of 2 concurrent streams/));
    s1();
    s2();
    // A watch ended frees its slot, for its subject and the server.
    held[0]!();
    held[0]!();
    l.admit("r4", "watch")();
    for (const r of held) r();
    l.admit("r1", "watch")();
  });

  it("refuses nonsense limits", () => {
    assert.throws(() => createLimiter({ ratePerSec: 0, burst: 1, maxConcurrentPerSubject: 1, maxConcurrentStreams: 1, ...WATCH }), RangeError);
    assert.throws(() => createLimiter({ ratePerSec: 1, burst: 0.5, maxConcurrentPerSubject: 1, maxConcurrentStreams: 1, ...WATCH }), RangeError);
  });
});
