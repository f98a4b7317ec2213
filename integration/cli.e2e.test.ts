// End to end: the gopsctl CLI as a user runs it, against real Go programs, both in-process (no --host, like
// gops) and through a real gopsd (--host). Output formats, capture files and exit codes.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { after, before, describe, it } from "node:test";
import { cliArgs, deadPid, repoRoot, runCli, startFixture, startGopsd, type Fixture, type Gopsd } from "./harness.js";

let fixture: Fixture;
let plain: Fixture;
let gopsd: Gopsd;
let workDir: string;

before(async () => {
  [fixture, plain] = await Promise.all([
    startFixture("agentprog", {
      args: ["-goroutines", "3"],
      env: { FIXTURE_CPU_PROFILE_SECONDS: "1", FIXTURE_TRACE_SECONDS: "1" },
    }),
    startFixture("plain"),
  ]);
  gopsd = await startGopsd({ args: ["--host-name", "cli-e2e"] });
  workDir = mkdtempSync(join(tmpdir(), "gopsctl-cli-e2e-"));
});

after(async () => {
  await gopsd?.stop();
  await Promise.all([fixture?.stop(), plain?.stop()]);
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

for (const mode of ["local", "gopsd"] as const) {
  describe(`gopsctl (${mode === "local" ? "in-process, no daemon" : "through gopsd --host"})`, () => {
    const cli = async (...args: string[]) => {
      const res = await runCli(mode === "local" ? args : ["--host", gopsd.address, ...args], { cwd: workDir });
      return res;
    };
    const ok = async (...args: string[]) => {
      const res = await cli(...args);
      assert.equal(res.code, 0, `gopsctl ${args.join(" ")} exited ${res.code}: ${res.stderr}`);
      return res.stdout;
    };

    it("ps lists the fixture with the agent marker and its Go version", async () => {
      const table = await ok("ps", "--table");
      const line = table.split("\n").find((l) => l.startsWith(`${fixture.pid} `));
      assert.ok(line, `no line for pid ${fixture.pid} in:\n${table}`);
      assert.match(line, new RegExp(`^${fixture.pid}\\s+${process.pid}\\s+agentprog\\s+\\*\\s+go1\\.19\\.\\d+\\s+${fixture.exe}$`));
      const plainLine = table.split("\n").find((l) => l.startsWith(`${plain.pid} `));
      assert.ok(plainLine && !plainLine.includes("*"), "the plain program has no agent marker");
      // Piped without --table: the same table (gopsctl ps | grep PID finds it); JSON with --json.
      const piped = (await ok("ps")).split("\n");
      assert.match(piped[0]!, /^PID\s+PPID\s+NAME\s+\*\s+VERSION\s+PATH$/);
      assert.ok(piped.some((l) => new RegExp(`^${fixture.pid}\\s+${process.pid}\\s+agentprog\\s+\\*\\s+go1\\.19\\.\\d+\\s+`).test(l)), piped.join("\n"));
      const json = JSON.parse(await ok("ps", "--json")) as { processes: { pid: number; agent: { state: string } }[] };
      assert.equal(json.processes.find((p) => p.pid === fixture.pid)?.agent.state, "LISTENING");
    });

    it("bare gopsctl lists too, and tree nests the fixture under this process", async () => {
      const list = JSON.parse(await ok("--json")) as { processes: { pid: number }[] };
      assert.ok(list.processes.some((p) => p.pid === fixture.pid));
      const tree = await ok("tree", "--table");
      assert.match(tree, new RegExp(`${fixture.pid} \\(agentprog\\) \\{go1\\.19`));
    });

    it("process view shows parent, user, command line and the agent's socket", async () => {
      const text = await ok(String(fixture.pid), "--table");
      assert.match(text, new RegExp(`parent PID:\\t${process.pid}`));
      assert.match(text, /threads:\t\d+/);
      assert.match(text, new RegExp(`cmd\\+args:\\t${fixture.exe}`));
      assert.match(text, new RegExp(`127\\.0\\.0\\.1:${fixture.port}.*\\(LISTEN\\)`));
      const sampled = await ok("process", String(fixture.pid), "1", "--table");
      assert.match(sampled, /cpu usage \(1s\):\t\d+\.\d{3}%/);
    });

    it("buildinfo prints what go version -m prints", async () => {
      const text = await ok("buildinfo", String(fixture.pid), "--table");
      const expected = execFileSync("go", ["version", "-m", fixture.exe], { encoding: "utf8" });
      const norm = (s: string) => s.split("\n").filter((l) => l.trim() !== "");
      assert.deepEqual(norm(text), norm(expected));
    });

    it("stack, memstats, stats and version read the agent", async () => {
      const stack = await ok("stack", String(fixture.pid));
      assert.equal(stack.match(/main\.blockedWorker/g)?.length, 3);
      const mem = await ok("memstats", String(fixture.pid), "--table");
      assert.match(mem, /^alloc: .*bytes/m);
      const memJson = JSON.parse(await ok("memstats", String(fixture.pid), "--json")) as { stats: { heapAlloc: number } };
      assert.ok(memJson.stats.heapAlloc > 0);
      assert.match(await ok("stats", String(fixture.pid), "--table"), /goroutines: \d+/);
      assert.match(await ok("version", String(fixture.pid), "--table"), /^go1\.19\.\d+\n$/);
    });

    it("gc prints nothing; setgc prints the agent's line", async () => {
      assert.equal(await ok("gc", String(fixture.pid)), "");
      assert.equal(await ok("setgc", String(fixture.pid), "off", "--table"), "New GC percent set to -1. Previous value was 100.\n");
      assert.equal(await ok("setgc", String(fixture.pid), "100", "--table"), "New GC percent set to 100. Previous value was -1.\n");
    });

    it("pprof-heap, pprof-cpu and trace save the agent's bytes", async () => {
      const heapPath = join(workDir, `heap-${mode}.pprof.gz`);
      const out = await ok("pprof-heap", String(fixture.pid), "-o", heapPath);
      assert.match(out, new RegExp(heapPath));
      assert.ok(gunzipSync(readFileSync(heapPath)).length > 0);

      const before = new Set(readdirSync(workDir));
      const cpuOut = await ok("pprof-cpu", String(fixture.pid));
      const created = readdirSync(workDir).filter((f) => !before.has(f));
      assert.equal(created.length, 1, `one new file: ${created.join(", ")}`);
      assert.match(created[0]!, new RegExp(`^${fixture.pid}-cpu-\\d{8}-\\d{6}\\.pprof\\.gz$`));
      assert.match(cpuOut, new RegExp(created[0]!));
      assert.deepEqual([...readFileSync(join(workDir, created[0]!)).subarray(0, 2)], [0x1f, 0x8b]);

      const tracePath = join(workDir, `trace-${mode}.out`);
      await ok("trace", String(fixture.pid), "-o", tracePath);
      assert.match(readFileSync(tracePath).subarray(0, 16).toString("latin1"), /^go 1\.19 trace/);
    });

    it("binary saves the fixture's executable byte for byte and prints its sha256", async () => {
      const path = join(workDir, `binary-${mode}`);
      const out = await ok("binary", String(fixture.pid), "-o", path);
      const exe = readFileSync(fixture.exe);
      assert.ok(readFileSync(path).equals(exe), "the saved file is the fixture's executable");
      assert.equal(out, `${path}: ${exe.length} bytes, sha256 ${createHash("sha256").update(exe).digest("hex")}\n`);
    });

    it("bad input: one line on stderr and the documented exit code", async () => {
      const cases: [string[], number, RegExp][] = [
        [["stack", "0"], 2, /invalid pid/],
        [["stack", "abc"], 2, /invalid pid/],
        [["setgc", String(fixture.pid), "2147483648"], 2, /percent/],
        [["setgc", String(fixture.pid), "-2"], 2, /percent/],
        [["stack", String(await deadPid())], 3, /no process with pid/],
        [["stack", String(process.pid)], 4, /not a Go program/],
        [["memstats", String(plain.pid)], 4, /no usable gops agent/],
        [["frobnicate"], 2, /unknown command/],
      ];
      for (const [args, code, msg] of cases) {
        const res = await cli(...args);
        assert.equal(res.code, code, `gopsctl ${args.join(" ")}: exit ${res.code}, stderr ${res.stderr}`);
        assert.match(res.stderr, msg);
        assert.equal(res.stderr.trim().split("\n").length, 1, `one line: ${res.stderr}`);
        assert.equal(res.stdout, "");
      }
    });
  });
}

it("an unreachable gopsd is one clear line and exit 5", async () => {
  const res = await runCli(["--host", "127.0.0.1:1", "ps"]);
  assert.equal(res.code, 5);
  assert.match(res.stderr, /^gopsctl: gopsd at 127\.0\.0\.1:1 is unreachable: .*ECONNREFUSED/);
});

it("gopsctl ps | grep PID: in a shell pipe the table reaches grep, which finds the Go process", () => {
  const env = { ...process.env, XDG_CONFIG_HOME: workDir };
  const cli = [process.execPath, ...cliArgs()].map((a) => `"${a}"`).join(" ");
  const res = spawnSync("sh", ["-c", `${cli} ps | grep -E '^${fixture.pid} '`], { cwd: repoRoot, env, encoding: "utf8", timeout: 60_000 });
  assert.equal(res.status, 0, `grep found nothing: ${res.stderr}`);
  assert.match(res.stdout, new RegExp(`^${fixture.pid}\\s+\\d+\\s+agentprog\\s+\\*\\s+go1\\.19`));
  assert.equal(res.stdout.trim().split("\n").length, 1);
});

it("npx gopsctl (the built bin, as the README's quick start runs it) lists the fixture; npx gopsd starts", () => {
  // npx links this package into its cache the first time, which runs its `prepare` (a full build) unless scripts
  // are off: a build rewrites dist/ under the tests running beside this one. dist/ is built already (npm test).
  const env = { ...process.env, XDG_CONFIG_HOME: workDir, npm_config_ignore_scripts: "true" };
  const out = execFileSync("npx", ["--no-install", "gopsctl", "ps", "--json"], { cwd: repoRoot, env, encoding: "utf8" });
  const list = JSON.parse(out) as { processes: { pid: number }[] };
  assert.ok(list.processes.some((p) => p.pid === fixture.pid));
  // gopsd without auth refuses loopback TCP with one line and exit 2 (it is executable and runs).
  const res = spawnSync("npx", ["--no-install", "gopsd"], { cwd: repoRoot, env, encoding: "utf8" });
  assert.equal(res.status, 2);
  assert.match(res.stderr, /^gopsd: listen: refusing to serve TCP 127\.0\.0\.1:4677 without authentication/);
});
