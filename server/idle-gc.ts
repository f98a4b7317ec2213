// Gives memory back after a burst of calls. V8 collects garbage when it allocates, so a daemon that goes quiet
// after a load keeps the heap it grew to (gopsd: ~85 MB an idle minute after 200 clients, against ~54 MB before).
// When calls were seen in one check window and none in the next, one full collection runs, which also shrinks
// V8's young generation and frees the pages of compacted old space. The cost is one collection (a few ms) per
// burst, never during calls.
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

export interface IdleGc {
  /** Counts a call (cheap: one increment). */
  activity(): void;
  /** The end of a check window: collects when the window before had calls and this one none. */
  tick(): void;
}

/** The decision alone (pure of timers); `collect` defaults to V8's full collection. */
export function createIdleGc(collect: () => void = fullCollection()): IdleGc {
  let calls = 0;
  let busy = false;
  return {
    activity: () => void calls++,
    tick() {
      if (calls > 0) {
        busy = true;
        calls = 0;
      } else if (busy) {
        busy = false;
        collect();
      }
    },
  };
}

/** An IdleGc ticking every `windowMs` (unref'd); stop() ends it. */
export function startIdleGc(windowMs = 10_000): IdleGc & { stop(): void } {
  const idle = createIdleGc();
  const timer = setInterval(() => idle.tick(), windowMs);
  timer.unref();
  return { ...idle, stop: () => clearInterval(timer) };
}

/** V8's gc() without starting node with --expose-gc: the flag set at run time exposes it to a new context. */
function fullCollection(): () => void {
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;
  setFlagsFromString("--no-expose-gc");
  return () => gc();
}
