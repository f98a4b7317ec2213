// gopsctl reaching a gopsd through an SSH tunnel to a real OpenSSH sshd, configured as a user would in a fleet file
// (`ssh:` with host, port, user, identityFile, knownHostsFile, forward): ps and stack over the tunnel, and a changed
// host key refused with one clear error line.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { runCli, startFixture, startGopsd, type CliResult, type Fixture, type Gopsd } from "./harness.js";
import { startSshd, type Sshd } from "./sshd.js";

const HOST = "tunnelled";

describe("gopsctl --host over an ssh: fleet entry", { timeout: 120_000 }, () => {
  let dir: string;
  let fleetFile: string;
  let wrongKeyFleetFile: string;
  let fixture: Fixture;
  let gopsd: Gopsd;
  let sshd: Sshd;

  const cli = (file: string, args: string[]): Promise<CliResult> =>
    // HOME is a fresh dir: no ~/.ssh/config or ~/.ssh/known_hosts of the user's play a part; no ssh-agent either.
    runCli(["--fleet", file, "--host", HOST, ...args], { cwd: dir, timeoutMs: 60_000, env: { HOME: dir, SSH_AUTH_SOCK: "" } });

  const fleetYaml = (knownHostsFile: string) =>
    [
      "hosts:",
      `  - name: ${HOST}`,
      "    ssh:",
      `      host: ${sshd.host}`,
      `      port: ${sshd.port}`,
      `      user: ${sshd.user}`,
      `      identityFile: ${sshd.identityFile}`,
      `      knownHostsFile: ${knownHostsFile}`,
      `      forward: "${gopsd.address}"`,
      "",
    ].join("\n");

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "gopsctl-ssh-cli-"));
    [fixture, gopsd, sshd] = await Promise.all([startFixture("agentprog"), startGopsd({ args: ["--host-name", HOST] }), startSshd()]);
    fleetFile = path.join(dir, "fleet.yaml");
    await writeFile(fleetFile, fleetYaml(sshd.knownHostsFile));

    // A known_hosts naming this sshd's [127.0.0.1]:port with a key it does not have.
    const otherKey = path.join(dir, "other_host_ed25519");
    const keygen = spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "not-this-host", "-f", otherKey], { encoding: "utf8" });
    assert.equal(keygen.status, 0, keygen.stderr);
    const otherPub = (await readFile(`${otherKey}.pub`, "utf8")).split(" ").slice(0, 2).join(" ");
    assert.notEqual(otherPub, sshd.hostPublicKey);
    const wrongKnownHosts = path.join(dir, "known_hosts.wrong");
    await writeFile(wrongKnownHosts, `[127.0.0.1]:${sshd.port} ${otherPub}\n`);
    wrongKeyFleetFile = path.join(dir, "fleet-wrong-key.yaml");
    await writeFile(wrongKeyFleetFile, fleetYaml(wrongKnownHosts));
  });

  after(async () => {
    await Promise.all([fixture?.stop(), gopsd?.stop(), sshd?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("ps --json lists the fixture through the tunnel, answered by the tunnelled gopsd", async () => {
    const before = sshd.stderr().match(/Accepted publickey/g)?.length ?? 0;
    const res = await cli(fleetFile, ["ps", "--json"]);
    assert.equal(res.code, 0, res.stderr);
    const list = JSON.parse(res.stdout) as { host: string; processes: { pid: number }[] };
    assert.equal(list.host, HOST);
    assert.ok(list.processes.some((p) => p.pid === fixture.pid), res.stdout);
    assert.ok((sshd.stderr().match(/Accepted publickey/g)?.length ?? 0) > before, "the CLI logged in to the sshd");
  });

  it("stack PID prints the fixture's goroutines through the tunnel", async () => {
    const res = await cli(fleetFile, ["stack", String(fixture.pid)]);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /^goroutine 1 \[/m);
  });

  it("a changed host key in known_hosts: exit 8 and one stderr line naming the problem", async () => {
    const res = await cli(wrongKeyFleetFile, ["ps", "--json"]);
    assert.equal(res.code, 8, `exit ${res.code} (UNAUTHENTICATED is exit 8)\n${res.stderr}`);
    assert.equal(res.stdout, "");
    const lines = res.stderr.split("\n").filter((l) => l !== "");
    assert.equal(lines.length, 1, res.stderr);
    assert.match(lines[0]!, new RegExp(`^gopsctl: ssh to .*host key for \\[127\\.0\\.0\\.1\\]:${sshd.port} has CHANGED.*refusing to connect`));
  });
});
