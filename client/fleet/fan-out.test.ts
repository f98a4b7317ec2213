import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, it } from "node:test";
import { ClientError, Status } from "nice-grpc-common";
import { CredentialsError } from "../credentials-error.js";
import { fanOut, summarize, type HostResult } from "./fan-out.js";

async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe("fanOut", () => {
  it("yields results as hosts settle, not in input order", async () => {
    const delays: Record<string, number> = { a: 60, b: 5, c: 30 };
    const results = await all(fanOut(["a", "b", "c"], async ({ host }) => (await sleep(delays[host]!), host.toUpperCase()), { perHostDeadlineMs: 1000 }));
    assert.deepEqual(results.map((r) => [r.host, r.value]), [["b", "B"], ["c", "C"], ["a", "A"]]);
  });

  it("bounds concurrency", async () => {
    let running = 0;
    let peak = 0;
    const hosts = Array.from({ length: 20 }, (_, i) => `h${i}`);
    const results = await all(
      fanOut(hosts, async () => {
        peak = Math.max(peak, ++running);
        await sleep(5);
        running--;
      }, { perHostDeadlineMs: 1000, concurrency: 4 }),
    );
    assert.equal(results.length, 20);
    assert.equal(peak, 4);
  });

  it("turns failures and deadlines into per-host errors without hiding the others", async () => {
    const results = await all(
      fanOut(
        ["ok", "refused", "hung", "boom", "creds"],
        async ({ host, signal }) => {
          if (host === "refused") throw new ClientError("/x", Status.UNAVAILABLE, "gopsd at h is unreachable");
          if (host === "boom") throw new Error("kaput");
          if (host === "creds") throw new CredentialsError("refusing to send a token to h:1 without TLS");
          if (host === "hung") await new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
          return 1;
        },
        { perHostDeadlineMs: 80 },
      ),
    );
    const by = Object.fromEntries(results.map((r) => [r.host, r]));
    assert.equal(by.ok!.value, 1);
    assert.deepEqual([by.refused!.error!.code, by.refused!.error!.message], [Status.UNAVAILABLE, "gopsd at h is unreachable"]);
    assert.equal(by.hung!.error!.code, Status.DEADLINE_EXCEEDED);
    assert.ok(by.hung!.error!.afterMs >= 75, `afterMs ${by.hung!.error!.afterMs}`);
    assert.match(by.hung!.error!.message, /no answer within 80ms/);
    assert.deepEqual([by.boom!.error!.code, by.boom!.error!.message], [Status.UNKNOWN, "kaput"]);
    assert.equal(by.creds!.error!.code, Status.FAILED_PRECONDITION);
    assert.equal(results.at(-1)!.host, "hung");
  });

  it("cancels running and pending hosts on abort, and when the caller stops reading", async () => {
    const ac = new AbortController();
    const aborted: string[] = [];
    const task = async ({ host, signal }: { host: string; signal: AbortSignal }) => {
      await new Promise((_, reject) =>
        signal.addEventListener("abort", () => {
          aborted.push(host);
          reject(signal.reason);
        }),
      );
    };
    setTimeout(() => ac.abort(new Error("user pressed ^C")), 20);
    const results = await all(fanOut(["a", "b", "c"], task, { perHostDeadlineMs: 5000, concurrency: 2, signal: ac.signal }));
    assert.deepEqual(results.map((r) => r.error?.code), [Status.CANCELLED, Status.CANCELLED, Status.CANCELLED]);
    assert.deepEqual(aborted.sort(), ["a", "b"]);
    assert.match(results[0]!.error!.message, /user pressed \^C/);

    aborted.length = 0;
    const early = fanOut(["x", "y"], async ({ host, signal }) => {
      if (host === "x") return 1;
      return task({ host, signal });
    }, { perHostDeadlineMs: 5000 });
    for await (const r of early) {
      assert.equal(r.host, "x");
      break;
    }
    await sleep(5);
    assert.deepEqual(aborted, ["y"]);
  });
});

describe("summarize", () => {
  it("counts and names failures with their status and time", () => {
    const ok = (host: string): HostResult<number> => ({ host, value: 1, elapsedMs: 1 });
    const results: HostResult<number>[] = [
      ...Array.from({ length: 30 }, (_, i) => ok(`web-${i + 10}`)),
      { host: "web-7", error: { code: Status.DEADLINE_EXCEEDED, message: "", afterMs: 5004 }, elapsedMs: 5004 },
      { host: "web-2", error: { code: Status.UNAVAILABLE, message: "", afterMs: 3.4 }, elapsedMs: 3 },
    ];
    assert.equal(summarize(results), "30/32 hosts ok; web-2: UNAVAILABLE after 3ms, web-7: DEADLINE_EXCEEDED after 5s");
    assert.equal(summarize([ok("a")]), "1/1 hosts ok");
  });
});
