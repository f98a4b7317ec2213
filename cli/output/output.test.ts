import assert from "node:assert/strict";
import { test } from "node:test";
import { CapturedStream } from "../fake-context.testkit.js";
import { printJson, printView, renderLabels, renderTable, renderTree, toJson, wantsJson, withNewline } from "./index.js";

test("tables pad every column but the last to its widest cell, header included", () => {
  const text = renderTable(
    [
      ["1", "0", "init", "", "go1.19", "/sbin/init"],
      ["4132", "4130", "foops", "*", "go1.9", "/bin/foops"],
    ],
    ["PID", "PPID", "NAME", "*", "VERSION", "PATH"],
  );
  assert.equal(
    text,
    [
      "PID   PPID  NAME   *  VERSION  PATH",
      "1     0     init      go1.19   /sbin/init",
      "4132  4130  foops  *  go1.9    /bin/foops",
      "",
    ].join("\n"),
  );
  assert.equal(renderTable([["a", ""]]), "a\n", "no trailing spaces");
  assert.equal(renderTable([]), "");
  assert.equal(renderTable([], ["PID", "NAME"]), "PID  NAME\n");
});

test("JSON never contains Buffers: bytes become base64", () => {
  const value = { chunk: Buffer.from("hi"), nested: [{ u8: new Uint8Array([1, 2, 3]) }], big: 2n ** 64n, n: 1 };
  assert.deepEqual(JSON.parse(toJson(value)), { chunk: "aGk=", nested: [{ u8: "AQID" }], big: "18446744073709551616", n: 1 });
  assert.equal(toJson(Buffer.from("x")), '"eA=="');
});

test("labels are the gops `label:<TAB>value` lines", () => {
  assert.equal(renderLabels([["threads", "5"], ["cmd+args", "a b"]]), "threads:\t5\ncmd+args:\ta b\n");
  assert.equal(renderLabels([]), "");
});

test("trees are drawn with box characters", () => {
  const text = renderTree({
    label: "...",
    children: [
      { label: "1", children: [{ label: "a", children: [{ label: "a1", children: [] }] }, { label: "b", children: [] }] },
      { label: "2", children: [{ label: "c", children: [] }] },
    ],
  });
  assert.equal(text, ["...", "├── 1", "│   ├── a", "│   │   └── a1", "│   └── b", "└── 2", "    └── c", ""].join("\n"));
});

test("JSON when asked or piped, the text view on a terminal", async () => {
  assert.equal(wantsJson({ isTTY: true, json: false }), false);
  assert.equal(wantsJson({ isTTY: true, json: true }), true);
  assert.equal(wantsJson({ isTTY: false, json: false }), true);
  const signal = new AbortController().signal;
  const view = { json: { a: 1 }, text: () => "text view\n" };
  for (const [isTTY, json, want] of [
    [true, false, "text view\n"],
    [false, false, '{\n  "a": 1\n}\n'],
    [true, true, '{\n  "a": 1\n}\n'],
  ] as const) {
    const stdout = new CapturedStream();
    await printView({ stdout, isTTY, json, signal }, view);
    assert.equal(stdout.text(), want);
  }
  const stdout = new CapturedStream();
  await printJson({ stdout, isTTY: true, json: false, signal }, [1]);
  assert.equal(stdout.text(), "[\n  1\n]\n");
});

test("withNewline ends text with one newline", () => {
  assert.equal(withNewline("ok"), "ok\n");
  assert.equal(withNewline("ok\n"), "ok\n");
  assert.equal(withNewline(""), "");
});
