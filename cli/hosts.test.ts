import assert from "node:assert/strict";
import { test } from "node:test";
import { parseInventory } from "../client/fleet/inventory.js";
import { UsageError } from "./errors.js";
import { isAcrossHosts, resolveTarget } from "./hosts.js";
import { parseCommandLine as parseArgv } from "./commands/index.js";

const INVENTORY = parseInventory(
  [
    "hosts:",
    "  - { name: web-1, address: 10.0.0.1:4677, labels: { role: web }, tls: { ca: /ca.pem }, tokenFile: /t }",
    "  - { name: web-2, address: 10.0.0.2:4677, labels: { role: web } }",
    "  - { name: db-1, ssh: { host: 10.0.1.5 }, labels: { role: db } }",
  ].join("\n"),
  { file: "/etc/fleet.yaml", home: "/home/u", username: "u", sshConfigText: "Host bastion\n  HostName 10.9.9.9\n" },
);

async function target(argv: string[], env: Record<string, string> = {}) {
  const loaded: (string | undefined)[] = [];
  const t = await resolveTarget(parseArgv(argv, env), env, {}, async (path) => {
    loaded.push(path);
    return INVENTORY;
  });
  return { t, loaded };
}

test("--hosts, -l/--selector and --all run across hosts; --host alone does not", () => {
  for (const argv of [["--hosts", "a"], ["-l", "role=web"], ["--selector=x"], ["--all"]]) assert.ok(isAcrossHosts(parseArgv(argv, {})), argv.join(" "));
  assert.equal(isAcrossHosts(parseArgv(["--host", "web-1"], {})), false);
});

test("selection across hosts: names, labels, every host; the fleet file from --fleet or GOPSCTL_FLEET", async () => {
  const names = async (argv: string[], env?: Record<string, string>) => {
    const { t } = await target(argv, env);
    assert.equal(t.kind, "fleet");
    return t.kind === "fleet" ? [t.across, ...t.hosts.map((h) => h.name)] : [];
  };
  assert.deepEqual(await names(["--all"]), [true, "web-1", "web-2", "db-1"]);
  assert.deepEqual(await names(["-l", "role=web"]), [true, "web-1", "web-2"]);
  assert.deepEqual(await names(["--hosts", "db-1,web-2"]), [true, "db-1", "web-2"]);
  assert.deepEqual(await names(["--hosts", "web-2", "--hosts", "web-1"]), [true, "web-2", "web-1"]);
  assert.deepEqual(await names(["--host", "web-1", "--hosts", "bastion"]), [true, "web-1", "bastion"], "~/.ssh/config hosts too");
  assert.deepEqual((await target(["--all", "--fleet", "/f.yaml"])).loaded, ["/f.yaml"]);
  assert.deepEqual((await target(["--all"], { GOPSCTL_FLEET: "/env.yaml" })).loaded, ["/env.yaml"]);
  assert.deepEqual((await target(["--all"])).loaded, [undefined]);
  await assert.rejects(target(["--hosts", "web-9"]), /unknown host "web-9".*did you mean web-1, web-2/);
});

test("--host NAME is the fleet host with its settings; an address (or an unknown name) is a gopsd as before", async () => {
  const one = (await target(["--host", "web-1"])).t;
  assert.equal(one.kind, "fleet");
  if (one.kind === "fleet") {
    assert.equal(one.across, false);
    assert.deepEqual(one.hosts[0]!.tls, { ca: "/ca.pem" });
  }
  const viaEnv = (await target([], { GOPSCTL_HOST: "db-1" })).t;
  assert.equal(viaEnv.kind === "fleet" && viaEnv.hosts[0]!.ssh?.host, "10.0.1.5");
  const addr = await target(["--host", "10.0.0.1:4677"]);
  assert.deepEqual(addr.t, { kind: "remote", target: "10.0.0.1:4677", tls: undefined, token: undefined });
  assert.deepEqual(addr.loaded, [], "an address never reads the fleet file");
  assert.deepEqual((await target(["--host", "gopsd.internal"])).t, { kind: "remote", target: "gopsd.internal", tls: undefined, token: undefined });
  assert.deepEqual((await target([])).t, { kind: "local" });
});

test("connection flags do not mix with fleet hosts; --host ADDR does not mix with a selection", async () => {
  const usage = (argv: string[], message: RegExp) =>
    assert.rejects(target(argv), (e: unknown) => e instanceof UsageError && message.test(e.message), argv.join(" "));
  await usage(["--all", "--token", "t"], /^flag --token does not apply to fleet hosts: set tls, token/);
  await usage(["--host", "web-1", "--ca", "x.pem"], /^flag --ca does not apply to fleet host web-1/);
  await usage(["--host", "1.2.3.4:1", "--all"], /is an address: with --hosts, --selector or --all name fleet hosts only/);
});
