// gopsctl, as a user runs it, on a Go program that serves net/http/pprof and has no gops agent (issue 11): locally
// (gopsctl reads this machine; the config file's pprof.probeExe limits probing to our fixture), through one gopsd
// (--pprof-probe-exe likewise) and across a 2-host fleet. ps --probe marks it `~`, and through gopsd a plain ps
// afterwards still does (remembered by socket); stack, memstats, pprof-heap, pprof-cpu --duration 2s --top,
// trace --duration 1s and the merged fleet top table, each checked with `go tool pprof -top` or the trace header;
// gc/setgc give their one-line error; a --duration against a gops agent is refused with one line.
//
// Two gopsds on one machine see the same processes, and Go runs one CPU profile and one trace per process at a
// time: across the fleet the timed captures (pprof-cpu, trace) go to one host of it (`--hosts h1`, still the
// across-hosts path: a file per host and the merged table), the heap profiles to both hosts (merged top table).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { runCli, startFixture, startGopsd, type CliResult, type Fixture, type Gopsd } from "./harness.js";

const execFileAsync = promisify(execFile);
const HOSTS = ["h1", "h2"];

describe("gopsctl on a net/http/pprof program", { timeout: 420_000 }, () => {
  let dir: string;
  let http: Fixture;
  let agent: Fixture;
  const gopsds: Gopsd[] = [];
  let configFile: string;
  let fleetFile: string;

  const lines = (text: string) => text.split("\n").filter((l) => l !== "");
  /** The one-target or across-hosts way of running gopsctl. */
  const modes: Record<"local" | "gopsd" | "fleet", () => string[]> = {
    local: () => ["--config", configFile],
    gopsd: () => ["--host", gopsds[0]!.address],
    fleet: () => ["--fleet", fleetFile, "--hosts", HOSTS.join(",")],
  };
  const cli = (mode: keyof typeof modes, args: string[], cwd = dir): Promise<CliResult> =>
    runCli([...modes[mode](), ...args], { cwd, timeoutMs: 90_000 });

  async function goPprofTop(file: string): Promise<string> {
    const { stdout } = await execFileAsync("/usr/bin/go", ["tool", "pprof", "-top", file], {
      env: { ...process.env, GOTOOLCHAIN: "local", GOFLAGS: "", HOME: dir, PPROF_TMPDIR: dir },
      timeout: 60_000,
    });
    return stdout;
  }

  /** A fresh working directory per capture, so each test finds exactly its own files. */
  async function workDir(name: string): Promise<string> {
    const d = path.join(dir, name);
    await mkdir(d);
    return d;
  }

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "gopsctl-pprof-cli-"));
    [http, agent] = await Promise.all([startFixture("httpprog", { args: ["-listen", "127.0.0.1:0"] }), startFixture("agentprog")]);
    // Probe only our own fixture's program, never other Go programs on this machine.
    configFile = path.join(dir, "config.yaml");
    await writeFile(configFile, `pprof:\n  probeExe: [${JSON.stringify(http.exe)}]\n`);
    gopsds.push(...(await Promise.all(HOSTS.map((name) => startGopsd({ args: ["--host-name", name, "--pprof-probe-exe", http.exe] })))));
    fleetFile = path.join(dir, "fleet.yaml");
    await writeFile(fleetFile, `hosts:\n${HOSTS.map((name, i) => `  - name: ${name}\n    address: "${gopsds[i]!.address}"\n`).join("")}`);
  });

  after(async () => {
    await Promise.all(gopsds.map((g) => g.stop()));
    await Promise.all([http?.stop(), agent?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** The ps row of a pid (with or without a HOST column first). */
  const row = (stdout: string, pid: number, host?: string) =>
    lines(stdout)
      .map((l) => l.split(/\s+/))
      .find((cells) => (host === undefined ? cells[0] === String(pid) : cells[0] === host && cells[1] === String(pid)));

  it("ps --probe marks the pprof program ~ and the agent *; locally, through gopsd and across the fleet", async () => {
    const local = await cli("local", ["ps", "--probe"]);
    assert.equal(local.code, 0, local.stderr);
    assert.deepEqual(row(local.stdout, http.pid)?.slice(2, 4), ["httpprog", "~"], local.stdout);
    assert.deepEqual(row(local.stdout, agent.pid)?.slice(2, 4), ["agentprog", "*"], local.stdout);

    const one = await cli("gopsd", ["ps", "--probe"]);
    assert.equal(one.code, 0, one.stderr);
    assert.deepEqual(row(one.stdout, http.pid)?.slice(2, 4), ["httpprog", "~"], one.stdout);

    const fleet = await cli("fleet", ["ps", "--probe"]);
    assert.equal(fleet.code, 0, fleet.stderr);
    for (const host of HOSTS) assert.deepEqual(row(fleet.stdout, http.pid, host)?.slice(3, 5), ["httpprog", "~"], fleet.stdout);
    assert.equal(lines(fleet.stderr).at(-1), "2/2 hosts ok");
  });

  it("a plain ps through gopsd and the fleet after the probe still shows ~ (remembered); --json names the kind and address", async () => {
    const plain = await cli("gopsd", ["ps"]);
    assert.equal(plain.code, 0, plain.stderr);
    assert.deepEqual(row(plain.stdout, http.pid)?.slice(2, 4), ["httpprog", "~"], plain.stdout);
    const json = await cli("gopsd", ["ps", "--json"]);
    const p = (JSON.parse(json.stdout) as { processes: { pid: number; agent: Record<string, unknown> }[] }).processes.find((x) => x.pid === http.pid);
    assert.equal(p?.agent["kind"], "HTTP_PPROF");
    assert.equal(p?.agent["httpAddress"], `127.0.0.1:${http.port}`);
    assert.equal(p?.agent["httpPathPrefix"], "");
    assert.equal(p?.agent["httpVerified"], true);
    const fleet = await cli("fleet", ["ps"]);
    assert.equal(fleet.code, 0, fleet.stderr);
    for (const host of HOSTS) assert.deepEqual(row(fleet.stdout, http.pid, host)?.slice(3, 5), ["httpprog", "~"], fleet.stdout);
    const view = await cli("gopsd", [String(http.pid)]);
    assert.equal(view.code, 0, view.stderr);
    assert.match(view.stdout, new RegExp(`^diagnostics via:\\s+net/http/pprof at http://127\\.0\\.0\\.1:${http.port}/debug/pprof/$`, "m"));
  });

  for (const mode of ["local", "gopsd", "fleet"] as const) {
    describe(`${mode}`, () => {
      it("stack: the goroutine dump", async () => {
        const res = await cli(mode, ["stack", String(http.pid)]);
        assert.equal(res.code, 0, res.stderr);
        assert.match(res.stdout, /^goroutine \d+ \[running\]:/m);
        assert.match(res.stdout, /main\.main\(\)/);
        if (mode === "fleet") for (const host of HOSTS) assert.match(res.stdout, new RegExp(`^==> ${host} <==$`, "m"));
      });

      it("memstats: gops' lines (or the fleet table); stats: GOMAXPROCS unknown", async () => {
        const res = await cli(mode, ["memstats", String(http.pid)]);
        assert.equal(res.code, 0, res.stderr);
        if (mode === "fleet") {
          assert.match(lines(res.stdout)[0]!, /^HOST\s+HEAP-ALLOC\s+HEAP-INUSE/);
          for (const host of HOSTS) assert.match(res.stdout, new RegExp(`^${host}\\s+\\d+(\\.\\d+)?[kMG]?B\\s`, "m"));
        } else {
          assert.match(res.stdout, /^heap-alloc: \d+(\.\d\d[KMG]B \(\d+ bytes\)| bytes)$/m);
          assert.match(res.stdout, /^num-gc: \d+$/m);
          assert.doesNotMatch(res.stdout, /^# /m, "not the raw heap?debug=1 block");
        }
        const stats = await cli(mode, ["stats", String(http.pid)]);
        assert.equal(stats.code, 0, stats.stderr);
        if (mode === "fleet") for (const host of HOSTS) assert.match(stats.stdout, new RegExp(`^${host}\\s+\\d+\\s+\\d+\\s+unknown\\s+unknown$`, "m"));
        else assert.match(stats.stdout, /^goroutines: \d+\nOS threads: \d+\nGOMAXPROCS: unknown\nnum CPU: unknown\n$/);
      });

      it("pprof-heap: a heap profile go tool pprof reads; --kind goroutine --top", async () => {
        const cwd = await workDir(`${mode}-heap`);
        const args = mode === "fleet" ? ["pprof-heap", String(http.pid), "--merge", "--top"] : ["pprof-heap", String(http.pid)];
        const res = await cli(mode, args, cwd);
        assert.equal(res.code, 0, res.stderr);
        const files = (await readdir(cwd)).sort();
        if (mode === "fleet") {
          assert.deepEqual(files.map((f) => f.replace(/-\d{8}-\d{6}/, "")), [...HOSTS.map((h) => `${h}-${http.pid}-heap.pprof.gz`), "merged-heap.pprof.gz"]);
          // The merged top table: our --top, from 2 hosts.
          assert.match(res.stdout, /^Type: inuse_space$/m);
          assert.match(res.stdout, /^\s+flat\s+flat%\s+sum%\s+cum\s+cum%$/m);
        } else {
          assert.equal(files.length, 1);
          assert.match(files[0]!, new RegExp(`^${http.pid}-heap-\\d{8}-\\d{6}\\.pprof\\.gz$`));
        }
        for (const f of files) assert.match(await goPprofTop(path.join(cwd, f)), /^Type: inuse_space$/m, f);

        const g = await cli(mode, ["pprof-heap", String(http.pid), "--kind", "goroutine", "--top", ...(mode === "fleet" ? ["--merge"] : [])], cwd);
        assert.equal(g.code, 0, g.stderr);
        assert.match(g.stdout, /^Type: goroutine$/m);
        assert.match(g.stdout, /main\.work|net\/http|runtime\.gopark/);
        assert.ok((await readdir(cwd)).some((f) => new RegExp(`${http.pid}-goroutine-\\d{8}-\\d{6}\\.pprof\\.gz$`).test(f)));
      });

      it("pprof-cpu --duration 2s --top: a 2s CPU profile, our top table and go tool pprof agree it is one", async () => {
        const cwd = await workDir(`${mode}-cpu`);
        // Across the fleet one host (see the top of the file), still the fleet path: a file per host and --merge.
        const args = ["pprof-cpu", String(http.pid), "--duration", "2s", "--top", ...(mode === "fleet" ? ["--merge"] : [])];
        const res = await runCli(mode === "fleet" ? ["--fleet", fleetFile, "--hosts", "h1", ...args] : [...modes[mode](), ...args], { cwd, timeoutMs: 90_000 });
        assert.equal(res.code, 0, res.stderr);
        assert.match(res.stdout, /^Type: cpu$/m);
        assert.match(res.stdout, /^Duration: 2(\.\d+)?s, Total samples = /m);
        assert.match(res.stdout, /^\s+flat\s+flat%\s+sum%\s+cum\s+cum%$/m);
        if (mode === "fleet") assert.match(res.stdout, /CPU profile merged from 1 host|^merged-cpu-/m);
        const files = await readdir(cwd);
        const own = files.find((f) => /-cpu-\d{8}-\d{6}\.pprof\.gz$/.test(f) && !f.startsWith("merged"))!;
        assert.ok(own, files.join(" "));
        const top = await goPprofTop(path.join(cwd, own));
        assert.match(top, /^Type: cpu$/m);
        assert.match(top, /^Duration: 2(\.\d+)?s, Total samples = /m);
      });

      it("trace --duration 1s: a Go 1.19 execution trace", async () => {
        const cwd = await workDir(`${mode}-trace`);
        const args = ["trace", String(http.pid), "--duration", "1s"];
        const res = await runCli(mode === "fleet" ? ["--fleet", fleetFile, "--hosts", "h1", ...args] : [...modes[mode](), ...args], { cwd, timeoutMs: 90_000 });
        assert.equal(res.code, 0, res.stderr);
        const files = await readdir(cwd);
        assert.equal(files.length, 1, files.join(" "));
        assert.match(files[0]!, mode === "fleet" ? new RegExp(`^h1-${http.pid}-trace-`) : new RegExp(`^${http.pid}-trace-`));
        const head = (await readFile(path.join(cwd, files[0]!))).subarray(0, 16).toString("latin1");
        assert.ok(head.startsWith("go 1.19 trace\0"), JSON.stringify(head));
      });

      it("gc and setgc: the one-line FAILED_PRECONDITION (exit 4)", async () => {
        for (const [args, why] of [
          [["gc", String(http.pid)], "has no endpoint to run the GC"],
          [["setgc", String(http.pid), "50"], "has no endpoint to set GOGC"],
        ] as const) {
          const res = await cli(mode, [...args]);
          assert.equal(res.code, 4, `${args.join(" ")}: ${res.stderr}`);
          const msg = `pid ${http.pid} serves net/http/pprof, which ${why}`;
          if (mode === "fleet") {
            for (const host of HOSTS) assert.match(res.stderr, new RegExp(`^${host}: FAILED_PRECONDITION: ${msg}$`, "m"));
          } else {
            assert.equal(res.stderr, `gopsctl: ${msg}\n`);
          }
        }
      });

      it("pprof-cpu --duration against a gops agent is refused with one line", async () => {
        const res = await cli(mode, ["pprof-cpu", String(agent.pid), "--duration", "2s"], await workDir(`${mode}-refused`));
        assert.equal(res.code, 4, res.stderr);
        if (mode === "fleet") {
          for (const host of HOSTS) assert.match(res.stderr, new RegExp(`^${host}: FAILED_PRECONDITION: .*fixed 30s`, "m"));
        } else {
          assert.equal(lines(res.stderr).length, 1, res.stderr);
          assert.match(res.stderr, /^gopsctl: .*fixed 30s.*\n$/);
        }
        const t = await cli(mode, ["trace", String(agent.pid), "--duration", "1s"], await workDir(`${mode}-refused-trace`));
        assert.equal(t.code, 4, t.stderr);
        if (mode !== "fleet") assert.match(t.stderr, /^gopsctl: .*fixed 5s.*\n$/);
      });
    });
  }
});
