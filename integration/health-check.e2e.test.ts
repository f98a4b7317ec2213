// gopsd --health-check (server/health-check.ts): the address it asks for a listen address, and the check itself
// against a real gopsd with TLS and token auth (health needs no token; the certificate is not verified).
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { after, describe, it } from "node:test";
import { secureSetup } from "../bench/secure-setup.js";
import { startGopsd } from "./harness.js";
import { loadConfig, type GopsdConfig } from "../server/config.js";
import { checkHealth, healthCheckTarget } from "../server/health-check.js";

describe("healthCheckTarget", () => {
  it("asks a wildcard listen address on loopback, any other address as it is", () => {
    assert.equal(healthCheckTarget("0.0.0.0:4677"), "127.0.0.1:4677");
    assert.equal(healthCheckTarget("[::]:4677"), "[::1]:4677");
    assert.equal(healthCheckTarget("127.0.0.1:4677"), "127.0.0.1:4677");
    assert.equal(healthCheckTarget("[::1]:4677"), "[::1]:4677");
    assert.equal(healthCheckTarget("unix:/run/gopsd/gopsd.sock"), "unix:/run/gopsd/gopsd.sock");
  });
});

describe("checkHealth", () => {
  const secure = secureSetup("gopsctl-health-", ["gops:read"]);
  after(() => rmSync(secure.dir, { recursive: true, force: true }));
  const configFor = async (listen: string) =>
    (await loadConfig([...secure.gopsdArgs, "--listen", listen], {}, { cwd: secure.dir, hostName: "health-test" })) as GopsdConfig;

  it("passes against a gopsd serving TLS with token auth, fails once it is gone", async () => {
    const gopsd = await startGopsd({ args: secure.gopsdArgs });
    const config = await configFor(gopsd.address);
    const lines: string[] = [];
    try {
      assert.equal(await checkHealth(config, (l) => lines.push(l)), 0, lines.join("\n"));
    } finally {
      await gopsd.stop();
    }
    assert.equal(await checkHealth(config, (l) => lines.push(l)), 1);
    assert.match(lines.at(-1)!, /^health check: 127\.0\.0\.1:\d+: .*UNAVAILABLE/);
  });
});
