import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AgentTimeouts, withAgentTimeouts } from "./timeouts.js";
import { signalNames } from "./signals.js";

describe("AgentTimeouts", () => {
  it("has the deadlines of docs/agent-protocol.md §4 for every signal", () => {
    assert.deepEqual(Object.keys(AgentTimeouts).sort(), [...signalNames].sort());
    for (const name of signalNames) assert.equal(AgentTimeouts[name].connectMs, 3_000, name);
    for (const name of ["StackTrace", "GC", "MemStats", "Version", "Stats", "SetGCPercent"] as const) {
      assert.equal(AgentTimeouts[name].deadlineMs, 10_000, name);
    }
    assert.equal(AgentTimeouts.CPUProfile.deadlineMs, 45_000);
    assert.equal(AgentTimeouts.Trace.deadlineMs, 20_000);
    assert.equal(AgentTimeouts.HeapProfile.deadlineMs, 30_000);
    assert.equal(AgentTimeouts.BinaryDump.deadlineMs, 120_000);
  });

  it("is frozen, table and entries", () => {
    assert.ok(Object.isFrozen(AgentTimeouts));
    assert.ok(Object.isFrozen(AgentTimeouts.CPUProfile));
    assert.throws(() => {
      (AgentTimeouts.CPUProfile as { deadlineMs: number }).deadlineMs = 1;
    }, TypeError);
  });
});

describe("withAgentTimeouts", () => {
  it("overrides connect for all signals and deadlines per signal, leaving the base alone", () => {
    const t = withAgentTimeouts({ connectMs: 200, deadlineMs: { CPUProfile: 1_500, Trace: 700 } });
    assert.equal(t.CPUProfile.deadlineMs, 1_500);
    assert.equal(t.Trace.deadlineMs, 700);
    assert.equal(t.MemStats.deadlineMs, 10_000);
    for (const name of signalNames) assert.equal(t[name].connectMs, 200);
    assert.equal(AgentTimeouts.CPUProfile.deadlineMs, 45_000);
    assert.ok(Object.isFrozen(t) && Object.isFrozen(t.Trace));
  });

  it("layers on a given base", () => {
    const a = withAgentTimeouts({ connectMs: 100 });
    const b = withAgentTimeouts({ deadlineMs: { GC: 50 } }, a);
    assert.equal(b.GC.connectMs, 100);
    assert.equal(b.GC.deadlineMs, 50);
  });

  it("rejects bad values and unknown signal names", () => {
    for (const bad of [0, -5, 1.5, Number.NaN, 2 ** 31]) {
      assert.throws(() => withAgentTimeouts({ connectMs: bad }), /connect timeout/);
      assert.throws(() => withAgentTimeouts({ deadlineMs: { Stats: bad } }), /deadline for Stats/);
    }
    assert.throws(
      () => withAgentTimeouts({ deadlineMs: { Cpu: 5 } as unknown as Record<"Stats", number> }),
      /unknown agent signal "Cpu"/,
    );
  });
});
