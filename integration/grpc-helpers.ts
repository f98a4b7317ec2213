// Small assertions shared by the end-to-end tests that talk gRPC to a real gopsd.
import assert from "node:assert/strict";
import { ClientError } from "nice-grpc";

/** Awaits the call and returns the ClientError it failed with; fails the test if it succeeded. */
export async function statusOf(call: Promise<unknown> | (() => Promise<unknown>)): Promise<ClientError> {
  try {
    await (typeof call === "function" ? call() : call);
  } catch (e) {
    assert.ok(e instanceof ClientError, `expected a ClientError, got ${String(e)}`);
    return e;
  }
  assert.fail("expected the call to fail");
}

export async function drain<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** The bytes of a capture stream: metadata first, then only chunks. */
export function captureBytes(msgs: { payload?: { $case: "metadata" | "chunk"; value: unknown } }[]): Buffer {
  assert.equal(msgs[0]?.payload?.$case, "metadata", "first message carries the metadata");
  const chunks = msgs.slice(1).map((m) => {
    assert.equal(m.payload?.$case, "chunk");
    return m.payload.value as Buffer;
  });
  return Buffer.concat(chunks);
}
