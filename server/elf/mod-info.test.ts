// Module info text: parsing, Go's rules for malformed lines, the text form, and Go string quoting
// cross-checked against Go's own strconv.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { goQuote, goUnquote } from "../../common/go-quote.js";
import { BuildInfoError, formatGoVersionM, formatModInfo, parseModInfo } from "./index.js";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

const corrupt = (line: number, why: RegExp) => (e: unknown) =>
  e instanceof BuildInfoError && e.kind === "corrupt" && e.message.includes(`line ${line}:`) && why.test(e.message);

describe("parseModInfo", () => {
  const text =
    "path\texample.com/cmd/tool\n" +
    "mod\texample.com\t(devel)\t\n" +
    "dep\tgithub.com/a/b\tv1.0.0\th1:AAA=\n" +
    "dep\tgithub.com/c/d\tv2.1.0\n" +
    "=>\tgithub.com/e/d\tv2.1.1\th1:BBB=\n" +
    "dep\tgithub.com/f/g\tv0.3.0\th1:CCC=\n" +
    "build\t-compiler=gc\n" +
    'build\t-ldflags="-s -w -X \\"main.v=1 2\\""\n' +
    'build\t"odd key"=`raw`\n' +
    "build\tCGO_CFLAGS=\n" +
    "build\tvcs.revision=0123abc\n";

  it("parses every kind of line", () => {
    assert.deepEqual(parseModInfo(text), {
      path: "example.com/cmd/tool",
      main: { path: "example.com", version: "(devel)", sum: "" },
      deps: [
        { path: "github.com/a/b", version: "v1.0.0", sum: "h1:AAA=" },
        { path: "github.com/c/d", version: "v2.1.0", sum: "", replace: { path: "github.com/e/d", version: "v2.1.1", sum: "h1:BBB=" } },
        { path: "github.com/f/g", version: "v0.3.0", sum: "h1:CCC=" },
      ],
      settings: [
        { key: "-compiler", value: "gc" },
        { key: "-ldflags", value: '-s -w -X "main.v=1 2"' },
        { key: "odd key", value: "raw" },
        { key: "CGO_CFLAGS", value: "" },
        { key: "vcs.revision", value: "0123abc" },
      ],
    });
  });

  it("formats back to Go's text form", () => {
    const canonical = text.replace("`raw`", "raw");
    assert.equal(formatModInfo(parseModInfo(text)), canonical);
    assert.equal(formatModInfo(parseModInfo(canonical)), canonical);
  });

  it("renders the `go version -m` view", () => {
    const info = { goVersion: "go1.19.8", ...parseModInfo("path\tx\nmod\tx\t(devel)\t\nbuild\tGOOS=linux\n") };
    assert.equal(formatGoVersionM("/bin/x", info), "/bin/x: go1.19.8\n\tpath\tx\n\tmod\tx\t(devel)\t\n\tbuild\tGOOS=linux\n");
    assert.equal(formatGoVersionM("/bin/y", { goVersion: "go1.19", path: "", deps: [], settings: [] }), "/bin/y: go1.19\n");
  });

  it("ignores unknown lines, blank lines and a last line without newline", () => {
    const info = parseModInfo("future\tthing\n\npath\tp\nbuild\tA=1\nbuild\tB=2");
    assert.deepEqual(info, { path: "p", deps: [], settings: [{ key: "A", value: "1" }] });
    assert.deepEqual(parseModInfo(""), { path: "", deps: [], settings: [] });
  });

  it("rejects malformed lines as corrupt, naming the line", () => {
    assert.throws(() => parseModInfo("path\tp\ndep\ta\n"), corrupt(2, /2 or 3 columns; got 1/));
    assert.throws(() => parseModInfo("mod\ta\tb\tc\td\n"), corrupt(1, /2 or 3 columns; got 4/));
    assert.throws(() => parseModInfo("=>\ta\tb\tc\n"), corrupt(1, /no module on previous line/));
    assert.throws(() => parseModInfo("dep\ta\tv1\n=>\ta\tb\tc\n=>\td\te\tf\n"), corrupt(3, /no module/));
    assert.throws(() => parseModInfo("dep\ta\tv1\n=>\ta\tb\n"), corrupt(2, /3 columns for replacement/));
    assert.throws(() => parseModInfo("build\t\n"), corrupt(1, /missing '='/));
    assert.throws(() => parseModInfo("build\t=v\n"), corrupt(1, /missing key/));
    assert.throws(() => parseModInfo("build\tkey\n"), corrupt(1, /missing '=' after key/));
    assert.throws(() => parseModInfo("build\ta b=c\n"), corrupt(1, /must be quoted/));
    assert.throws(() => parseModInfo("build\tk=a b\n"), corrupt(1, /must be quoted/));
    assert.throws(() => parseModInfo('build\t"k=v\n'), corrupt(1, /invalid quoted key/));
    assert.throws(() => parseModInfo('build\t"k"v\n'), corrupt(1, /'=' after quoted key/));
    assert.throws(() => parseModInfo('build\tk="v\\q"\n'), corrupt(1, /invalid quoted value/));
    assert.throws(() => parseModInfo('build\tk="v"x\n'), corrupt(1, /invalid quoted value/));
  });
});

describe("Go quoting", () => {
  const inputs = [
    "",
    "plain",
    "two words",
    'say "hi"',
    "back\\slash",
    "tab\there",
    "nl\ncr\r",
    "bell\x07bs\bff\fvt\v",
    "nul\x00del\x7f esc\x1b",
    "é ü ñ 日本語",
    "nbsp\u00a0soft\u00ad",
    "zwsp\u200b bom\ufeff",
    "emoji 😀 rare \u{1d11e}",
    "private \u{e000} \u{10fffd}",
    "`backquote`",
  ];
  const literals = [
    '"abc"',
    '"\\x41\\101\\u00e9\\U0001F600"',
    '"\\a\\b\\f\\n\\r\\t\\v\\\\\\""',
    "`raw\\n`",
    "`a\rb`",
    '"\\\'"',
    '"\\q"',
    '"\\400"',
    '"\\ud800"',
    '"\\U00110000"',
    '"\\x4"',
    '"unterminated',
    '"a"b',
    '"new\nline"',
    "'c'",
  ];

  it("quotes and unquotes exactly like Go's strconv", () => {
    const dir = mkdtempSync(join(tmpdir(), "gopsctl-quote-"));
    try {
      writeFileSync(join(dir, "go.mod"), "module example.com/quote\n\ngo 1.19\n");
      writeFileSync(
        join(dir, "main.go"),
        `package main

import (
	"encoding/json"
	"os"
	"strconv"
)

func main() {
	var in struct{ Quote, Unquote []string }
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		panic(err)
	}
	var out struct {
		Quoted   []string
		Unquoted []*string
	}
	for _, s := range in.Quote {
		out.Quoted = append(out.Quoted, strconv.Quote(s))
	}
	for _, s := range in.Unquote {
		if v, err := strconv.Unquote(s); err == nil && s[0] != '\\'' {
			out.Unquoted = append(out.Unquoted, &v)
		} else {
			out.Unquoted = append(out.Unquoted, nil)
		}
	}
	json.NewEncoder(os.Stdout).Encode(out)
}
`,
      );
      const env = { ...process.env, GOPROXY: "off", GOFLAGS: "-mod=mod", GOCACHE: join(REPO, ".cache/go-build"), GOTOOLCHAIN: "local" };
      const stdout = execFileSync("/usr/bin/go", ["run", "."], {
        cwd: dir,
        env,
        input: JSON.stringify({ Quote: inputs, Unquote: literals }),
        encoding: "utf8",
        timeout: 120_000,
      });
      const go = JSON.parse(stdout) as { Quoted: string[]; Unquoted: (string | null)[] };
      assert.deepEqual(inputs.map(goQuote), go.Quoted);
      assert.deepEqual(
        literals.map((l) => goUnquote(l) ?? null),
        go.Unquoted,
      );
      for (const s of inputs) assert.equal(goUnquote(goQuote(s)), s);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
