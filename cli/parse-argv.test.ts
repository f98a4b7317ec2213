import assert from "node:assert/strict";
import { test } from "node:test";
import { UsageError } from "./errors.js";
import { ALL_FLAGS } from "./commands/index.js";
import { flagValue, parseArgv } from "./parse-argv.js";

const parse = (argv: string[], env: Record<string, string> = {}) => parseArgv(argv, env, ALL_FLAGS);

test("global flags are accepted before and after the command", () => {
  const a = parse(["--json", "--host", "h:1", "stack", "42", "--timeout", "10s"]);
  assert.deepEqual(a.positionals, ["stack", "42"]);
  assert.equal(a.options.json, true);
  assert.equal(a.options.host, "h:1");
  assert.equal(a.options.timeoutMs, 10_000);
  const b = parse(["stack", "--host=h:2", "42", "--json"]);
  assert.deepEqual(b.positionals, ["stack", "42"]);
  assert.equal(b.options.host, "h:2");
  assert.equal(b.options.json, true);
  assert.deepEqual([...b.given].sort(), ["host", "json"]);
});

test("defaults: no host, no JSON, no timeout given", () => {
  const a = parse([]);
  assert.deepEqual(a.positionals, []);
  assert.deepEqual(a.options, { host: undefined, json: false, timeoutMs: undefined, help: false, version: false });
  assert.equal(a.values.size, 0);
});

test("-o takes a value as the next token, inline, or after =", () => {
  assert.equal(flagValue(parse(["trace", "1", "-o", "t.out"]), "output"), "t.out");
  assert.equal(flagValue(parse(["trace", "1", "-ot.out"]), "output"), "t.out");
  assert.equal(flagValue(parse(["trace", "1", "-o=t.out"]), "output"), "t.out");
  assert.equal(flagValue(parse(["trace", "1", "--output", "x"]), "output"), "x");
});

test("negative numbers and negative durations are positionals, not flags", () => {
  assert.deepEqual(parse(["setgc", "42", "-1"]).positionals, ["setgc", "42", "-1"]);
  assert.deepEqual(parse(["process", "42", "-5s"]).positionals, ["process", "42", "-5s"]);
});

test("-- ends the flags", () => {
  assert.deepEqual(parse(["help", "--", "--json"]).positionals, ["help", "--json"]);
});

test("the last repeated flag wins", () => {
  assert.equal(parse(["--host", "a:1", "--host", "b:2"]).options.host, "b:2");
});

test("GOPSCTL_HOST is the default host; --host wins over it; an empty variable is unset", () => {
  assert.equal(parse([], { GOPSCTL_HOST: "env:1" }).options.host, "env:1");
  assert.equal(parse(["--host", "flag:1"], { GOPSCTL_HOST: "env:1" }).options.host, "flag:1");
  assert.equal(parse([], { GOPSCTL_HOST: "" }).options.host, undefined);
});

test("-h and --help and --version are booleans", () => {
  assert.equal(parse(["stack", "-h"]).options.help, true);
  assert.equal(parse(["--help"]).options.help, true);
  assert.equal(parse(["--version"]).options.version, true);
  assert.ok(parse(["ps", "--all-processes"]).given.has("all-processes"));
  assert.ok(parse(["ps", "-A"]).given.has("all-processes"));
  assert.ok(!parse(["ps", "--all"]).given.has("all-processes"), "--all selects every fleet host now");
});

test("timeouts: Go durations, seconds, 0", () => {
  assert.equal(parse(["--timeout", "2m"]).options.timeoutMs, 120_000);
  assert.equal(parse(["--timeout", "5"]).options.timeoutMs, 5000);
  assert.equal(parse(["--timeout", "1m30s"]).options.timeoutMs, 90_000);
  assert.equal(parse(["--timeout", "0"]).options.timeoutMs, 0);
  assert.equal(parse(["--timeout", "1.5ms"]).options.timeoutMs, 2);
});

test("usage errors", () => {
  const cases: [string[], RegExp][] = [
    [["--bogus"], /unknown flag --bogus/],
    [["-x"], /unknown flag -x/],
    [["-hx"], /unknown flag -hx/],
    [["--json=yes"], /--json takes no value/],
    [["--host"], /--host needs a value \(NAME\|ADDR\)/],
    [["stack", "1", "-o"], /--output needs a value/],
    [["--host="], /^flag --host needs a non-empty value \(NAME\|ADDR\)$/],
    [["-o", ""], /^flag --output needs a non-empty value \(wide\|FILE\)$/],
    [["--token-file", ""], /^flag --token-file needs a non-empty value \(FILE\)$/],
    [["--tls=yes"], /^flag --tls takes no value$/],
    [["--ca"], /^flag --ca needs a value \(FILE\)$/],
    [["--timeout", "soon"], /invalid timeout "soon"/],
    [["--timeout", "-5s"], /invalid timeout "-5s": it must not be negative/],
  ];
  for (const [argv, message] of cases) {
    assert.throws(() => parse(argv), (e: unknown) => e instanceof UsageError && message.test(e.message), argv.join(" "));
  }
});

test("--table is accepted (tables are the default everywhere) and excludes --json", () => {
  assert.ok(parse(["ps", "--table"]).given.has("table"));
  assert.equal(parse(["ps", "--table"]).options.json, false);
  assert.throws(() => parse(["ps", "--table", "--json"]), UsageError);
});

test("the flag table is what it is given: a flag unknown to it is unknown", () => {
  assert.throws(() => parseArgv(["ps", "--sort", "cpu"], {}, []), /^Error: unknown flag --sort$|unknown flag --sort/);
  assert.deepEqual(parseArgv(["ps", "--sort", "cpu"], {}, [{ name: "sort", value: "KEY", help: "" }]).values.get("sort"), ["cpu"]);
});

test("connection flags are kept as given; repeatable flags keep every value, others the last", () => {
  const a = parse(["--token-file", "t1", "--ca=ca.pem", "--cert", "c.pem", "--key", "k.pem", "--tls", "--server-name", "gopsd.test", "--config", "c.yaml", "ps"]);
  assert.deepEqual([...a.given].sort(), ["ca", "cert", "config", "key", "server-name", "tls", "token-file"]);
  assert.deepEqual(Object.fromEntries(a.values), {
    "token-file": ["t1"],
    ca: ["ca.pem"],
    cert: ["c.pem"],
    key: ["k.pem"],
    "server-name": ["gopsd.test"],
    config: ["c.yaml"],
  });
  const b = parse(["token", "create", "--scope", "gops:read", "--scope=gops:stack,gops:write", "--sub", "a", "--sub", "b", "--hosts", "web-*"]);
  assert.deepEqual(b.values.get("scope"), ["gops:read", "gops:stack,gops:write"]);
  assert.deepEqual(b.values.get("sub"), ["b"]);
  assert.deepEqual(b.values.get("hosts"), ["web-*"]);
  assert.deepEqual(b.positionals, ["token", "create"]);
});
