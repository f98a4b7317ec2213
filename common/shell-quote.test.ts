import assert from "node:assert/strict";
import { test } from "node:test";
import { shellQuote } from "./shell-quote.js";

test("quotes words for the shell only when needed", () => {
  assert.equal(shellQuote("a/b-c_1.trace"), "a/b-c_1.trace");
  assert.equal(shellQuote("my trace.out"), "'my trace.out'");
  assert.equal(shellQuote("it's$(x)"), `'it'\\''s$(x)'`);
});
