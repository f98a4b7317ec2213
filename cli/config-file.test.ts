import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { defaultConfigPath, loadConfig } from "./config-file.js";
import { parseConfig } from "./config-parse.js";
import { UsageError } from "./errors.js";

const SRC = "/etc/ops/gopsctl.yaml";
const parse = (text: string) => parseConfig(text, SRC, "/home/ann");
const refused = (text: string, message: string) =>
  assert.throws(() => parse(text), (e: unknown) => e instanceof UsageError && e.message === `config ${SRC}: ${message}`, text);

test("the default config path follows XDG_CONFIG_HOME (absolute only), else HOME/.config, else the account's home", () => {
  assert.equal(defaultConfigPath({ XDG_CONFIG_HOME: "/x", HOME: "/home/a" }, "/nope"), "/x/gopsctl/config.yaml");
  assert.equal(defaultConfigPath({ XDG_CONFIG_HOME: "rel", HOME: "/home/a" }, "/nope"), "/home/a/.config/gopsctl/config.yaml");
  assert.equal(defaultConfigPath({}, "/home/b"), "/home/b/.config/gopsctl/config.yaml");
});

test("every key; file names resolve against the config's directory or ~", () => {
  const c = parse(
    ["host: gopsd.example:4677", "tokenFile: ~/.config/gopsctl/token", "tls:", "  ca: ca.pem", "  cert: /abs/client.pem", "  key: ../keys/client.key", "  serverName: gopsd.example"].join("\n"),
  );
  assert.deepEqual(c, {
    source: SRC,
    host: "gopsd.example:4677",
    tokenFile: "/home/ann/.config/gopsctl/token",
    tls: { ca: "/etc/ops/ca.pem", cert: "/abs/client.pem", key: "/etc/keys/client.key", serverName: "gopsd.example" },
  });
});

test("an empty file or document is an empty config; tls: {} asks for TLS with the system roots", () => {
  assert.deepEqual(parse(""), { source: SRC });
  assert.deepEqual(parse("# nothing\n"), { source: SRC });
  assert.deepEqual(parse("tls: {}\n"), { source: SRC, tls: {} });
});

test("unknown keys and bad values are usage errors naming the key", () => {
  refused("hots: a:1\n", 'unknown key "hots" (known: host, tokenFile, tls, pprof)');
  refused("token: abc\n", 'unknown key "token" (known: host, tokenFile, tls, pprof)');
  refused("tls:\n  cafile: x\n", 'unknown key "tls.cafile" (known: tls.ca, tls.cert, tls.key, tls.serverName)');
  refused("host: 4677\n", 'key "host" must be a non-empty string');
  refused('host: ""\n', 'key "host" must be a non-empty string');
  refused("tokenFile: [a, b]\n", 'key "tokenFile" must be a non-empty string');
  refused("tls:\n  ca: 3\n", 'key "tls.ca" must be a non-empty string');
  refused("tls: true\n", 'key "tls" must be a mapping of ca, cert, key, serverName ("tls: {}" for TLS with the system roots)');
  refused("tls:\n", 'key "tls" must be a mapping of ca, cert, key, serverName ("tls: {}" for TLS with the system roots)');
  refused("- host\n", "want a mapping of keys (host, tokenFile, tls, pprof)");
  refused("tls: [ca.pem]\n", 'key "tls" must be a mapping of ca, cert, key, serverName ("tls: {}" for TLS with the system roots)');
});

test("YAML errors name the line; duplicate keys are refused", () => {
  assert.throws(() => parse("host: a:1\nhost: b:2\n"), (e: unknown) => e instanceof UsageError && /^config \/etc\/ops\/gopsctl\.yaml: line 2: .*unique/i.test(e.message));
  assert.throws(() => parse("host: [a\n"), (e: unknown) => e instanceof UsageError && /^config \/etc\/ops\/gopsctl\.yaml: line \d+: /.test(e.message) && !e.message.includes("\n"));
});

test("loadConfig: a missing default file is no config; a missing chosen file is a usage error", async () => {
  const dir = await mkdtemp(join(tmpdir(), "gopsctl-config-"));
  try {
    const missing = join(dir, "none.yaml");
    assert.deepEqual(await loadConfig(missing, { required: false, home: dir }), {});
    await assert.rejects(loadConfig(missing, { required: true, home: dir }), { name: "UsageError", message: `cannot read config ${missing}: ENOENT` });
    const file = join(dir, "c.yaml");
    await writeFile(file, "host: h:1\ntokenFile: tok\n");
    assert.deepEqual(await loadConfig(file, { required: true, home: dir }), { source: file, host: "h:1", tokenFile: join(dir, "tok") });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("pprof: which programs gopsctl may probe without gopsd, and endpoints mounted elsewhere", () => {
  assert.deepEqual(parse('pprof:\n  probeExe: [/usr/bin/api, "/opt/svc/*"]\n  endpoints:\n    - { cmdline: api-server, port: 6060, prefix: /admin }\n    - { pid: 42, port: 7070 }\n').pprof, {
    probeExe: ["/usr/bin/api", "/opt/svc/*"],
    endpoints: [
      { cmdline: "api-server", port: 6060, prefix: "/admin" },
      { pid: 42, port: 7070, prefix: "" },
    ],
  });
  refused("pprof:\n  probe: true\n", 'unknown key "pprof.probe" (known: pprof.probeExe, pprof.endpoints)');
  refused("pprof:\n  probeExe: [api]\n", "pprof.probeExe: want absolute paths");
  refused("pprof:\n  endpoints:\n    - { port: 6060 }\n", "pprof.endpoints: each needs pid, exe or cmdline");
  refused("pprof:\n  endpoints:\n    - { pid: 1, port: 70000 }\n", "pprof.endpoints: port must be an integer from 1 to 65535");
});
