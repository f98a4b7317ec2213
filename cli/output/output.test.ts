import assert from "node:assert/strict";
import { test } from "node:test";
import { CapturedStream } from "../fake-context.testkit.js";
import { printJson, printJsonLine, printView, renderLabels, renderTable, renderTree, toJson, wantsJson, withNewline, write } from "./index.js";

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

test("JSON when asked (--json), the text view on a terminal and in a pipe alike", async () => {
  assert.equal(wantsJson({ isTTY: true, json: false }), false);
  assert.equal(wantsJson({ isTTY: true, json: true }), true);
  assert.equal(wantsJson({ isTTY: false, json: false }), false);
  const signal = new AbortController().signal;
  const view = { json: { a: 1 }, text: () => "text view\n" };
  for (const [isTTY, json, want] of [
    [true, false, "text view\n"],
    [false, false, "text view\n"],
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

// A name as a hostile process sets it: retitle the terminal, clear it, move the cursor back over the row, flip bidi.
const HOSTILE = "x\x1b]0;pwned\x07\x1b[2J\r\u202eevil\x9b1A\t\n";
const ESCAPED = "x\\e]0;pwned\\x07\\e[2J\\r\\u202eevil\\x9b1A\\t\\n";
const RAW_CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;

test("table cells are escaped before they are padded: the columns still line up", () => {
  const text = renderTable([["1", HOSTILE, "go1.19"], ["22", "ok", "go1.20"]], ["PID", "NAME", "VERSION"]);
  assert.doesNotMatch(text, RAW_CONTROL);
  const lines = text.split("\n").slice(0, 3);
  assert.equal(lines[1], `1    ${ESCAPED}  go1.19`);
  const col = lines[1]!.indexOf("go1.19");
  assert.equal(lines[0]!.indexOf("VERSION"), col);
  assert.equal(lines[2]!.indexOf("go1.20"), col);
  assert.equal(text.split("\n").length, 4, "a newline in a cell does not add a row");
});

test("labels and tree nodes are one line each, escaped", () => {
  assert.equal(renderLabels([["cmd+args", `a ${HOSTILE}`]]), `cmd+args:\ta ${ESCAPED}\n`);
  assert.equal(renderTree({ label: "...", children: [{ label: `1 (${HOSTILE})`, children: [] }] }), `...\n└── 1 (${ESCAPED})\n`);
});

test("every text write escapes controls but keeps the layout's newlines and tabs; bytes split mid-character are decoded whole", async () => {
  const signal = new AbortController().signal;
  const stdout = new CapturedStream();
  await write(stdout, "goroutine 1 [running]:\n\tmain.main()\r\x1b[1A\n", signal);
  const bytes = Buffer.from("a\u202eb\u009bc\x07\n", "utf8");
  // Split inside the 3-byte U+202E and the 2-byte U+009B.
  await write(stdout, bytes.subarray(0, 2), signal);
  await write(stdout, bytes.subarray(2, 6), signal);
  await write(stdout, bytes.subarray(6), signal);
  assert.equal(stdout.text(), "goroutine 1 [running]:\n\tmain.main()\\r\\e[1A\na\\u202eb\\x9bc\\x07\n");
  // Raw 8-bit bytes that are not UTF-8 never reach the terminal as such.
  const raw = new CapturedStream();
  await write(raw, Buffer.from([0x41, 0x9b, 0x32, 0x4a, 0x0a]), signal);
  assert.doesNotMatch(raw.text(), RAW_CONTROL);
  assert.doesNotMatch(raw.text(), /\x9b/);
});

test("the text view is escaped on a terminal and in a pipe; JSON keeps the exact string and holds no raw control", async () => {
  const signal = new AbortController().signal;
  const view = { json: { name: HOSTILE }, text: () => `${HOSTILE}\n` };
  for (const isTTY of [true, false]) {
    const text = new CapturedStream();
    await printView({ stdout: text, isTTY, json: false, signal }, view);
    assert.equal(text.text(), "x\\e]0;pwned\\x07\\e[2J\\r\\u202eevil\\x9b1A\t\n\n");
  }
  for (const out of [{ isTTY: false, json: true }, { isTTY: true, json: true }]) {
    const stdout = new CapturedStream();
    await printView({ stdout, ...out, signal }, view);
    assert.doesNotMatch(stdout.text(), RAW_CONTROL);
    assert.deepEqual(JSON.parse(stdout.text()), { name: HOSTILE });
  }
  const line = new CapturedStream();
  await printJsonLine({ stdout: line, signal }, { s: "\u{e0001}\u2028\x7f" });
  assert.equal(line.text(), '{"s":"\\udb40\\udc01\\u2028\\u007f"}\n');
  assert.deepEqual(JSON.parse(line.text()), { s: "\u{e0001}\u2028\x7f" });
});
