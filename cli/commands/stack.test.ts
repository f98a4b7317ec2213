import assert from "node:assert/strict";
import { test } from "node:test";
import type { StackResponse } from "../../proto/index.js";
import { fakeContext, streamOf } from "../fake-context.testkit.js";
import { run } from "./stack.js";

test("chunks go to stdout as they arrive, before the stream ends", async () => {
  let written = "";
  const f = fakeContext({
    stack: async function* (): AsyncGenerator<StackResponse> {
      yield { chunk: Buffer.from("goroutine 1 [running]:\n") };
      written = f.stdout.text(); // what had reached stdout when the second chunk was asked for
      yield { chunk: Buffer.from("main.main()\n") };
    },
  }, { isTTY: false });
  await run({ pid: 7, summary: false }, f.ctx);
  assert.equal(written, "goroutine 1 [running]:\n");
  assert.equal(f.stdout.text(), "goroutine 1 [running]:\nmain.main()\n", "raw text even when piped");
  assert.deepEqual(f.calls[0]!.request, { pid: 7 });
  assert.equal(f.calls[0]!.signal, f.ctx.signal);
});

test("--json: one object with the whole dump as text (a multi-byte character split across chunks survives)", async () => {
  const bytes = Buffer.from("goroutine 1 [running µ]:\n");
  const cut = bytes.indexOf(0xc2) + 1; // inside the two bytes of µ
  const f = fakeContext({ stack: () => streamOf([{ chunk: bytes.subarray(0, cut) }, { chunk: bytes.subarray(cut) }]) }, { json: true });
  await run({ pid: 7, summary: false }, f.ctx);
  assert.deepEqual(JSON.parse(f.stdout.text()), { pid: 7, stack: "goroutine 1 [running µ]:\n" });
});

test("an error mid-stream propagates after the part already printed", async () => {
  const err = new Error("agent went away");
  const f = fakeContext({ stack: () => streamOf([{ chunk: Buffer.from("goroutine 1") }], err) });
  await assert.rejects(run({ pid: 7, summary: false }, f.ctx), (e) => e === err);
  assert.equal(f.stdout.text(), "goroutine 1");
});

/** A debug=2 dump: `n` goroutines blocked in main.blockedWorker, plus main. */
function dump(n: number): string {
  const parts = ["goroutine 1 [running]:\nmain.main()\n\t/src/main.go:40 +0x1d\n"];
  for (let i = 0; i < n; i++) {
    parts.push(
      `goroutine ${10 + i} [chan receive, ${i % 2 === 0 ? 3 : 5} minutes]:\n` +
        `main.blockedWorker(0xc000${i})\n\t/src/main.go:20 +0x25\n` +
        `created by main.start\n\t/src/main.go:30 +0x4f\n`,
    );
  }
  return parts.join("\n");
}

test("--summary: goroutines grouped by stack, largest group first, instead of the raw dump", async () => {
  const text = dump(4);
  const f = fakeContext({ stack: () => streamOf([{ chunk: Buffer.from(text.slice(0, 50)) }, { chunk: Buffer.from(text.slice(50)) }]) });
  await run({ pid: 7, summary: true }, f.ctx);
  const out = f.stdout.text();
  assert.match(out, /^5 goroutines in 2 groups\n\n4 goroutines \| chan receive 4 \| waiting 3-5 minutes\n    main\.blockedWorker\n        \/src\/main\.go:20\n    created by main\.start\n/);
  assert.match(out, /\n1 goroutine \| running 1\n    main\.main\n/);
  assert.doesNotMatch(out, /0xc000/, "no raw dump");
});

test("--summary --json: the groups", async () => {
  const f = fakeContext({ stack: () => streamOf([{ chunk: Buffer.from(dump(3)) }]) }, { json: true });
  await run({ pid: 7, summary: true }, f.ctx);
  const out = JSON.parse(f.stdout.text()) as { pid: number; goroutines: number; groups: { count: number; frames: { func: string }[]; firstId: number }[] };
  assert.equal(out.pid, 7);
  assert.equal(out.goroutines, 4);
  assert.deepEqual(out.groups.map((g) => [g.count, g.frames[0]!.func, g.firstId]), [[3, "main.blockedWorker", 10], [1, "main.main", 1]]);
});

test("bytes received go to a terminal's stderr with --summary or when stdout is not the terminal; never with --json", async () => {
  const one = () => streamOf([{ chunk: Buffer.from(dump(1)) }]);
  const summary = fakeContext({ stack: one }, { stderrIsTTY: true });
  await run({ pid: 7, summary: true }, summary.ctx);
  assert.match(summary.stderr.text(), /^\rgoroutine dump of pid 7: waiting for the data in 0s\x1b\[K\r\x1b\[K$/);
  const toFile = fakeContext({ stack: one }, { stderrIsTTY: true, isTTY: false });
  await run({ pid: 7, summary: false }, toFile.ctx);
  assert.notEqual(toFile.stderr.text(), "");
  for (const opts of [{ isTTY: true }, { json: true }]) {
    const quiet = fakeContext({ stack: one }, { stderrIsTTY: true, ...opts });
    await run({ pid: 7, summary: false }, quiet.ctx);
    assert.equal(quiet.stderr.text(), "", JSON.stringify(opts));
  }
});
