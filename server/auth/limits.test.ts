import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { isGopsError, Status } from "../../common/errors.js";
import { createLimiter } from "./limits.js";

const exhausted = (re: RegExp) => (e: unknown) => isGopsError(e) && e.code === Status.RESOURCE_EXHAUSTED && re.test(e.message);

describe("limiter", () => {
  it("token bucket: burst, then the rate, with the wait in the message", () => {
    let now = 0;
    const l = createLimiter({ ratePerSec: 2, burst: 3, maxConcurrentPerSubject: 100, maxConcurrentStreams: 100 }, () => now);
    for (let i = 0; i < 3; i++) l.admit("a", false)();
    assert.throws(() => l.admit("a", false), exhausted(/^rate limit exceeded for a; retry in 0\.5s$/));
    l.admit("b", false)(); // other subjects have their own bucket
    now += 250;
    assert.throws(() => l.admit("a", false), exhausted(/retry in 0\.3s$/));
    now += 250;
    l.admit("a", false)();
    now += 10_000; // refills up to the burst, not beyond
    for (let i = 0; i < 3; i++) l.admit("a", false)();
    assert.throws(() => l.admit("a", false), exhausted(/rate limit/));
  });

  it("caps concurrent calls per subject and streams overall; release is idempotent", () => {
    const l = createLimiter({ ratePerSec: 1000, burst: 1000, maxConcurrentPerSubject: 2, maxConcurrentStreams: 2 }, () => 0);
    const r1 = l.admit("a", true);
    const r2 = l.admit("a", false);
    assert.throws(() => l.admit("a", false), exhausted(/^too many concurrent calls for a \(limit 2\)/));
    const r3 = l.admit("b", true);
    assert.throws(() => l.admit("c", true), exhausted(/^server is at its limit of 2 concurrent streams/));
    l.admit("c", false)();
    r1();
    r1();
    const r4 = l.admit("c", true);
    assert.throws(() => l.admit("d", true), exhausted(/concurrent streams/));
    for (const r of [r2, r3, r4]) r();
    l.admit("a", true)();
  });

  it("forgets idle subjects once their bucket is full again, but not subjects with calls in flight", () => {
    let now = 0;
    const l = createLimiter({ ratePerSec: 10, burst: 5, maxConcurrentPerSubject: 10, maxConcurrentStreams: 10 }, () => now);
    for (let i = 0; i < 1000; i++) l.admit(`user-${i}`, false)();
    const busy = l.admit("busy", false);
    assert.equal(l.trackedSubjects(), 1001);
    now += 1000; // 0.5 s refills burst 5 at 10/s; sweeps run at most once a second
    l.admit("next", false)();
    assert.equal(l.trackedSubjects(), 2, "busy and next remain");
    busy();
    now += 1000;
    l.admit("next2", false)();
    assert.equal(l.trackedSubjects(), 1);
  });

  it("refuses nonsense limits", () => {
    assert.throws(() => createLimiter({ ratePerSec: 0, burst: 1, maxConcurrentPerSubject: 1, maxConcurrentStreams: 1 }), RangeError);
    assert.throws(() => createLimiter({ ratePerSec: 1, burst: 0.5, maxConcurrentPerSubject: 1, maxConcurrentStreams: 1 }), RangeError);
  });
});
