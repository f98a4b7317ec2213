import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_FORWARD, defaultInventoryPath, parseInventory } from "./inventory.js";

const ctx = { file: "/etc/gopsctl/fleet.yaml", home: "/home/op", username: "op" };

const fleetYaml = `
defaults:
  labels: { env: prod }
  tls: { ca: ca.pem }
  tokenFile: ~/.config/gopsctl/token
  ssh: { user: ops, knownHostsFile: kh }
hosts:
  - name: web-1
    address: 10.0.0.11:4677
    labels: { role: web }
  - name: web-2
    address: unix:/run/gopsd.sock
    labels: { role: web, env: staging }
    tls: { cert: c.pem, key: k.pem, serverName: web-2.internal }
    tokenEnv: WEB2_TOKEN
  - name: db-1
    ssh: { host: 10.0.1.5, port: 2222, identityFile: id_db, jumpHost: jumper@bastion:2200, forward: unix:/run/gopsd.sock }
    labels: { role: db }
`;

describe("inventory", () => {
  it("parses hosts and merges defaults (labels per key, tls per field, token replaced, ssh per field)", () => {
    const inv = parseInventory(fleetYaml, ctx);
    assert.deepEqual(inv.hosts.map((h) => h.name), ["web-1", "web-2", "db-1"]);
    const [w1, w2, db] = inv.hosts;
    assert.deepEqual(w1!.labels, { env: "prod", role: "web" });
    assert.equal(w1!.address, "10.0.0.11:4677");
    assert.deepEqual(w1!.tls, { ca: "/etc/gopsctl/ca.pem" });
    assert.deepEqual(w1!.token, { kind: "file", path: "/home/op/.config/gopsctl/token" });
    assert.deepEqual(w2!.labels, { env: "staging", role: "web" });
    assert.deepEqual(w2!.tls, { ca: "/etc/gopsctl/ca.pem", cert: "/etc/gopsctl/c.pem", key: "/etc/gopsctl/k.pem", serverName: "web-2.internal" });
    assert.deepEqual(w2!.token, { kind: "env", name: "WEB2_TOKEN" });
    assert.equal(db!.address, undefined);
    assert.deepEqual(db!.ssh, {
      host: "10.0.1.5",
      port: 2222,
      user: "ops",
      identityFiles: ["/etc/gopsctl/id_db"],
      knownHostsFiles: ["/etc/gopsctl/kh"],
      forward: "unix:/run/gopsd.sock",
      jump: { host: "bastion", port: 2200, user: "jumper", identityFiles: ["/etc/gopsctl/id_db"] },
    });
  });

  it("accepts hosts as a mapping and defaults the ssh forward", () => {
    const inv = parseInventory("hosts:\n  a: { address: 127.0.0.1:1 }\n  b: { ssh: {} }\n", ctx);
    assert.deepEqual(inv.hosts.map((h) => h.name), ["a", "b"]);
    assert.equal(inv.hosts[1]!.ssh!.forward, DEFAULT_FORWARD);
    assert.equal(inv.hosts[1]!.ssh!.user, "op");
    assert.deepEqual(inv.hosts[1]!.ssh!.knownHostsFiles, ["/home/op/.ssh/known_hosts"]);
  });

  const bad: [string, RegExp][] = [
    ["hosts:\n  - name: web-1\n    adress: 1.2.3.4:5\n", /host "web-1": unknown key "adress"/],
    ["hosts:\n  - name: web-1\n    address: nope\n", /host "web-1": "address" must be host:port or unix:\/path/],
    ["hosts:\n  - name: web-1\n    address: h:70000\n", /host "web-1": "address"/],
    ["hosts:\n  - name: w\n    address: h:1\n    ssh: {}\n", /host "w": has both "address" and "ssh"/],
    ["hosts:\n  - name: w\n", /host "w": needs "address"/],
    ["hosts:\n  - name: w\n    ssh: { prot: 22 }\n", /host "w": ssh: unknown key "prot"/],
    ["hosts:\n  - name: w\n    ssh: { port: abc }\n", /host "w": "ssh.port" must be an integer/],
    ["hosts:\n  - name: w\n    address: h:1\n    token: a\n    tokenFile: b\n", /host "w": only one of token, tokenFile, tokenEnv/],
    ["hosts:\n  - name: w\n    address: h:1\n    tls: { cert: c.pem }\n", /host "w": "tls.cert" and "tls.key" go together/],
    ["hosts:\n  - name: w\n    address: h:1\n    labels: { env: [a] }\n", /host "w": label "env" must be a string/],
    ["hosts:\n  - name: w\n    address: h:1\n  - name: w\n    address: h:2\n", /host "w": is listed twice/],
    ["defaults:\n  adress: x\nhosts: []\n", /defaults: unknown key "adress"/],
    ["host:\n  - name: w\n", /unknown top-level key "host"/],
    ["hosts: [\n", /not valid YAML/],
    ["hosts:\n  - name: w\n    ssh: { jumpHost: 'a,b' }\n", /only one jump host/],
    ["hosts:\n  - name: w\n    address: h:1\n    tls: [ca.pem]\n", /host "w": "tls" must be a mapping/],
    ["hosts:\n  - name: w\n    address: h:1\n    tls: { ca: c.pem, crt: x }\n", /host "w": tls: unknown key "crt" \(expected one of ca, cert, key, serverName\)/],
    ["defaults:\n  labels: { 'bad key': x }\nhosts: []\n", /defaults: label "bad key" is not a valid label name/],
    ["hosts:\n  - name: w\n    address: h:1\n    tokenEnv: ''\n", /host "w": "tokenEnv" must be a non-empty string/],
  ];
  for (const [text, want] of bad) {
    it(`rejects with one line: ${want.source}`, () => {
      assert.throws(
        () => parseInventory(text, ctx),
        (e: Error) => {
          assert.match(e.message, want);
          assert.ok(e.message.startsWith("/etc/gopsctl/fleet.yaml: "), e.message);
          assert.ok(!e.message.includes("\n"), `one line: ${e.message}`);
          return true;
        },
      );
    });
  }

  it("resolves hosts named only in ~/.ssh/config (HostName, User, Port, IdentityFile, ProxyJump)", () => {
    const sshConfigText = [
      "Host bastion",
      "  HostName 192.0.2.1",
      "  User jump",
      "  Port 2201",
      "Host web-*",
      "  User deploy",
      "Host web-9 web-10",
      "  HostName 10.9.9.9",
      "  Port 2222",
      "  IdentityFile ~/.ssh/web9",
      "  ProxyJump bastion",
      "Host *",
      "  User fallback",
    ].join("\n");
    const inv = parseInventory("defaults:\n  labels: { env: prod }\nhosts: []\n", { ...ctx, sshConfigText });
    assert.deepEqual(inv.knownNames(), ["bastion", "web-9", "web-10"]);
    const web9 = inv.resolve("web-9");
    assert.ok(web9);
    assert.equal(web9.source, "ssh-config");
    assert.deepEqual(web9.labels, { env: "prod" });
    assert.deepEqual(web9.ssh, {
      host: "10.9.9.9",
      port: 2222,
      user: "deploy",
      identityFiles: ["/home/op/.ssh/web9"],
      knownHostsFiles: ["/home/op/.ssh/known_hosts"],
      forward: DEFAULT_FORWARD,
      jump: { host: "192.0.2.1", port: 2201, user: "jump", identityFiles: ["/home/op/.ssh/web9"] },
    });
    assert.equal(inv.resolve("web-*"), undefined);
    assert.equal(inv.resolve("nope"), undefined);
  });

  it("applies ~/.ssh/config to fleet ssh hosts, with fleet values winning", () => {
    const inv = parseInventory("hosts:\n  - name: db\n    ssh: { user: explicit }\n", {
      ...ctx,
      sshConfigText: "Host db\n  HostName 10.1.1.1\n  User fromconfig\n  Port 2022\n",
    });
    assert.equal(inv.hosts[0]!.ssh!.host, "10.1.1.1");
    assert.equal(inv.hosts[0]!.ssh!.user, "explicit");
    assert.equal(inv.hosts[0]!.ssh!.port, 2022);
  });

  it("finds the default path from XDG_CONFIG_HOME, else ~/.config", () => {
    assert.equal(defaultInventoryPath({ XDG_CONFIG_HOME: "/x" }, "/home/op"), "/x/gopsctl/fleet.yaml");
    assert.equal(defaultInventoryPath({}, "/home/op"), "/home/op/.config/gopsctl/fleet.yaml");
    assert.equal(defaultInventoryPath({ XDG_CONFIG_HOME: "rel" }, "/home/op"), "/home/op/.config/gopsctl/fleet.yaml");
  });
});
