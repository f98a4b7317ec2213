import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseCmdline, parseEnviron } from "./parse-cmdline.js";

describe("parseCmdline", () => {
  it("splits on NUL and drops the final terminator", () => {
    assert.deepEqual(parseCmdline(Buffer.from("node\0--import\0tsx\0a b.ts\0")), ["node", "--import", "tsx", "a b.ts"]);
  });
  it("keeps empty arguments", () => {
    assert.deepEqual(parseCmdline(Buffer.from("prog\0\0x\0")), ["prog", "", "x"]);
  });
  it("handles a rewritten command line without NULs (setproctitle)", () => {
    assert.deepEqual(parseCmdline(Buffer.from("nginx: master process /usr/sbin/nginx")), [
      "nginx: master process /usr/sbin/nginx",
    ]);
  });
  it("is empty for kernel threads and zombies", () => {
    assert.deepEqual(parseCmdline(Buffer.alloc(0)), []);
  });
});

describe("parseEnviron", () => {
  it("maps names to values, splitting at the first '=' and keeping the first duplicate", () => {
    const env = parseEnviron(Buffer.from("HOME=/root\0A=b=c\0HOME=/other\0EMPTY=\0junk\0"));
    assert.equal(env.get("HOME"), "/root");
    assert.equal(env.get("A"), "b=c");
    assert.equal(env.get("EMPTY"), "");
    assert.equal(env.has("junk"), false);
  });
});
