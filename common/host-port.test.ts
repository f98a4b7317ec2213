import assert from "node:assert/strict";
import { test } from "node:test";
import { splitHostPort } from "./host-port.js";

test("splitHostPort: host:port and [v6]:port; the port optional only when asked", () => {
  assert.deepEqual(splitHostPort("127.0.0.1:4677"), { host: "127.0.0.1", port: 4677 });
  assert.deepEqual(splitHostPort("[::1]:80"), { host: "::1", port: 80 });
  assert.deepEqual(splitHostPort("web-1:0"), { host: "web-1", port: 0 });
  for (const bad of ["web-1", "::1", "a:b", "host:65536", "[::1]", ":80", "a:1:2"]) assert.equal(splitHostPort(bad), undefined, bad);
  assert.deepEqual(splitHostPort("web-1", { portOptional: true }), { host: "web-1", port: undefined });
  assert.deepEqual(splitHostPort("[::1]", { portOptional: true }), { host: "::1", port: undefined });
  assert.equal(splitHostPort("::1", { portOptional: true }), undefined);
});
