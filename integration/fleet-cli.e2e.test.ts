// gopsctl across a fleet, as a user runs it: a fleet file with 6 gopsd hosts on loopback (labels env/role, one of
// them down) and one gopsd with JWT auth whose token lacks gops:read, all watching one Go fixture. HOST columns,
// NDJSON, the summary line and exit codes, ps --module/--sort, memstats, heap profiles one file per host and
// --merge, stack --summary fleet-wide, --host NAME, and the library example examples/fleet-memstats.ts.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { after, before, describe, it } from "node:test";
import { createToken } from "../common/token.testkit.js";
import { repoRoot, runCli, startFixture, startGopsds, type CliResult, type Fixture, type Gopsd } from "./harness.js";

const LIVE = ["web-1", "web-2", "web-3", "web-4", "web-5"];
const DOWN = "web-6";
const AUTH = "web-auth";
const WEB = ["web-1", "web-2", "web-3"];
const GOROUTINES = 5;

describe("gopsctl across a fleet", { timeout: 240_000 }, () => {
  let dir: string;
  let fleetFile: string;
  let fixture: Fixture;
  const gopsds: Gopsd[] = [];

  const cli = (args: string[], opts: { cwd?: string } = {}): Promise<CliResult> =>
    runCli(["--fleet", fleetFile, ...args], { cwd: opts.cwd ?? dir, timeoutMs: 90_000 });
  const lines = (text: string) => text.split("\n").filter((l) => l !== "");
  const ndjson = (text: string) => lines(text).map((l) => JSON.parse(l) as { host: string; value?: any; error?: { code: string; message: string } });

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "gopsctl-fleet-cli-"));
    const secretFile = path.join(dir, "hs256.secret");
    await writeFile(secretFile, "a-fleet-test-secret-of-at-least-32-bytes!!", { mode: 0o600 });
    await chmod(secretFile, 0o600);
    fixture = await startFixture("agentprog", { args: ["-goroutines", String(GOROUTINES)] });
    const specs = [
      ...[...LIVE, DOWN].map((name) => ["--host-name", name]),
      ["--host-name", AUTH, "--auth-algorithms", "HS256", "--auth-hs-secret-file", secretFile, "--auth-issuer", "t", "--auth-audience", "gopsd"],
    ];
    // A few at a time: each gopsd compiles its TypeScript at start, and the machine has 2 cores.
    gopsds.push(...(await startGopsds(specs)));
    // A token gopsd accepts, but without gops:read (nor gops:profile).
    const token = createToken({ keyFile: secretFile, alg: "HS256", issuer: "t", audience: "gopsd", subject: "ci", scopes: ["gops:stack"], ttlSec: 600 });
    const entries = [...LIVE, DOWN].map((name, i) => {
      const role = i < 3 ? "web" : "api";
      const env = name === "web-2" ? "staging" : "prod";
      return [`  - name: ${name}`, `    address: "${gopsds[i]!.address}"`, `    labels: { role: ${role}, env: ${env} }`].join("\n");
    });
    entries.push([`  - name: ${AUTH}`, `    address: "${gopsds[6]!.address}"`, `    labels: { role: auth }`, `    token: ${token}`].join("\n"));
    fleetFile = path.join(dir, "fleet.yaml");
    await writeFile(fleetFile, `hosts:\n${entries.join("\n")}\n`);
    await gopsds[5]!.stop(); // web-6 is down
  });

  after(async () => {
    await Promise.all(gopsds.map((g) => g.stop()));
    await fixture?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("--all ps --table: a HOST column with the fixture on every live host; the summary names the failed hosts", async () => {
    const res = await cli(["--all", "ps", "--table"]);
    assert.ok(res.code === 5 || res.code === 8, `exit ${res.code} (the first failure: UNAVAILABLE 5 or PERMISSION_DENIED 8)\n${res.stderr}`);
    const out = lines(res.stdout);
    assert.match(out[0]!, /^HOST\s+PID\s+PPID\s+NAME\s+\*\s+VERSION\s+PATH$/);
    for (const host of LIVE) {
      assert.ok(
        out.some((l) => new RegExp(`^${host}\\s+${fixture.pid}\\s+\\d+\\s+agentprog\\s+\\*\\s+go1\\.19`).test(l)),
        `no fixture row for ${host} in:\n${res.stdout}`,
      );
    }
    assert.ok(!out.some((l) => l.startsWith(DOWN) || l.startsWith(AUTH)));
    const summary = lines(res.stderr).at(-1)!;
    assert.match(summary, new RegExp(`^5/7 hosts ok; ${DOWN}: UNAVAILABLE after \\S+, ${AUTH}: PERMISSION_DENIED after \\S+$`));
    assert.match(res.stderr, new RegExp(`^${AUTH}: PERMISSION_DENIED: .*gops:read`, "m"));
  });

  it("-l role=web --json: NDJSON lines only for the labelled hosts; exit 0", async () => {
    const res = await cli(["-l", "role=web", "ps", "--json"]);
    assert.equal(res.code, 0, res.stderr);
    const results = ndjson(res.stdout);
    assert.deepEqual(results.map((r) => r.host).sort(), WEB);
    for (const r of results) {
      assert.equal(r.value.host, r.host, "each answer comes from the gopsd of that name");
      assert.ok(r.value.processes.some((p: { pid: number }) => p.pid === fixture.pid));
    }
    assert.equal(res.stderr, "3/3 hosts ok\n");
    // Piped without --json is the table; a selector of two labels.
    const piped = await cli(["--selector", "role=web,env=prod", "version", String(fixture.pid)]);
    const rows = lines(piped.stdout).map((l) => l.split(/\s+/));
    assert.deepEqual(rows.map((r) => r[0]), ["HOST", "web-1", "web-3"], piped.stdout);
    for (const r of rows.slice(1)) assert.match(r[1]!, /^go1\.19/);
  });

  it("--hosts: just those hosts; --host NAME: one fleet host with its own settings (token included)", async () => {
    const res = await cli(["--hosts", "web-4,web-2", "version", String(fixture.pid), "--table"]);
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(lines(res.stdout).map((l) => l.split(/\s+/)[0]), ["HOST", "web-4", "web-2"]);
    const one = await cli(["--host", "web-3", "version", String(fixture.pid), "--table"]);
    assert.equal(one.code, 0, one.stderr);
    assert.match(one.stdout, /^go1\.19\.\d+\n$/);
    const denied = await cli(["--host", AUTH, "ps"]);
    assert.equal(denied.code, 8, denied.stderr);
    assert.match(denied.stderr, /gops:read/);
  });

  it("ps --module finds the fixture by its module on each host; ps --sort heap asks the agents", async () => {
    const found = await cli(["-l", "role=web", "ps", "--module", "gopsctl.test/fixtures", "--table"]);
    assert.equal(found.code, 0, found.stderr);
    assert.match(lines(found.stdout)[0]!, /^HOST\s+PID\s+NAME\s+MODULE\s+VERSION\s+VIA$/);
    for (const host of WEB) {
      assert.ok(
        lines(found.stdout).some((l) => new RegExp(`^${host}\\s+${fixture.pid}\\s+agentprog\\s+gopsctl\\.test/fixtures\\s+\\S+\\s+main$`).test(l)),
        `${host} in:\n${found.stdout}`,
      );
    }
    const none = await cli(["-l", "role=web", "ps", "--module", "gopsctl.test/fixtures@<v0.0.1", "--table"]);
    assert.equal(none.code, 0, none.stderr);
    assert.ok(!none.stdout.includes(String(fixture.pid)), "(devel) satisfies no version bound");

    const sorted = await cli(["--hosts", "web-1,web-4", "ps", "--sort", "heap", "--table"]);
    assert.equal(sorted.code, 0, sorted.stderr);
    assert.match(lines(sorted.stdout)[0]!, /^HOST\s+PID\s+PPID\s+NAME\s+\*\s+VERSION\s+HEAP\s+PATH$/);
    for (const host of ["web-1", "web-4"]) {
      assert.ok(
        lines(sorted.stdout).some((l) => new RegExp(`^${host}\\s+${fixture.pid}\\s.*go1\\.19\\S*\\s+\\d+(\\.\\d)?[kMG]?B\\s`).test(l)),
        sorted.stdout,
      );
    }
  });

  it("memstats PID --all --table: one row per live host", async () => {
    const res = await cli(["memstats", String(fixture.pid), "--all", "--table"]);
    assert.notEqual(res.code, 0);
    const out = lines(res.stdout);
    assert.match(out[0]!, /^HOST\s+HEAP-ALLOC\s+HEAP-INUSE\s+HEAP-OBJECTS\s+SYS\s+TOTAL-ALLOC\s+NUM-GC\s+NEXT-GC\s+GC-PAUSE-TOTAL$/);
    assert.deepEqual(out.slice(1).map((l) => l.split(/\s+/)[0]), LIVE, "in fleet-file order");
    assert.match(lines(res.stderr).at(-1)!, /^5\/7 hosts ok; web-6: UNAVAILABLE after \S+, web-auth: PERMISSION_DENIED after \S+$/);
  });

  it("pprof-heap PID --all -o DIR: one complete file per host that answered, no partial files", async () => {
    const res = await cli(["pprof-heap", String(fixture.pid), "--all", "-o", "heaps", "--table"]);
    assert.notEqual(res.code, 0);
    const files = (await readdir(path.join(dir, "heaps"))).sort();
    assert.equal(files.length, LIVE.length, files.join(" "));
    for (const [i, host] of LIVE.entries()) {
      assert.match(files[i]!, new RegExp(`^${host}-${fixture.pid}-heap-\\d{8}-\\d{6}\\.pprof\\.gz$`));
      assert.ok(gunzipSync(await readFile(path.join(dir, "heaps", files[i]!))).length > 100);
    }
    assert.deepEqual(lines(res.stdout).sort(), files.map((f) => `heaps/${f}`));
    assert.match(res.stderr, /web-auth: PERMISSION_DENIED/);
  });

  it("pprof-heap PID --merge --top: one merged table, and the merged profile saved", async () => {
    const work = await mkdtemp(path.join(dir, "merge-"));
    const res = await cli(["pprof-heap", String(fixture.pid), "-l", "role=web", "--merge", "--top", "5", "--table"], { cwd: work });
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout.match(/flat%/g)?.length, 1, res.stdout);
    assert.match(res.stdout, /^merged-heap-\d{8}-\d{6}\.pprof\.gz$/m);
    const files = await readdir(work);
    assert.equal(files.filter((f) => f.startsWith("merged-heap-")).length, 1);
    assert.equal(files.filter((f) => /^web-\d-/.test(f)).length, 3);
  });

  it("stack PID --summary across hosts: fleet-wide groups with per-host counts", async () => {
    const res = await cli(["stack", String(fixture.pid), "-l", "role=web", "--summary", "--table"]);
    assert.equal(res.code, 0, res.stderr);
    const block = res.stdout.split("\n\n").find((b) => b.includes("main.blockedWorker"));
    assert.ok(block, res.stdout);
    assert.match(block, new RegExp(`^${GOROUTINES * 3} goroutines \\|`));
    assert.match(block, new RegExp(`^  hosts: web-1 ${GOROUTINES}, web-2 ${GOROUTINES}, web-3 ${GOROUTINES}$`, "m"));
  });

  it("examples/fleet-memstats.ts runs against the fleet file", async () => {
    const child = spawn(
      process.execPath,
      ["--import", import.meta.resolve("tsx"), path.join(repoRoot, "examples", "fleet-memstats.ts"), "--fleet", fleetFile, "--selector", "role=web", "--pid", String(fixture.pid)],
      { cwd: dir, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    assert.equal(code, 0, stderr);
    assert.deepEqual(lines(stdout).map((l) => l.split("\t")[0]).sort(), WEB);
    for (const l of lines(stdout)) assert.match(l, /^web-\d\theap \d+\.\d MiB\tobjects \d+\tgc \d+$/);
    assert.equal(stderr, "3/3 hosts ok\n");
  });
});
