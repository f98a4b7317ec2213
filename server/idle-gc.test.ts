import assert from "node:assert/strict";
import { test } from "node:test";
import { createIdleGc } from "./idle-gc.js";

test("collects once when a window with calls is followed by a quiet one, never while calls go on", () => {
  let collections = 0;
  const idle = createIdleGc(() => void collections++);
  idle.tick();
  idle.tick();
  assert.equal(collections, 0, "no calls yet: nothing to give back");
  for (let window = 0; window < 5; window++) {
    idle.activity();
    idle.activity();
    idle.tick();
  }
  assert.equal(collections, 0, "busy windows: no collection");
  idle.tick();
  assert.equal(collections, 1, "the first quiet window collects");
  idle.tick();
  idle.tick();
  assert.equal(collections, 1, "and only once per burst");
  idle.activity();
  idle.tick();
  idle.tick();
  assert.equal(collections, 2);
});

test("the default collector is V8's full collection, available without --expose-gc and not left on the global", () => {
  assert.equal(typeof (globalThis as { gc?: unknown }).gc, "undefined", "this test runs without --expose-gc");
  const idle = createIdleGc();
  const garbage = Array.from({ length: 1e5 }, (_, i) => ({ i }));
  const before = process.memoryUsage().heapUsed;
  garbage.length = 0;
  idle.activity();
  idle.tick();
  idle.tick(); // a full collection runs here
  assert.ok(process.memoryUsage().heapUsed < before, "the heap shrank");
  assert.equal(typeof (globalThis as { gc?: unknown }).gc, "undefined");
});
