// End to end across a fleet: 16 gopsd hosts on loopback (each with its own host name) watching one shared Go
// fixture, one of them down and one hung (SIGSTOP), reached through the Fleet client; and a real OpenSSH sshd
// tunnelling to gopsd (known_hosts plain and hashed, wrong and unknown keys, a jump host, a unix socket forward,
// and the tunnel dying mid-stream).
import assert from "node:assert/strict";
import { createWriteStream } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { gunzipSync } from "node:zlib";
import { after, before, describe, it } from "node:test";
import { Status } from "nice-grpc-common";
import { connect } from "../client/connect.js";
import {
  captureBytes,
  findModule,
  openFleet,
  summarize,
  type Fleet,
  type HostResult,
  type ProcessWithBuildInfo,
} from "../client/fleet/index.js";
import { fingerprint, openSshTunnel } from "../client/ssh/index.js";
import { hashKnownHostsName } from "../client/ssh/known-hosts.testkit.js";
import { ProfileKind } from "../proto/index.js";
import { createToken } from "../common/token.testkit.js";
import { startFixture, startGopsds, type Fixture, type Gopsd } from "./harness.js";
import { startSshd, type Sshd } from "./sshd.js";

const HOSTS = 16;
const DOWN = "web-15";
const HUNG = "web-16";

async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

function byHost<T>(results: HostResult<T>[]): Record<string, HostResult<T>> {
  return Object.fromEntries(results.map((r) => [r.host, r]));
}

describe("fleet end to end", { timeout: 180_000 }, () => {
  let dir: string;
  let fixture: Fixture;
  let profiled: Fixture;
  const gopsds = new Map<string, Gopsd>();
  let unixGopsd: Gopsd;
  let authGopsd: Gopsd;
  let unixSocket: string;
  let sshd: Sshd;
  let fleetFile: string;
  const fleets: Fleet[] = [];

  const open = async (opts: Parameters<typeof openFleet>[0]) => {
    const fleet = await openFleet({ inventoryPath: fleetFile, sshConfigPath: null, ...opts });
    fleets.push(fleet);
    return fleet;
  };

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "gopsctl-fleet-"));
    unixSocket = path.join(dir, "gopsd.sock");
    [fixture, profiled, sshd] = await Promise.all([
      startFixture("agentprog"),
      startFixture("agentprog", { env: { FIXTURE_CPU_PROFILE_SECONDS: "4" } }),
      startSshd(),
    ]);
    const names = Array.from({ length: HOSTS }, (_, i) => `web-${i + 1}`);
    // A few at a time: each gopsd compiles its TypeScript at start, and the machine has 2 cores.
    const secretFile = path.join(dir, "hs256.secret");
    await writeFile(secretFile, "a-fleet-test-secret-of-at-least-32-bytes!!", { mode: 0o600 });
    const authArgs = ["--auth-algorithms", "HS256", "--auth-hs-secret-file", secretFile, "--auth-issuer", "t", "--auth-audience", "gopsd"];
    const specs = [
      ...names.map((name) => ["--host-name", name]),
      ["--host-name", "unix-host", "--listen", `unix:${unixSocket}`],
      ["--host-name", "web-auth", ...authArgs],
    ];
    const started = await startGopsds(specs);
    names.forEach((name, i) => gopsds.set(name, started[i]!));
    unixGopsd = started[HOSTS]!;
    authGopsd = started[HOSTS + 1]!;
    // Accepted by web-auth's gopsd, but without gops:read.
    const weakToken = createToken({ keyFile: secretFile, alg: "HS256", issuer: "t", audience: "gopsd", subject: "ci", scopes: ["gops:stack"], ttlSec: 600 });

    const ssh = (extra: Record<string, unknown>) =>
      JSON.stringify({
        host: sshd.host,
        port: sshd.port,
        user: sshd.user,
        identityFile: sshd.identityFile,
        knownHostsFile: sshd.knownHostsFile,
        ...extra,
      });
    const hashedKnownHosts = path.join(dir, "known_hosts.hashed");
    await writeFile(hashedKnownHosts, `${hashKnownHostsName(`[127.0.0.1]:${sshd.port}`, Buffer.alloc(20, 3))} ${sshd.hostPublicKey}\n`);
    const wrongKnownHosts = path.join(dir, "known_hosts.wrong");
    const otherKey = (await readFile(path.join(sshd.dir, "user_ed25519.pub"), "utf8")).split(" ").slice(0, 2).join(" ");
    await writeFile(wrongKnownHosts, `[127.0.0.1]:${sshd.port} ${otherKey}\n`);
    const emptyKnownHosts = path.join(dir, "known_hosts.empty");
    await writeFile(emptyKnownHosts, "");

    const lines = ["defaults:", "  labels: { env: prod }", "hosts:"];
    names.forEach((name, i) => {
      const role = i < 8 ? "web" : "api";
      const env = i % 4 === 0 ? "staging" : "prod";
      lines.push(`  - name: ${name}`, `    address: "${gopsds.get(name)!.address}"`, `    labels: { role: ${role}, env: ${env}, n: "${i + 1}" }`);
    });
    const web1 = gopsds.get("web-1")!.address;
    lines.push(
      `  - name: web-auth`,
      `    address: "${authGopsd.address}"`,
      `    labels: { role: auth }`,
      `    token: ${weakToken}`,
      `  - name: ssh-web`,
      `    labels: { role: tunnel }`,
      `    ssh: ${ssh({ forward: web1 })}`,
      `  - name: ssh-hashed`,
      `    labels: { role: tunnel }`,
      `    ssh: ${ssh({ forward: web1, knownHostsFile: hashedKnownHosts })}`,
      `  - name: ssh-jump`,
      `    labels: { role: tunnel }`,
      `    ssh: ${ssh({ forward: web1, jumpHost: `${sshd.user}@127.0.0.1:${sshd.port}` })}`,
      `  - name: ssh-unix`,
      `    labels: { role: tunnel }`,
      `    ssh: ${ssh({ forward: `unix:${unixSocket}` })}`,
      `  - name: ssh-wrong-key`,
      `    labels: { role: badssh }`,
      `    ssh: ${ssh({ forward: web1, knownHostsFile: wrongKnownHosts })}`,
      `  - name: ssh-unknown-key`,
      `    labels: { role: badssh }`,
      `    ssh: ${ssh({ forward: web1, knownHostsFile: emptyKnownHosts })}`,
    );
    fleetFile = path.join(dir, "fleet.yaml");
    await writeFile(fleetFile, lines.join("\n") + "\n");
  });

  after(async () => {
    for (const f of fleets) f.close();
    await Promise.all([...gopsds.values(), unixGopsd, authGopsd].map((g) => g?.stop()));
    await Promise.all([fixture?.stop(), profiled?.stop(), sshd?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("--selector picks exactly the labelled hosts", { timeout: 30_000 }, async () => {
    const fleet = await open({ selector: "role=api,env=prod" });
    assert.deepEqual(
      fleet.hosts.map((h) => h.name),
      ["web-10", "web-11", "web-12", "web-14", "web-15", "web-16"],
    );
    const notWeb = await open({ selector: "role!=web,role!=api,role!=badssh,role!=auth" });
    assert.deepEqual(notWeb.hosts.map((h) => h.name), ["ssh-web", "ssh-hashed", "ssh-jump", "ssh-unix"]);
    await assert.rejects(open({ host: "web-99" }), /unknown host "web-99".*did you mean web-9/);
  });

  it("lists processes across hosts and finds the fixture by a module it contains", { timeout: 30_000 }, async () => {
    const fleet = await open({ hosts: Array.from({ length: 8 }, (_, i) => `web-${i + 1}`) });
    // ps --module: ListProcesses, then GetBuildInfo of each Go process (dependencies live there). Only of the
    // processes this test started: any other Go process on the machine may exit between the two calls.
    const ours = new Set([fixture.pid, profiled.pid]);
    const results = await all(
      fleet.run(async (client, { signal }) => {
        const list = await client.listProcesses({}, { signal });
        const withInfo: ProcessWithBuildInfo[] = await Promise.all(
          list.processes
            .filter((p) => ours.has(p.pid))
            .map(async (p) => ({ ...p, buildInfo: (await client.getBuildInfo({ pid: p.pid }, { signal })).buildInfo })),
        );
        return { host: list.host, matches: findModule(withInfo, "gopsctl.test/fixtures") };
      }),
    );
    assert.equal(results.length, 8);
    for (const r of results) {
      assert.ok(r.value, `${r.host}: ${r.error?.message}`);
      assert.equal(r.value.host, r.host, "each answer comes from the gopsd named in the inventory");
      const pids = r.value.matches.map((m) => m.process.pid);
      assert.ok(pids.includes(fixture.pid) && pids.includes(profiled.pid), `${r.host} found ${pids}`);
      const mine = r.value.matches.find((m) => m.process.pid === fixture.pid)!;
      assert.equal(mine.via, "main");
      assert.equal(mine.process.buildInfo?.main?.path, "gopsctl.test/fixtures");
    }
    // A module the fixture does not contain, and a version bound "(devel)" cannot satisfy.
    const listed = await all(fleet.listProcesses({}));
    for (const r of listed) {
      const mine = r.value!.processes.filter((p) => ours.has(p.pid));
      assert.deepEqual(findModule(mine, "golang.org/x/net"), []);
      assert.deepEqual(findModule(mine, "gopsctl.test/fixtures@<v0.0.1"), []);
      assert.ok(findModule(mine, "gopsctl.test/fixtures").some((m) => m.process.pid === fixture.pid));
    }
  });

  it("fans out memstats: a down host and a hung host fail alone, results arrive as hosts settle", { timeout: 30_000 }, async () => {
    await gopsds.get(DOWN)!.stop();
    const hung = gopsds.get(HUNG)!;
    hung.proc.kill("SIGSTOP");
    try {
      // 5 s: long enough for a healthy host's first call (TLS, a cold gopsd) on a loaded machine; the hung host
      // takes all of it.
      const fleet = await open({ selector: "n", perHostDeadlineMs: 5000 });
      const t0 = performance.now();
      const arrivals: { host: string; at: number }[] = [];
      const results: HostResult<unknown>[] = [];
      for await (const r of fleet.memStats({ pid: fixture.pid })) {
        arrivals.push({ host: r.host, at: performance.now() - t0 });
        results.push(r);
      }
      assert.equal(results.length, HOSTS);
      const by = byHost(results);
      for (const [name, r] of Object.entries(by)) {
        if (name === DOWN || name === HUNG) continue;
        assert.ok(r.value, `${name}: ${r.error?.message}`);
      }
      assert.equal(by[DOWN]!.error?.code, Status.UNAVAILABLE, by[DOWN]!.error?.message);
      assert.match(by[DOWN]!.error!.message, /unreachable/);
      assert.equal(by[HUNG]!.error?.code, Status.DEADLINE_EXCEEDED);
      // The hung host settles last, at its deadline; everyone else before it (they answered, so none waited for it).
      assert.equal(arrivals.at(-1)!.host, HUNG);
      assert.ok(arrivals.at(-1)!.at >= 4900, `hung host settled at ${arrivals.at(-1)!.at} ms`);
      assert.match(
        summarize(results),
        new RegExp(`^14/16 hosts ok; ${DOWN}: UNAVAILABLE after \\d+(\\.\\d)?m?s, ${HUNG}: DEADLINE_EXCEEDED after 5s$`),
      );
    } finally {
      hung.proc.kill("SIGCONT");
    }
  });

  it("a host whose token lacks the scope is PERMISSION_DENIED; the summary names it", { timeout: 30_000 }, async () => {
    const fleet = await open({ hosts: ["web-1", "web-auth"] });
    const by = byHost(await all(fleet.memStats({ pid: fixture.pid })));
    assert.ok(by["web-1"]!.value?.stats, by["web-1"]!.error?.message);
    assert.equal(by["web-auth"]!.error?.code, Status.PERMISSION_DENIED);
    assert.match(by["web-auth"]!.error!.message, /gops:read/);
    assert.match(summarize(Object.values(by)), /^1\/2 hosts ok; web-auth: PERMISSION_DENIED after \d+m?s$/);
    // The scope it has works.
    const stacks = byHost(await all(fleet.stack({ pid: fixture.pid })));
    assert.ok(stacks["web-auth"]!.value && stacks["web-auth"]!.value.length > 0, stacks["web-auth"]!.error?.message);
  });

  it("streams a heap profile from each host into its own file", { timeout: 30_000 }, async () => {
    const fleet = await open({ selector: "role=web,env=prod" });
    const out = await mkdtemp(path.join(dir, "profiles-"));
    const results = await all(
      fleet.streamProfile({ pid: fixture.pid, kind: ProfileKind.PROFILE_KIND_HEAP }, async (stream, { host, signal }) => {
        let ext = "";
        const file = path.join(out, host);
        await pipeline(captureBytes(stream, (m) => (ext = m.fileExtension)), createWriteStream(file), { signal });
        return { file, ext };
      }),
    );
    assert.equal(results.length, 6);
    for (const r of results) {
      assert.ok(r.value, `${r.host}: ${r.error?.message}`);
      assert.equal(r.value.ext, ".pprof.gz");
      const profile = gunzipSync(await readFile(r.value.file));
      assert.ok(profile.length > 100, `${r.host}: a real profile`);
    }
  });

  describe("over ssh", () => {
    it("calls gopsd through the tunnel (TCP and unix forward, hashed known_hosts, jump host) on one shared connection", { timeout: 30_000 }, async () => {
      const fleet = await open({ selector: "role=tunnel", perHostDeadlineMs: 15_000 });
      const results = byHost(await all(fleet.listProcesses({})));
      for (const name of ["ssh-web", "ssh-hashed", "ssh-jump"]) {
        assert.ok(results[name]!.value, `${name}: ${results[name]!.error?.message}`);
        assert.equal(results[name]!.value!.host, "web-1");
      }
      assert.equal(results["ssh-unix"]!.value?.host, "unix-host", results["ssh-unix"]!.error?.message);
      const mem = byHost(await all(fleet.memStats({ pid: fixture.pid })));
      assert.ok(Object.values(mem).every((r) => r.value?.stats), JSON.stringify(Object.values(mem).map((r) => r.error)));
      // The same client (and tunnel) serves every call to a host.
      assert.equal(await fleet.client("ssh-web"), await fleet.client("ssh-web"));
      const before = sshd.stderr().match(/Accepted publickey/g)?.length ?? 0;
      await all(fleet.version({ pid: fixture.pid }));
      assert.equal(sshd.stderr().match(/Accepted publickey/g)?.length ?? 0, before, "no new SSH logins for later calls");
    });

    it("refuses a changed host key and an unknown one, naming the host and the fingerprint", { timeout: 30_000 }, async () => {
      const fleet = await open({ selector: "role=badssh", perHostDeadlineMs: 15_000 });
      const results = byHost(await all(fleet.version({ pid: fixture.pid })));
      const fp = fingerprint(Buffer.from(sshd.hostPublicKey.split(" ")[1]!, "base64"));
      const wrong = results["ssh-wrong-key"]!.error;
      assert.equal(wrong?.code, Status.UNAUTHENTICATED);
      assert.match(wrong!.message, new RegExp(`\\[127\\.0\\.0\\.1\\]:${sshd.port} has CHANGED`));
      assert.ok(wrong!.message.includes(fp), wrong!.message);
      const unknown = results["ssh-unknown-key"]!.error;
      assert.equal(unknown?.code, Status.UNAUTHENTICATED);
      assert.match(unknown!.message, /is not in .*known_hosts\.empty.*refusing to connect/);
      assert.ok(unknown!.message.includes(fp), unknown!.message);
    });

    const target = () => ({
      host: sshd.host,
      port: sshd.port,
      user: sshd.user,
      identityFiles: [sshd.identityFile],
      knownHostsFiles: [sshd.knownHostsFile],
      agentSocket: "",
    });

    /** Starts a 4 s CPU profile through the tunnel, breaks the tunnel once metadata arrived, returns the error. */
    async function breakMidStream(tunnelAddress: string, breakIt: () => Promise<void> | void) {
      const client = connect(tunnelAddress);
      try {
        const stream = client.streamProfile({ pid: profiled.pid, kind: ProfileKind.PROFILE_KIND_CPU }, { deadline: 30_000 });
        let first = true;
        try {
          for await (const m of stream) {
            if (first) {
              assert.equal(m.payload?.$case, "metadata");
              first = false;
              await breakIt();
            }
          }
        } catch (e) {
          // A missed break would end the 4 s profile (the assert.fail below) or run into the 30 s deadline.
          return { error: e as { code?: Status; details?: string } };
        }
        assert.fail("the stream finished although its tunnel was broken");
      } finally {
        client.close();
      }
    }

    it("gives a clean error, not a hang, when the tunnel is destroyed mid-stream", { timeout: 30_000 }, async () => {
      const tunnel = await openSshTunnel({ target: target(), forward: gopsds.get("web-2")!.address });
      const { error } = await breakMidStream(tunnel.localAddress, () => tunnel.close()).finally(() => tunnel.close());
      assert.ok(error.code === Status.UNAVAILABLE || error.code === Status.CANCELLED, `code ${error.code}: ${error.details}`);
      assert.ok((error.details ?? "").length > 0);
      assert.equal(await tunnel.closed, undefined);
    });

    it("gives a clean error when sshd is killed mid-stream (last: it stops the sshd)", { timeout: 30_000 }, async () => {
      const tunnel = await openSshTunnel({ target: target(), forward: gopsds.get("web-3")!.address });
      const { error } = await breakMidStream(tunnel.localAddress, () => sshd.kill()).finally(() => tunnel.close());
      assert.ok(error.code === Status.UNAVAILABLE || error.code === Status.CANCELLED, `code ${error.code}: ${error.details}`);
      const reason = await tunnel.closed;
      assert.match(String(reason?.message), /ssh connection (closed|failed)/);
    });
  });
});
