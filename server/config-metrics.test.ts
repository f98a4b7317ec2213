import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError, parseFlags, resolveConfig, type GopsdConfig } from "./config.js";

const TLS = { tls: { cert: "/t/c.pem", key: "/t/k.pem" } };
const AUTH = { auth: { algorithms: ["RS256"], publicKeyFiles: ["/k/a.pem"], issuer: "https://iss", audience: "gopsd" } };

function resolveWith(opts: { argv?: string[]; env?: Record<string, string>; file?: Record<string, unknown> } = {}): GopsdConfig {
  const flags = parseFlags(opts.argv ?? []);
  assert.ok(!flags.help);
  return resolveConfig({
    flags: flags.values,
    env: opts.env ?? {},
    ...(opts.file ? { file: { path: "/etc/gopsd/gopsd.yaml", doc: opts.file } } : {}),
    cwd: "/work",
    defaultHostName: "box-1",
  });
}

function refuses(opts: Parameters<typeof resolveWith>[0], message: RegExp) {
  assert.throws(
    () => resolveWith(opts),
    (e: unknown) => (assert.ok(e instanceof ConfigError, String(e)), assert.doesNotMatch(e.message, /\n/), assert.match(e.message, message), true),
  );
}

describe("metrics config", () => {
  it("no metrics port unless configured; flag, variable and file keys; defaults 15 s and 1000", () => {
    assert.equal(resolveWith({ argv: ["--insecure"] }).metrics, undefined);
    assert.deepEqual({ ...resolveWith({ argv: ["--insecure", "--metrics-listen", "127.0.0.1:9677"] }).metrics }, {
      listen: "127.0.0.1:9677",
      intervalMs: 15_000,
      maxProcesses: 1000,
    });
    const env = resolveWith({ argv: ["--insecure"], env: { GOPSD_METRICS_LISTEN: "unix:/run/gopsd/m.sock", GOPSD_METRICS_INTERVAL: "30s", GOPSD_METRICS_MAX_PROCESSES: "50" } });
    assert.deepEqual({ ...env.metrics }, { listen: "unix:/run/gopsd/m.sock", intervalMs: 30_000, maxProcesses: 50 });
    const file = resolveWith({ argv: ["--insecure", "--metrics-interval", "5s"], file: { metrics: { listen: "[::1]:9677", interval: "1m", maxProcesses: 7 } } });
    assert.deepEqual({ ...file.metrics }, { listen: "[::1]:9677", intervalMs: 5_000, maxProcesses: 7 });
  });

  it("a non-loopback metrics address needs TLS, and auth or a client CA", () => {
    refuses({ argv: ["--insecure", "--metrics-listen", "0.0.0.0:9677"] }, /^--metrics-listen: refusing to serve metrics on non-loopback address 0\.0\.0\.0:9677 without TLS/);
    refuses({ argv: ["--metrics-listen", "0.0.0.0:9677"], file: { listen: "unix:/run/g.sock", ...TLS } }, /without auth \(auth\.\*, a token with gops:metrics\) or tls\.clientCa$/);
    assert.equal(resolveWith({ argv: ["--metrics-listen", "0.0.0.0:9677"], file: { ...TLS, ...AUTH, listen: "0.0.0.0:4677" } }).metrics?.listen, "0.0.0.0:9677");
    assert.equal(resolveWith({ argv: ["--metrics-listen", "10.1.2.3:9677"], file: { tls: { ...TLS.tls, clientCa: "/t/ca.pem" }, listen: "unix:/run/g.sock" } }).metrics?.listen, "10.1.2.3:9677");
    refuses({ argv: ["--dev", "--metrics-listen", "0.0.0.0:9677"] }, /dev mode serves loopback or a unix socket only/);
  });

  it("refuses bad values and settings without metrics.listen, naming the key", () => {
    refuses({ argv: ["--insecure", "--metrics-interval", "10s"] }, /^--metrics-interval: needs metrics\.listen \(--metrics-listen, GOPSD_METRICS_LISTEN\)$/);
    refuses({ argv: ["--insecure", "--metrics-listen", "127.0.0.1:1", "--metrics-interval", "500ms"] }, /^--metrics-interval: must be a whole number of seconds/);
    refuses({ argv: ["--insecure", "--metrics-listen", "127.0.0.1:1", "--metrics-max-processes", "0"] }, /^--metrics-max-processes: must be an integer from 1/);
    refuses({ argv: ["--insecure", "--metrics-listen", "nowhere"] }, /^--metrics-listen: "nowhere" is not host:port or unix:\/path$/);
    refuses({ argv: ["--insecure"], file: { metrics: { listen: "127.0.0.1:1", port: 3 } } }, /^config metrics\.port: unknown key$/);
  });
});
