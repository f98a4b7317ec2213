// End to end: payloads a target of uid 65534 controls that are small on the wire and huge or pathological once
// read (issue 17).
// - item 2: a gops "agent" (agentprog -mode gzip-bomb) answers a heap profile with ~1 MiB of gzip that expands to
//   1 GiB. `gopsctl pprof-heap PID --top` (in-process and through gopsd) and `gopsctl pprof FILE --top` on the
//   saved bytes fail with one line at the profile limit (128 MiB decompressed), with the CLI's memory bounded:
//   each run is in a 512 MiB memory cgroup made here, whose peak must stay under CLI_PEAK_BOUND_BYTES.
// - item 5: a net/http/pprof program (httpprog -vars-bomb) serves /debug/vars with 1 MiB of JSON nested 500,000
//   levels deep inside memstats: `gopsctl memstats PID` fails with a one-line protocol error, and gopsd logs no
//   stack trace.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { cliArgs, startFixture, startGopsd, type Fixture, type Gopsd } from "./harness.js";

const NOBODY = 65534;
const ROOT = process.getuid?.() === 0;
const MEMCG_ROOT = "/sys/fs/cgroup/memory";
const CGROUP_LIMIT_BYTES = 512 << 20;
/** What a CLI run may peak at while refusing the bomb (node ~60 MiB + the 128 MiB profile limit + slack). */
const CLI_PEAK_BOUND_BYTES = 320 << 20;

/** A v1 memory cgroup of this file's own for the CLI runs; its peak is reset before each run. */
class MemCgroup {
  readonly dir = `${MEMCG_ROOT}/gopsctl-harden-payloads-${process.pid}-${Date.now()}`;
  constructor(limitBytes: number) {
    if (!existsSync(`${MEMCG_ROOT}/cgroup.procs`)) throw new Error(`no cgroup v1 memory hierarchy at ${MEMCG_ROOT}`);
    mkdirSync(this.dir);
    writeFileSync(`${this.dir}/memory.limit_in_bytes`, String(limitBytes));
    if (existsSync(`${this.dir}/memory.memsw.limit_in_bytes`)) writeFileSync(`${this.dir}/memory.memsw.limit_in_bytes`, String(limitBytes));
  }
  resetPeak(): void {
    writeFileSync(`${this.dir}/memory.max_usage_in_bytes`, "0");
  }
  peak(): number {
    return Number(readFileSync(`${this.dir}/memory.max_usage_in_bytes`, "utf8"));
  }
  oomKills(): number {
    return Number(/^oom_kill (\d+)/m.exec(readFileSync(`${this.dir}/memory.oom_control`, "utf8"))?.[1] ?? 0);
  }
  remove(): void {
    for (let i = 0; i < 50; i++) {
      try {
        rmdirSync(this.dir);
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100); // its processes are still exiting
      }
    }
  }
}

interface CliRun {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  peakBytes: number;
  ms: number;
}

/** gopsctl inside `cg` from its first instruction (in-process backend unless --host is given). */
function cliIn(cg: MemCgroup, args: string[], cwd: string, timeoutMs = 120_000): Promise<CliRun> {
  cg.resetPeak();
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(
      "sh",
      ["-c", 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"', "sh", cg.dir, process.execPath, ...cliArgs(), ...args],
      { cwd, env: { ...process.env, XDG_CONFIG_HOME: path.join(cwd, "no-config") }, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout = (stdout + d.toString()).slice(-65536)));
    child.stderr.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-65536)));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("error", reject);
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, peakBytes: cg.peak(), ms: performance.now() - started });
    });
  });
}

const mib = (n: number) => `${(n / 2 ** 20).toFixed(0)} MiB`;

describe("hostile payloads (issue 17 items 2 and 5)", { skip: !ROOT && "needs root (uid 65534 targets, a memory cgroup)", timeout: 300_000 }, () => {
  let cg: MemCgroup;
  let gopsd: Gopsd;
  let bomb: Fixture;
  let vars: Fixture;
  let work: string;

  before(async () => {
    work = await mkdtemp(path.join(tmpdir(), "gopsctl-harden-payloads-"));
    cg = new MemCgroup(CGROUP_LIMIT_BYTES);
    [bomb, vars] = await Promise.all([
      startFixture("agentprog", { uid: NOBODY, args: ["-mode", "gzip-bomb"] }),
      startFixture("httpprog", { uid: NOBODY, args: ["-vars-bomb", "-busy=false"] }),
    ]);
    gopsd = await startGopsd();
  });
  after(async () => {
    await Promise.all([bomb?.stop(), vars?.stop(), gopsd?.stop()]);
    cg?.remove();
    await rm(work, { recursive: true, force: true });
  });

  it("item 2: a heap profile that is a gzip bomb: one line at 128 MiB, the CLI's memory bounded (capture and saved file)", async () => {
    const bombLine = /^gopsctl: .*not a pprof profile: it decompresses to more than 128 MiB \(the limit for a profile\)/;
    const measured: string[] = [];
    for (const host of [[], ["--host", gopsd.address]]) {
      const dir = await mkdtemp(path.join(work, "capture-"));
      const res = await cliIn(cg, [...host, "pprof-heap", String(bomb.pid), "--top", "-o", "heap.pprof.gz"], dir);
      measured.push(`pprof-heap ${host.length ? "--host" : "local"}: peak ${mib(res.peakBytes)}, ${res.ms.toFixed(0)} ms`);
      assert.notEqual(res.code, 0, res.stdout);
      assert.equal(res.signal, null, `killed: ${res.signal}`);
      const lines = res.stderr.trim().split("\n");
      assert.equal(lines.length, 1, res.stderr);
      assert.match(lines[0]!, bombLine);
      assert.ok(res.peakBytes < CLI_PEAK_BOUND_BYTES, `peak ${mib(res.peakBytes)}`);
      // Nothing is lost: the capture is on disk, as received (~1 MiB).
      assert.deepEqual(await readdir(dir), ["heap.pprof.gz"]);
      const saved = path.join(dir, "heap.pprof.gz");
      const file = await cliIn(cg, ["pprof", saved, "--top"], dir);
      measured.push(`pprof FILE: peak ${mib(file.peakBytes)}, ${file.ms.toFixed(0)} ms`);
      assert.notEqual(file.code, 0, file.stdout);
      assert.equal(file.stderr.trim().split("\n").length, 1, file.stderr);
      assert.match(file.stderr, bombLine);
      assert.ok(file.peakBytes < CLI_PEAK_BOUND_BYTES, `peak ${mib(file.peakBytes)}`);
    }
    assert.equal(cg.oomKills(), 0);
    process.stderr.write(`# measured (gzip bomb, 1 GiB in ~1 MiB): ${measured.join("; ")}\n`);
  });

  it("item 5: /debug/vars nested 500,000 deep: one-line protocol error, no stack trace in gopsd's log", async () => {
    for (const host of [[], ["--host", gopsd.address]]) {
      const res = await cliIn(cg, [...host, "memstats", String(vars.pid)], work);
      assert.notEqual(res.code, 0, res.stdout);
      const lines = res.stderr.trim().split("\n");
      assert.equal(lines.length, 1, res.stderr);
      assert.match(lines[0]!, /\/debug\/vars nests JSON deeper than 64 levels/);
      assert.doesNotMatch(lines[0]!, /Maximum call stack/);
    }
    assert.doesNotMatch(gopsd.stderr(), /Maximum call stack|^\s+at /m, gopsd.stderr());
    assert.equal(gopsd.proc.exitCode, null);
  });
});
