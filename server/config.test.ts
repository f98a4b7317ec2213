import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { describe, it } from "node:test";
import { parseConfigText } from "./config-file.js";
import { ConfigError, parseFlags, resolveConfig, USAGE, type ConfigSources, type GopsdConfig } from "./config.js";

const AUTH_FILE = {
  auth: { algorithms: ["RS256"], publicKeyFiles: ["keys/a.pem", "k2:/etc/gopsd/b.pem"], issuer: "https://iss", audience: "gopsd" },
};

function resolveWith(opts: { argv?: string[]; env?: Record<string, string>; file?: Record<string, unknown> } = {}): GopsdConfig {
  const flags = parseFlags(opts.argv ?? []);
  assert.ok(!flags.help);
  const src: ConfigSources = {
    flags: flags.values,
    env: opts.env ?? {},
    ...(opts.file ? { file: { path: "/etc/gopsd/gopsd.yaml", doc: opts.file } } : {}),
    cwd: "/work",
    defaultHostName: "box-1",
  };
  return resolveConfig(src);
}

function refuses(opts: Parameters<typeof resolveWith>[0], message: RegExp) {
  assert.throws(
    () => resolveWith(opts),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError, String(e));
      assert.doesNotMatch(e.message, /\n/, "one line");
      assert.match(e.message, message);
      return true;
    },
  );
}

describe("gopsd config", () => {
  it("defaults: loopback is refused without auth or --insecure; a unix socket is fine", () => {
    refuses({}, /^listen: refusing to serve TCP 127\.0\.0\.1:4677 without authentication: .*--insecure/);
    const c = resolveWith({ argv: ["--listen", "unix:/run/gopsd.sock"] });
    assert.equal(c.auth, undefined);
    assert.equal(c.hostName, "box-1");
    assert.deepEqual(c.audit, { kind: "stdout" });
    assert.deepEqual(c.limits, {
      ratePerSec: 10,
      burst: 20,
      maxConcurrentPerSubject: 8,
      maxConcurrentStreams: 32,
      maxWatchStreams: 32,
      maxWatchStreamsPerSubject: 2,
      maxRequestBytes: 65536,
      maxConnections: 256,
      maxConnectionsPerSource: 32,
      handshakeTimeoutMs: 10_000,
      idleTimeoutMs: 120_000,
      maxStreamsPerConnection: 32,
      maxSessionMemoryBytes: 4 << 20,
      keepaliveTimeMs: 60_000,
    });
    assert.equal(resolveWith({ argv: ["--insecure"] }).insecure, true);
  });

  it("reads the file, resolving its relative paths against the file's directory", () => {
    const c = resolveWith({ file: { ...AUTH_FILE, audit: { file: "audit.log" }, tls: { cert: "tls/cert.pem", key: "/k.pem" } } });
    assert.deepEqual(c.auth, {
      algorithms: ["RS256"],
      issuer: "https://iss",
      audience: "gopsd",
      maxLifetimeSec: 3600,
      clockToleranceSec: 30,
      publicKeyFiles: ["a:/etc/gopsd/keys/a.pem", "k2:/etc/gopsd/b.pem"],
    });
    assert.deepEqual(c.audit, { kind: "file", path: "/etc/gopsd/audit.log" });
    assert.deepEqual(c.tls, { cert: "/etc/gopsd/tls/cert.pem", key: "/k.pem" });
  });

  it("flags > env > file, per key; agent timeouts merge per name", () => {
    const c = resolveWith({
      file: { ...AUTH_FILE, hostName: "from-file", limits: { burst: 5, ratePerSecond: 2.5 }, agentTimeouts: { cpu: "45s", stack: 7 } },
      env: { GOPSD_HOST_NAME: "from-env", GOPSD_LIMITS_BURST: "6", GOPSD_AGENT_TIMEOUTS: "stack=8s,gc=1s", GOPSD_AUTH_MAX_LIFETIME: "15m" },
      argv: ["--host-name", "from-flag", "--agent-timeout", "gc=2s", "--audit-file", "rel/audit.log"],
    });
    assert.equal(c.hostName, "from-flag");
    assert.equal(c.limits.burst, 6);
    assert.equal(c.limits.ratePerSec, 2.5);
    assert.equal(c.auth?.maxLifetimeSec, 900);
    assert.deepEqual(c.agentTimeouts, { deadlineMs: { CPUProfile: 45_000, StackTrace: 8_000, GC: 2_000 } });
    assert.deepEqual(c.audit, { kind: "file", path: "/work/rel/audit.log" }, "flag paths are relative to the cwd");
  });

  it("is frozen all the way down", () => {
    const c = resolveWith({ file: AUTH_FILE });
    assert.ok(Object.isFrozen(c) && Object.isFrozen(c.auth) && Object.isFrozen(c.auth?.publicKeyFiles) && Object.isFrozen(c.limits));
    assert.throws(() => ((c.auth!.publicKeyFiles as string[]).push("x")), TypeError);
  });

  it("refuses unknown keys and bad values with one line naming the key as its source spells it", () => {
    refuses({ file: { auht: {} } }, /^config auht: unknown key$/);
    refuses({ file: { auth: { isuer: "x" } } }, /^config auth\.isuer: unknown key$/);
    refuses({ file: { ...AUTH_FILE, auth: { ...AUTH_FILE.auth, issuer: "" } } }, /^config auth\.issuer: must be a non-empty string$/);
    refuses({ file: { ...AUTH_FILE, auth: { ...AUTH_FILE.auth, algorithms: ["none"] } } }, /^config auth\.algorithms: unsupported algorithm "none"/);
    refuses({ file: { ...AUTH_FILE, auth: { ...AUTH_FILE.auth, maxLifetime: "2d" } } }, /^config auth\.maxLifetime: must be/);
    refuses({ file: { ...AUTH_FILE, limits: { burst: 0 } } }, /^config limits\.burst: must be an integer from 1/);
    refuses({ file: { ...AUTH_FILE, insecure: "yes" } }, /^config insecure: must be true or false$/);
    refuses({ file: { ...AUTH_FILE, agentTimeouts: { cpux: "1s" } } }, /^config agentTimeouts\.cpux: unknown name/);
    refuses({ file: { tls: "x" } }, /^config tls: must be a mapping/);
    refuses({ env: { GOPSD_LIMITS_RATE_PER_SECOND: "fast" } }, /^GOPSD_LIMITS_RATE_PER_SECOND: must be a number/);
    refuses({ env: { GOPSD_AUTH_ISUER: "x" } }, /^GOPSD_AUTH_ISUER: unknown variable/);
    refuses({ argv: ["--limits-burst", "1.5"] }, /^--limits-burst: must be an integer/);
    refuses({ argv: ["--limits-idle-timeout", "1500ms"] }, /^--limits-idle-timeout: must be a whole number of seconds/);
    refuses({ argv: ["--limits-max-connections", "4", "--limits-max-connections-per-source", "8"] }, /^--limits-max-connections-per-source: must not exceed limits\.maxConnections \(4\)/);
    refuses({ argv: ["--agent-timeout", "cpu=soon"] }, /^--agent-timeout cpu: "soon" is not a duration/);
    refuses({ argv: ["--listen", "nowhere"] }, /^--listen: "nowhere" is not host:port/);
    assert.throws(() => parseFlags(["--bogus"]), ConfigError);
  });

  it("--version is its own request; --help's size settings name their unit as the value is read (bytes)", () => {
    const v = parseFlags(["--version"]);
    assert.ok(!v.help && v.version);
    const plain = parseFlags([]);
    assert.ok(!plain.help && !plain.version);
    const lines = USAGE.split("\n");
    for (const flag of ["--limits-max-session-memory VALUE", "--limits-max-request-bytes VALUE"]) {
      const at = lines.findIndex((l) => l.startsWith(`  ${flag}`));
      assert.ok(at >= 0, flag);
      const help = lines[at + 1]!;
      const def = /default (\d+)/.exec(help)?.[1];
      assert.ok(def !== undefined, help);
      // The default printed is the value a user would write: in bytes, at least the 1 KiB the schema requires.
      assert.ok(Number(def) >= 1024, help);
    }
    assert.match(lines[lines.findIndex((l) => l.startsWith("  --limits-max-session-memory")) + 1]!, /in bytes, rounded up to whole MiB \(default 4194304, 4 MiB\)/);
    assert.equal(resolveWith({ argv: ["--insecure", "--limits-max-session-memory", "4194304"] }).limits.maxSessionMemoryBytes, 4 << 20);
  });

  it("checks the file against its schema: list items name their list, sections and lists have their shape, quoted numbers count", () => {
    refuses({ file: { ...AUTH_FILE, auth: { ...AUTH_FILE.auth, publicKeyFiles: ["a.pem", ""] } } }, /^config auth\.publicKeyFiles: must be a list of non-empty strings$/);
    refuses({ file: { ...AUTH_FILE, auth: { ...AUTH_FILE.auth, publicKeyFiles: "a.pem" } } }, /^config auth\.publicKeyFiles: must be a list$/);
    refuses({ file: { ...AUTH_FILE, limits: null } }, /^config limits: must be a mapping of keys$/);
    refuses({ file: { ...AUTH_FILE, limits: [] } }, /^config limits: must be a mapping of keys$/);
    refuses({ file: { ...AUTH_FILE, agentTimeouts: ["cpu=1s"] } }, /^config agentTimeouts: must be a mapping of name: duration$/);
    refuses({ file: { ...AUTH_FILE, agentTimeouts: { cpu: true } } }, /^config agentTimeouts\.cpu: must be a duration such as 45s$/);
    refuses({ file: { ...AUTH_FILE, auth: { ...AUTH_FILE.auth, clockSkew: 1.5 } } }, /^config auth\.clockSkew: must be a whole number of seconds/);
    const c = resolveWith({ file: { ...AUTH_FILE, limits: { burst: "7", ratePerSecond: 2.5 }, auth: { ...AUTH_FILE.auth, clockSkew: 10 } } });
    assert.equal(c.limits.burst, 7);
    assert.equal(c.limits.ratePerSec, 2.5);
    assert.equal(c.auth?.clockToleranceSec, 10);
  });

  it("needs complete auth and TLS sections", () => {
    refuses({ file: { auth: { issuer: "i", audience: "a", hsSecretFile: "/s" } } }, /^auth\.algorithms \(--auth-algorithms, GOPSD_AUTH_ALGORITHMS\): required/);
    refuses({ file: { auth: { algorithms: ["HS256"], audience: "a", hsSecretFile: "/s" } } }, /^auth\.issuer .*: required/);
    refuses({ file: { auth: { algorithms: ["HS256"], issuer: "i", audience: "a" } } }, /^auth: needs a key/);
    refuses({ file: { auth: { ...AUTH_FILE.auth, algorithms: ["RS256", "HS256"] } } }, /HS256 is allowed but no auth\.hsSecretFile/);
    refuses({ file: { ...AUTH_FILE, tls: { cert: "/c.pem" } } }, /^tls\.key .*: required when TLS is configured/);
    refuses({ file: { ...AUTH_FILE, audit: { file: "/a", stdout: true } } }, /^config audit\.stdout: choose one/);
  });

  it("start-up rules: non-loopback needs TLS and auth, --insecure does not cover it, --dev is loopback only", () => {
    refuses({ argv: ["--listen", "0.0.0.0:0"] }, /^--listen: refusing to listen on non-loopback address 0\.0\.0\.0:0 without TLS .* and auth/);
    refuses({ argv: ["--listen", "0.0.0.0:0", "--insecure"] }, /without TLS .* and auth/);
    refuses({ argv: ["--listen", "10.0.0.1:4677"], file: AUTH_FILE }, /^--listen: refusing .* without TLS \(tls\.cert, tls\.key\);/);
    refuses({ argv: ["--listen", "[::]:4677", "--tls-cert", "c", "--tls-key", "k"] }, /without auth \(auth\.\*\)/);
    refuses({ argv: ["--listen", "my-host:4677", "--dev"] }, /dev mode serves loopback or a unix socket only/);
    refuses({ argv: ["--dev"], file: AUTH_FILE }, /^--dev: dev mode configures its own key; remove auth\.algorithms or dev$/);
    const remote = resolveWith({ argv: ["--listen", "0.0.0.0:4677", "--tls-cert", "c.pem", "--tls-key", "k.pem"], file: AUTH_FILE });
    assert.equal(remote.listen, "0.0.0.0:4677");
    assert.deepEqual(remote.tls, { cert: "/work/c.pem", key: "/work/k.pem" });
    assert.equal(resolveWith({ file: AUTH_FILE }).listen, "127.0.0.1:4677", "loopback with auth needs no --insecure");
  });

  it("--dev configures HS256 auth with the shared dev key path", () => {
    const c = resolveWith({ argv: ["--dev"], env: { XDG_CONFIG_HOME: "/x" } });
    assert.deepEqual(c.auth, { algorithms: ["HS256"], hsSecretFile: "/x/gopsctl/dev/hs256.key", issuer: "gopsctl-dev", audience: "gopsd" });
  });

  it("parses YAML and JSON by extension, refusing duplicates, other formats and non-mappings", () => {
    assert.deepEqual(parseConfigText("listen: unix:/s\nauth:\n  issuer: i\n", "a.yaml"), { listen: "unix:/s", auth: { issuer: "i" } });
    assert.deepEqual(parseConfigText('{"dev": true}', "a.json"), { dev: true });
    assert.deepEqual(parseConfigText("", "empty.yml"), {});
    assert.throws(() => parseConfigText("a: 1\na: 2\n", "dup.yaml"), /^ConfigError: config dup\.yaml: not valid YAML/);
    assert.throws(() => parseConfigText("[1]", "list.json"), /top level must be a mapping/);
    assert.throws(() => parseConfigText("a=1", "x.toml"), /unknown format "\.toml"/);
  });

  it("accepts the annotated example config in examples/gopsd.yaml", async () => {
    const url = new URL("../examples/gopsd.yaml", import.meta.url);
    const doc = parseConfigText(await readFile(url, "utf8"), url.pathname);
    const c = resolveConfig({ flags: new Map(), env: {}, file: { path: "/etc/gopsd/gopsd.yaml", doc }, cwd: "/", defaultHostName: "h" });
    assert.equal(c.listen, "0.0.0.0:4677");
    assert.deepEqual(c.tls, { cert: "/etc/gopsd/tls/gopsd.pem", key: "/etc/gopsd/tls/gopsd-key.pem", clientCa: "/etc/gopsd/tls/clients-ca.pem" });
    assert.deepEqual(c.auth?.publicKeyFiles, ["issuer-2024:/etc/gopsd/keys/issuer-2024.pem", "issuer-2025:/etc/gopsd/keys/next.pem"]);
    assert.deepEqual(c.agentTimeouts, { connectMs: 3000, deadlineMs: { CPUProfile: 45_000 } });
  });
});

describe("gopsd config: containers", () => {
  const base = ["--listen", "unix:/run/gopsd.sock"];
  it("the /proc to read: --proc-root, else GOPSD_PROC_ROOT, else HOST_PROC (gops' variable), else none", () => {
    assert.equal(resolveWith({ argv: base }).procRoot, undefined);
    assert.equal(resolveWith({ argv: base, env: { HOST_PROC: "/host/proc" } }).procRoot, "/host/proc");
    assert.equal(resolveWith({ argv: base, env: { HOST_PROC: "/host/proc", GOPSD_PROC_ROOT: "/hp" } }).procRoot, "/hp");
    assert.equal(resolveWith({ argv: [...base, "--proc-root", "hp"], env: { HOST_PROC: "/host/proc" } }).procRoot, "/work/hp");
  });
  it("the runtimes' state roots for names, from flags or the file's containers section", () => {
    const c = resolveWith({ argv: [...base, "--containers-kubelet-root", "/host/var/lib/kubelet"], file: { containers: { dockerRoot: "/host/docker" } } });
    assert.deepEqual({ ...c.containers }, { dockerRoot: "/host/docker", kubeletRoot: "/host/var/lib/kubelet" });
    assert.deepEqual({ ...resolveWith({ argv: base }).containers }, {});
  });
});
