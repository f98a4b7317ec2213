import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { describeSignal, isKnownSignal, Signal, signalName, signalNames } from "./signals.js";

describe("signals", () => {
  it("has the bytes of docs/agent-protocol.md §2.2 (0x10 is hex 16)", () => {
    assert.deepEqual(
      signalNames.map((n) => [n, Signal[n]]),
      [
        ["StackTrace", 1],
        ["GC", 2],
        ["MemStats", 3],
        ["Version", 4],
        ["HeapProfile", 5],
        ["CPUProfile", 6],
        ["Stats", 7],
        ["Trace", 8],
        ["BinaryDump", 9],
        ["SetGCPercent", 16],
      ],
    );
  });

  it("names known bytes and only those", () => {
    assert.equal(signalName(0x10), "SetGCPercent");
    for (const b of [0x00, 0x0a, 0x0f, 0x11, 0xff]) {
      assert.equal(signalName(b), undefined);
      assert.equal(isKnownSignal(b), false);
    }
    assert.equal(describeSignal(Signal.MemStats), "MemStats (0x03)");
    assert.equal(describeSignal(0x11), "signal 0x11");
  });
});
