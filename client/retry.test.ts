// Read-only RPCs are retried once when gopsd was UNAVAILABLE; calls with side effects never are.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { ClientError, ServerError, Status, createServer, type Server } from "nice-grpc";
import { DiagnosticsServiceDefinition } from "../proto/index.js";
import { connect } from "./connect.js";
import type { DiagnosticsHandle } from "../common/diagnostics.js";
import { scriptedService } from "./scripted-service.testkit.js";

const calls = { version: 0, forceGC: 0, stats: 0 };
let server: Server;
let client: DiagnosticsHandle;

before(async () => {
  const impl = scriptedService({
    async stats() {
      calls.stats++;
      throw new ServerError(Status.FAILED_PRECONDITION, "no agent");
    },
    async version() {
      // Unavailable on the first call only.
      if (calls.version++ === 0) throw new ServerError(Status.UNAVAILABLE, "agent restarting");
      return { goVersion: "go1.19.8" };
    },
    async forceGC() {
      calls.forceGC++;
      throw new ServerError(Status.UNAVAILABLE, "agent restarting");
    },
  });
  server = createServer();
  server.add(DiagnosticsServiceDefinition, impl);
  const port = await server.listen("127.0.0.1:0");
  client = connect(`127.0.0.1:${port}`);
});

after(async () => {
  client.close();
  await server.shutdown();
});

test("a read-only call that met UNAVAILABLE is retried once and succeeds", async () => {
  const res = await client.version({ pid: 1 }, { deadline: 5000 });
  assert.equal(res.goVersion, "go1.19.8");
  assert.equal(calls.version, 2);
});

test("GC (side effects) is never retried", async () => {
  await assert.rejects(client.forceGC({ pid: 1 }, { deadline: 5000 }), (e: unknown) => e instanceof ClientError && e.code === Status.UNAVAILABLE);
  assert.equal(calls.forceGC, 1);
});

test("other failures of read-only calls are not retried", async () => {
  await assert.rejects(client.stats({ pid: 1 }), (e: unknown) => e instanceof ClientError && e.code === Status.FAILED_PRECONDITION);
  assert.equal(calls.stats, 1);
});
