import assert from "node:assert/strict";
import { test } from "node:test";
import { GopsError, noBackend, Status } from "./errors.js";
import { escapeControls, escapeLine, hasControls } from "./escape-text.js";

test("control characters are written as ps/ls-style escapes", () => {
  assert.equal(escapeLine("a\x1b]0;pwned\x07b"), "a\\e]0;pwned\\x07b");
  assert.equal(escapeLine("x\ry\nz\tw"), "x\\ry\\nz\\tw");
  assert.equal(escapeLine("\x00\x01\x08\x0b\x0c\x1f\x7f"), "\\x00\\x01\\x08\\x0b\\x0c\\x1f\\x7f");
  assert.equal(escapeLine("\x9b2J\x85\x80\x9f"), "\\x9b2J\\x85\\x80\\x9f", "C1 controls (8-bit CSI, NEL)");
  assert.equal(escapeLine("good\u202edab.exe"), "good\\u202edab.exe", "bidi override");
  assert.equal(escapeLine("\u2066\u2069\u200e\u200f\u061c\u200b\ufeff\u2028\u2029"), "\\u2066\\u2069\\u200e\\u200f\\u061c\\u200b\\ufeff\\u2028\\u2029");
});

test("printable text is untouched, unicode and backslashes included; escaping twice changes nothing", () => {
  for (const s of ["", "gopsd", "/usr/bin/gö 日本 ✓ 🙂", "C:\\path\\e", "a b  c"]) assert.equal(escapeLine(s), s);
  const once = escapeLine("\x1b[2J\r\u202e\x9b\n");
  assert.equal(escapeLine(once), once);
  assert.doesNotMatch(once, /[\x00-\x1f\x7f-\x9f\u202e]/);
});

test("keep leaves the layout's own characters: newlines in a stack dump, but never CR", () => {
  assert.equal(escapeControls("goroutine 1:\n\tmain.main()\r\x1b[A\n", { keep: "\n" }), "goroutine 1:\n\\tmain.main()\\r\\e[A\n");
  assert.equal(escapeControls("a:\tb\n\x07", { keep: "\n\t" }), "a:\tb\n\\x07");
  assert.equal(hasControls("a\nb", "\n"), false);
  assert.equal(hasControls("a\rb", "\n"), true);
  assert.equal(hasControls("plain"), false);
});

test("GopsError messages (gopsd's one-line errors) escape the target text they quote where they are built", () => {
  const e = noBackend(7, "port file /home/u\x1b[2J\n/.config/gops/7 is invalid: \"\x9b\u202e\"", "none found");
  assert.match(e.message, /^pid 7 has no usable gops agent: port file \/home\/u\\e\[2J\\n\/\.config\/gops\/7 is invalid: "\\x9b\\u202e"; and no net\/http\/pprof endpoint: none found /);
  assert.equal(new GopsError(Status.INTERNAL, "reply \x07").message, "reply \\x07");
});
