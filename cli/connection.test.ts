import assert from "node:assert/strict";
import { test } from "node:test";
import type { CliConfig } from "./config-file.js";
import { chosenConfigPath, resolveConnection } from "./connection.js";
import { UsageError } from "./errors.js";
import { parseCommandLine as parseArgv } from "./commands/index.js";

type Env = Record<string, string>;
const resolve = (argv: string[], env: Env = {}, config: CliConfig = {}) => resolveConnection(parseArgv(argv, env), env, config);
const usage = (argv: string[], env: Env, config: CliConfig, message: string) =>
  assert.throws(() => resolve(argv, env, config), (e: unknown) => e instanceof UsageError && e.message === message, argv.join(" "));

const FULL_CONFIG: CliConfig = { host: "cfg:1", tokenFile: "/cfg/token", tls: { ca: "/cfg/ca.pem", cert: "/cfg/c.pem", key: "/cfg/c.key", serverName: "cfg.test" } };

test("no host anywhere: the local backend; tokens and TLS from env or config are ignored", () => {
  assert.deepEqual(resolve([]), { kind: "local" });
  assert.deepEqual(resolve([], { GOPSCTL_TOKEN: "t", GOPSCTL_CA: "ca.pem" }, { tokenFile: "/f", tls: {} }), { kind: "local" });
});

test("connection flags without any host are usage errors", () => {
  usage(["--token", "t"], {}, {}, "flag --token needs a gopsd (--host, $GOPSCTL_HOST or host in the config file)");
  usage(["--tls"], {}, {}, "flag --tls needs a gopsd (--host, $GOPSCTL_HOST or host in the config file)");
  assert.deepEqual(resolve(["--config", "x.yaml"]), { kind: "local" });
});

test("the config file alone: host, token file and TLS", () => {
  assert.deepEqual(resolve([], {}, FULL_CONFIG), {
    kind: "remote",
    target: "cfg:1",
    token: { kind: "file", path: "/cfg/token" },
    tls: { ca: "/cfg/ca.pem", cert: "/cfg/c.pem", key: "/cfg/c.key", serverName: "cfg.test" },
  });
});

test("the environment wins over the config file, field by field", () => {
  const env = { GOPSCTL_HOST: "env:1", GOPSCTL_TOKEN_FILE: "/env/token", GOPSCTL_CA: "/env/ca.pem", GOPSCTL_SERVER_NAME: "env.test" };
  assert.deepEqual(resolve([], env, FULL_CONFIG), {
    kind: "remote",
    target: "env:1",
    token: { kind: "file", path: "/env/token" },
    tls: { ca: "/env/ca.pem", cert: "/cfg/c.pem", key: "/cfg/c.key", serverName: "env.test" },
  });
  assert.deepEqual(resolve([], { GOPSCTL_TOKEN: "envtok" }, FULL_CONFIG), {
    kind: "remote",
    target: "cfg:1",
    token: { kind: "value", value: "envtok" },
    tls: FULL_CONFIG.tls,
  });
});

test("flags win over the environment and the config file", () => {
  const env = { GOPSCTL_HOST: "env:1", GOPSCTL_TOKEN: "envtok", GOPSCTL_CA: "/env/ca.pem", GOPSCTL_CERT: "/env/c.pem", GOPSCTL_KEY: "/env/c.key" };
  assert.deepEqual(resolve(["--host", "flag:1", "--token-file", "tf", "--ca", "ca.pem", "--server-name", "flag.test"], env, FULL_CONFIG), {
    kind: "remote",
    target: "flag:1",
    token: { kind: "file", path: "tf" },
    tls: { ca: "ca.pem", cert: "/env/c.pem", key: "/env/c.key", serverName: "flag.test" },
  });
  const r = resolve(["--token", "flagtok"], { GOPSCTL_TOKEN_FILE: "/env/token" }, FULL_CONFIG);
  assert.equal(r.kind === "remote" && r.token?.kind === "value" && r.token.value, "flagtok");
});

test("TLS: off unless asked; --tls or GOPSCTL_TLS for the system roots; any TLS setting implies it", () => {
  assert.deepEqual(resolve(["--host", "h:1"]), { kind: "remote", target: "h:1", tls: undefined, token: undefined });
  const tlsOf = (argv: string[], env: Env = {}, config: CliConfig = {}) => {
    const r = resolve(["--host", "h:1", ...argv], env, config);
    return r.kind === "remote" ? r.tls : "local";
  };
  assert.deepEqual(tlsOf(["--tls"]), {});
  assert.deepEqual(tlsOf([], { GOPSCTL_TLS: "1" }), {});
  assert.deepEqual(tlsOf([], { GOPSCTL_TLS: "TRUE" }), {});
  assert.equal(tlsOf([], { GOPSCTL_TLS: "0" }), undefined);
  assert.deepEqual(tlsOf([], {}, { tls: {} }), {});
  assert.deepEqual(tlsOf(["--server-name", "x.test"]), { serverName: "x.test" });
  assert.deepEqual(tlsOf(["--cert", "c", "--key", "k"]), { cert: "c", key: "k" });
  usage(["--host", "h:1"], { GOPSCTL_TLS: "maybe" }, {}, 'GOPSCTL_TLS="maybe" is not 1/true/yes or 0/false/no');
});

test("conflicts and half pairs are usage errors", () => {
  usage(["--host", "h:1", "--token", "t", "--token-file", "f"], {}, {}, "flags --token and --token-file exclude each other");
  usage(["--host", "h:1"], { GOPSCTL_TOKEN: "t", GOPSCTL_TOKEN_FILE: "f" }, {}, "GOPSCTL_TOKEN and GOPSCTL_TOKEN_FILE are both set: unset one");
  usage(["--host", "h:1", "--cert", "c"], {}, {}, "a TLS client certificate (--cert) needs its key (--key)");
  usage(["--host", "h:1"], { GOPSCTL_KEY: "k" }, {}, "a TLS client key (--key) needs its certificate (--cert)");
  // Empty variables are unset: a stale empty GOPSCTL_TOKEN_FILE does not clash.
  const r = resolve(["--host", "h:1"], { GOPSCTL_TOKEN: "t", GOPSCTL_TOKEN_FILE: "" });
  assert.deepEqual(r.kind === "remote" && r.token, { kind: "value", value: "t" });
});

test("the config file chosen by --config, else GOPSCTL_CONFIG, else none (the default location)", () => {
  assert.equal(chosenConfigPath(parseArgv(["--config", "a.yaml"], {}), { GOPSCTL_CONFIG: "b.yaml" }), "a.yaml");
  assert.equal(chosenConfigPath(parseArgv([], {}), { GOPSCTL_CONFIG: "b.yaml" }), "b.yaml");
  assert.equal(chosenConfigPath(parseArgv([], {}), { GOPSCTL_CONFIG: "" }), undefined);
});
