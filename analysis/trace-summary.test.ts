import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { describeTrace } from "./trace-summary.js";

function traceBytes(version: string, bodyBytes: number): Buffer {
  const header = Buffer.alloc(16);
  header.write(`go ${version} trace`, "latin1");
  return Buffer.concat([header, Buffer.alloc(bodyBytes, 7)]);
}

describe("describeTrace", () => {
  it("reads the Go version from the header and gives size, duration and the open command", () => {
    const d = describeTrace(traceBytes("1.19", 1_280_000 - 16), { file: "/tmp/web-1.trace", durationMs: 5000 });
    assert.equal(d.goVersion, "1.19");
    assert.equal(d.bytes, 1_280_000);
    assert.equal(d.openCommand, "go tool trace /tmp/web-1.trace");
    assert.equal(d.line, "/tmp/web-1.trace: 1.22MB runtime trace (go 1.19 format), 5s; open it with: go tool trace /tmp/web-1.trace");
    const noDuration = describeTrace(traceBytes("1.22", 100), { file: "t.out" });
    assert.equal(noDuration.durationMs, undefined);
    assert.equal(noDuration.line, "t.out: 116B runtime trace (go 1.22 format); open it with: go tool trace t.out");
    assert.match(describeTrace(traceBytes("1.19", 0), { file: "x", durationMs: 250 }).line, /, 250ms;/);
  });

  it("rejects data that is not a runtime trace", () => {
    assert.throws(() => describeTrace(Buffer.from("\x1f\x8b gzip profile data"), { file: "x" }), /not a Go runtime trace/);
    assert.throws(() => describeTrace(Buffer.alloc(0), { file: "x" }), /not a Go runtime trace/);
    assert.throws(() => describeTrace(Buffer.from("go 1.19 tr"), { file: "x" }), /not a Go runtime trace/);
  });

  it("quotes file names for the shell (common/shell-quote.ts)", () => {
    assert.equal(describeTrace(traceBytes("1.19", 0), { file: "a b" }).openCommand, "go tool trace 'a b'");
  });
});
