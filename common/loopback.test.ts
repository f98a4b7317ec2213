import assert from "node:assert/strict";
import { test } from "node:test";
import { isLoopbackHost } from "./loopback.js";

test("loopback hosts: localhost, 127.0.0.0/8 and ::1 in its spellings", () => {
  for (const h of ["localhost", "LocalHost", "127.0.0.1", "127.1.2.3", "::1", "0:0:0:0:0:0:0:1", "0000:0000:0000:0000:0000:0000:0000:0001", "::0:1"]) {
    assert.equal(isLoopbackHost(h), true, h);
  }
});

test("everything else is not loopback", () => {
  for (const h of ["10.0.0.1", "0.0.0.0", "::", "::2", "1::1", "::ffff:10.0.0.1", "128.0.0.1", "localhost.example.com", "web-1", ""]) {
    assert.equal(isLoopbackHost(h), false, h);
  }
});
