// The pprof.* keys of the gopsd config (issue 11): the probe switch and endpoints declared for muxes mounted elsewhere.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError, parseFlags, resolveConfig, type GopsdConfig } from "./config.js";

function resolveWith(opts: { argv?: string[]; env?: Record<string, string>; file?: Record<string, unknown> }): GopsdConfig {
  const flags = parseFlags(["--listen", "unix:/run/gopsd.sock", ...(opts.argv ?? [])]);
  assert.ok(!flags.help);
  return resolveConfig({
    flags: flags.values,
    env: opts.env ?? {},
    ...(opts.file ? { file: { path: "/etc/gopsd/gopsd.yaml", doc: opts.file } } : {}),
    cwd: "/work",
    defaultHostName: "box-1",
  });
}

describe("gopsd config: pprof", () => {
  it("defaults: no probing on listings, nothing declared", () => {
    assert.deepEqual(resolveWith({}).pprof, { probeOnList: false, endpoints: [] });
  });

  it("from the file, a variable or a flag (JSON), the higher source winning", () => {
    const file = { pprof: { probeOnList: true, endpoints: [{ exe: "/usr/bin/api", port: 6060, prefix: "/admin" }, { pid: 42, port: 8080 }] } };
    assert.deepEqual(resolveWith({ file }).pprof, {
      probeOnList: true,
      endpoints: [{ exe: "/usr/bin/api", port: 6060, prefix: "/admin" }, { pid: 42, port: 8080, prefix: "" }],
    });
    const env = { GOPSD_PPROF_PROBE_ON_LIST: "false", GOPSD_PPROF_ENDPOINTS: '[{"cmdline":"worker","port":7000}]' };
    assert.deepEqual(resolveWith({ file, env }).pprof, { probeOnList: false, endpoints: [{ cmdline: "worker", port: 7000, prefix: "" }] });
    const argv = ["--pprof-probe-on-list", "--pprof-endpoints", '[{"pid":7,"port":1}]'];
    assert.deepEqual(resolveWith({ argv, env }).pprof, { probeOnList: true, endpoints: [{ pid: 7, port: 1, prefix: "" }] });
  });

  it("probeExe: absolute paths (a trailing * matches any rest), from a list or a comma-separated flag", () => {
    assert.deepEqual(resolveWith({ file: { pprof: { probeExe: ["/usr/bin/api", "/opt/svc/*"] } } }).pprof.probeExe, ["/usr/bin/api", "/opt/svc/*"]);
    assert.deepEqual(resolveWith({ argv: ["--pprof-probe-exe", "/a,/b*"] }).pprof.probeExe, ["/a", "/b*"]);
    assert.throws(() => resolveWith({ argv: ["--pprof-probe-exe", "api"] }), /--pprof-probe-exe: "api" is not an absolute path/);
  });

  it("refuses entries without a matcher, bad ports and prefixes, unknown keys and bad JSON, in one line", () => {
    const refuses = (endpoints: unknown, re: RegExp) =>
      assert.throws(
        () => resolveWith({ file: { pprof: { endpoints } } }),
        (e: unknown) => e instanceof ConfigError && !e.message.includes("\n") && re.test(e.message),
      );
    refuses([{ port: 6060 }], /^config pprof\.endpoints: entry 1: needs pid, exe or cmdline/);
    refuses([{ pid: 1, port: 70000 }], /port must be an integer from 1 to 65535/);
    refuses([{ pid: 1, port: 80, prefix: "/admin/" }], /prefix must be/);
    refuses([{ pid: 1, port: 80, prefix: "/a?b" }], /prefix must be/);
    refuses([{ pid: 1, port: 80, host: "10.0.0.1" }], /unknown key host/);
    refuses([{ exe: "relative/path", port: 80 }], /exe must be an absolute path/);
    refuses({ pid: 1 }, /must be a list/);
    assert.throws(() => resolveWith({ argv: ["--pprof-endpoints", "[{"] }), /--pprof-endpoints: must be a JSON list/);
  });
});
