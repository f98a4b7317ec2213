import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatStackSummary, mergeStackSummaries, summarizeStacks } from "./stack-summary.js";

const DUMP = [
  "goroutine 1 [running]:",
  "main.main()",
  "\t/src/main.go:10 +0x1d",
  "",
  "goroutine 7 [chan receive, 3 minutes]:",
  "main.worker(0xc000010000, {0x1, 0x2})",
  "\t/src/main.go:40 +0x45",
  "created by main.start",
  "\t/src/main.go:30 +0x85",
  "",
  "goroutine 9 [chan receive]:",
  "main.worker(0xc000010008, {0x1, 0x2})",
  "\t/src/main.go:40 +0x45",
  "created by main.start in goroutine 1",
  "\t/src/main.go:30 +0x85",
  "",
  "goroutine 8 [select, 12 minutes, locked to thread]:",
  "main.worker(0x0?, {0x0?, 0x0?})",
  "\t/src/main.go:40 +0x45",
  "created by main.start",
  "\t/src/main.go:30 +0x85",
  "",
  "goroutine 11 [IO wait, 1 minute]:",
  "net.(*netFD).Read(0xc0000a0000, {0xc0000b0000, 0x1000, 0x1000})",
  "\t/usr/lib/go/src/net/fd_posix.go:55 +0x29",
  "main.(*conn).serve.func1()",
  "\t/src/conn.go:12 +0x3a",
  "...additional frames elided...",
  "created by main.listen",
  "\t/src/conn.go:5 +0x1f",
  "",
  "goroutine 12 [chan receive]:",
  "main.worker(0xc000010000, {0x1, 0x2})",
  "\t/src/main.go:41 +0x45",
  "created by main.start",
  "\t/src/main.go:30 +0x85",
  "",
].join("\n");

describe("summarizeStacks", () => {
  it("groups goroutines by frames and file:line, largest group first, with states and waits", () => {
    const groups = summarizeStacks(DUMP);
    assert.deepEqual(
      groups.map((g) => [g.count, g.frames[0]!.func, g.frames[0]!.location]),
      [
        [3, "main.worker", "/src/main.go:40"],
        [1, "main.main", "/src/main.go:10"],
        [1, "main.worker", "/src/main.go:41"],
        [1, "net.(*netFD).Read", "/usr/lib/go/src/net/fd_posix.go:55"],
      ],
    );
    const workers = groups[0]!;
    assert.deepEqual(workers.states, [
      { state: "chan receive", count: 2 },
      { state: "select, locked to thread", count: 1 },
    ]);
    assert.deepEqual(workers.waitMinutes, { min: 3, max: 12 });
    assert.deepEqual(workers.createdBy, { func: "main.start", location: "/src/main.go:30" });
    assert.equal(workers.firstId, 7);
    assert.equal(groups[1]!.createdBy, undefined);
    assert.equal(groups[1]!.waitMinutes, undefined);
    const reader = groups[3]!;
    assert.deepEqual(
      reader.frames.map((f) => f.func),
      ["net.(*netFD).Read", "main.(*conn).serve.func1"],
    );
    assert.deepEqual(reader.waitMinutes, { min: 1, max: 1 });
    assert.equal(reader.createdBy?.func, "main.listen");
  });

  it("accepts an empty dump and rejects text that is not one", () => {
    assert.deepEqual(summarizeStacks(""), []);
    assert.throws(() => summarizeStacks("hello\nworld\n"), /not a goroutine dump/);
  });

  it("merges hosts: equal stacks are one group with per-host counts", () => {
    const fleet = mergeStackSummaries(
      new Map([
        ["web-1", summarizeStacks(DUMP)],
        ["web-2", summarizeStacks(DUMP.replace("goroutine 12 [chan receive]:\nmain.worker(0xc000010000, {0x1, 0x2})\n\t/src/main.go:41", "goroutine 12 [chan receive, 20 minutes]:\nmain.worker(0x0)\n\t/src/main.go:40"))],
      ]),
    );
    assert.equal(fleet[0]!.count, 7);
    assert.deepEqual(fleet[0]!.hosts, [
      { host: "web-2", count: 4, firstId: 7 },
      { host: "web-1", count: 3, firstId: 7 },
    ]);
    assert.deepEqual(fleet[0]!.waitMinutes, { min: 3, max: 20 });
    assert.deepEqual(fleet[0]!.states, [
      { state: "chan receive", count: 5 },
      { state: "select, locked to thread", count: 2 },
    ]);
    assert.deepEqual(fleet.map((g) => g.count), [7, 2, 2, 1]);
  });

  it("formats groups with their top frames", () => {
    const text = formatStackSummary(summarizeStacks(DUMP), { maxFrames: 1, maxGroups: 2 });
    assert.equal(
      text,
      [
        "6 goroutines in 4 groups",
        "",
        "3 goroutines | chan receive 2, select, locked to thread 1 | waiting 3-12 minutes",
        "    main.worker",
        "        /src/main.go:40",
        "    created by main.start",
        "        /src/main.go:30",
        "",
        "1 goroutine | running 1",
        "    main.main",
        "        /src/main.go:10",
        "",
        "... 2 more groups with 2 goroutines",
        "",
      ].join("\n"),
    );
    const fleet = formatStackSummary(mergeStackSummaries(new Map([["a", summarizeStacks(DUMP)]])), { maxGroups: 1 });
    assert.match(fleet, /^3 goroutines \| .*\n {2}hosts: a 3\n/m);
  });
});
