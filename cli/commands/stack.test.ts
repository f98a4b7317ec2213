import assert from "node:assert/strict";
import { test } from "node:test";
import type { StackResponse } from "../../proto/index.js";
import { fakeContext, streamOf } from "../fake-context.js";
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
  await run({ pid: 7 }, f.ctx);
  assert.equal(written, "goroutine 1 [running]:\n");
  assert.equal(f.stdout.text(), "goroutine 1 [running]:\nmain.main()\n", "raw text even when piped");
  assert.deepEqual(f.calls[0]!.request, { pid: 7 });
  assert.equal(f.calls[0]!.signal, f.ctx.signal);
});

test("--json: one object with the whole dump as text (a multi-byte character split across chunks survives)", async () => {
  const bytes = Buffer.from("goroutine 1 [running µ]:\n");
  const cut = bytes.indexOf(0xc2) + 1; // inside the two bytes of µ
  const f = fakeContext({ stack: () => streamOf([{ chunk: bytes.subarray(0, cut) }, { chunk: bytes.subarray(cut) }]) }, { json: true });
  await run({ pid: 7 }, f.ctx);
  assert.deepEqual(JSON.parse(f.stdout.text()), { pid: 7, stack: "goroutine 1 [running µ]:\n" });
});

test("an error mid-stream propagates after the part already printed", async () => {
  const err = new Error("agent went away");
  const f = fakeContext({ stack: () => streamOf([{ chunk: Buffer.from("goroutine 1") }], err) });
  await assert.rejects(run({ pid: 7 }, f.ctx), (e) => e === err);
  assert.equal(f.stdout.text(), "goroutine 1");
});
