// gopsd's capture.* keys: flags (repeatable --capture-rule, never split at commas), variables, the file.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError, parseFlags, resolveConfig, type GopsdConfig } from "../config.js";
import { DEFAULT_CAPTURE_SETTINGS } from "./settings.js";

const LOOPBACK = ["--listen", "unix:/run/gopsd.sock"];

function resolveWith(argv: string[], file?: Record<string, unknown>, env: Record<string, string> = {}): GopsdConfig {
  const flags = parseFlags([...LOOPBACK, ...argv]);
  assert.ok(!flags.help);
  return resolveConfig({ flags: flags.values, env, ...(file ? { file: { path: "/etc/gopsd/gopsd.yaml", doc: file } } : {}), cwd: "/work", defaultHostName: "h" });
}

function refuses(argv: string[], message: RegExp, file?: Record<string, unknown>) {
  assert.throws(() => resolveWith(argv, file), (e: unknown) => e instanceof ConfigError && !/\n/.test(e.message) && message.test(e.message));
}

test("no capture.dir: no store; flags give rules, the dir and the caps", () => {
  assert.equal(resolveWith([]).capture, undefined);
  const c = resolveWith(["--capture-dir", "caps", "--capture-rule", "goroutines>300", "--capture-rule", "heap>150%avg name=grow capture=heap,cpu", "--capture-cooldown", "5m", "--capture-max-count", "10"]).capture!;
  assert.equal(c.dir, "/work/caps");
  assert.deepEqual(c.rules.map((r) => [r.name, r.extras]), [["goroutines>300", ["heap"]], ["grow", ["heap", "cpu"]]]);
  assert.equal(c.cooldownMs, 300_000);
  assert.equal(c.maxCount, 10);
  assert.equal(c.intervalMs, DEFAULT_CAPTURE_SETTINGS.intervalMs);
  assert.equal(c.maxBytes, DEFAULT_CAPTURE_SETTINGS.maxBytes);
});

test("the file: rules as strings or mappings; a variable: rules separated by ;", () => {
  const c = resolveWith([], { capture: { dir: "/var/lib/gopsd/captures", rule: ["threads>500", { when: "goroutines>outlier", name: "odd", module: "example.com/*" }], maxAge: "48h" } }).capture!;
  assert.deepEqual(c.rules.map((r) => [r.name, r.condition.kind, r.selectors]), [["threads>500", "above", {}], ["odd", "outlier", { module: "example.com/*" }]]);
  assert.equal(c.maxAgeMs, 2 * 86_400_000);
  const e = resolveWith(["--capture-dir", "/x"], undefined, { GOPSD_CAPTURE_RULE: "rss>1GiB; cpu>90 capture=cpu" }).capture!;
  assert.deepEqual(e.rules.map((r) => r.name), ["rss>1GiB", "cpu>90"]);
});

test("bad rules and missing dir: one line naming the key as its source spells it", () => {
  refuses(["--capture-rule", "goroutines>300"], /^--capture-rule: needs capture.dir \(--capture-dir, GOPSD_CAPTURE_DIR\)/);
  refuses(["--capture-dir", "/x", "--capture-rule", "fds>3"], /^--capture-rule: capture rule "fds>3": unknown metric "fds"/);
  refuses(["--capture-dir", "/x", "--capture-rule", "goroutines>3", "--capture-rule", "goroutines>3"], /two capture rules are named "goroutines>3"/);
  refuses([], /^config capture\.rule: entry 2: a capture rule mapping needs `when`/, { capture: { dir: "/x", rule: ["threads>1", { name: "x" }] } });
  refuses(["--capture-dir", "/x", "--capture-max-bytes", "10"], /^--capture-max-bytes: must be an integer from 1048576/);
});
