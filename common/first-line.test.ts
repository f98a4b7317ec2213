import assert from "node:assert/strict";
import { test } from "node:test";
import { firstLine, oneLine } from "./first-line.js";

test("keeps the first line of an error message, trimmed", () => {
  assert.equal(firstLine(new Error("bad thing  \n  at line 3\nmore")), "bad thing");
  assert.equal(firstLine("plain text\nsecond"), "plain text");
  assert.equal(firstLine(42), "42");
});

test("oneLine joins a message's lines with '; '", () => {
  assert.equal(oneLine("  a\n  b \n\nc\n"), "a; b; c");
});
