import { test } from "node:test";
import assert from "node:assert/strict";
import { ClientError, Status } from "nice-grpc";
import { channelAddress, connect, describeUnreachable } from "./connect.js";

test("unix targets become grpc-js unix URIs; host:port stays", () => {
  assert.equal(channelAddress("unix:/run/gopsd.sock"), "unix:///run/gopsd.sock");
  assert.equal(channelAddress("unix:///run/gopsd.sock"), "unix:///run/gopsd.sock");
  assert.equal(channelAddress("127.0.0.1:4677"), "127.0.0.1:4677");
});

test("grpc-js connection failures are reworded to name the gopsd", () => {
  assert.equal(
    describeUnreachable("127.0.0.1:1", "No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:1. Resolution note: "),
    "gopsd at 127.0.0.1:1 is unreachable: connect ECONNREFUSED 127.0.0.1:1",
  );
  assert.equal(describeUnreachable("x", "agent at 1.2.3.4 is unreachable"), undefined);
});

test("a call to a closed port fails at once with UNAVAILABLE naming the target", async () => {
  const client = connect("127.0.0.1:1");
  try {
    await assert.rejects(client.listProcesses({}, { deadline: 5000 }), (e: unknown) => {
      assert.ok(e instanceof ClientError);
      assert.equal(e.code, Status.UNAVAILABLE);
      assert.match(e.details, /^gopsd at 127\.0\.0\.1:1 is unreachable: .*ECONNREFUSED/);
      return true;
    });
  } finally {
    client.close();
  }
});
