// End to end: files a hostile local user (uid 65534) controls, against a real gopsd started as root.
// - A FIFO, and a symlink to /dev/ptmx, where the attacker's Go process's port file would be: the lookup
//   must not block (gopsd keeps answering health, `gopsctl ps` completes) and reports "not a regular file".
// - A runnable Go binary with 65,535 section headers all naming one 4 MiB name table without NUL: listing
//   processes (through gopsd and in-process) completes inside a 512 MiB memory cgroup.
// - Port files symlinked to root-only files holding "31337": neither the content nor the size leaks.
// gopsd, the attackers and the in-process CLI run in a memory cgroup (v1) that the test creates and removes.
import assert from "node:assert/strict";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { createChannel, createClient, type Channel } from "nice-grpc";
import { HealthDefinition } from "nice-grpc-server-health";
import { AgentState, DiagnosticsServiceDefinition, type ListProcessesResponse } from "../proto/index.js";
import { buildFixtures, cliArgs, repoRoot, startFixture, startGopsd, type Fixture, type Gopsd } from "./harness.js";
import { sectionBomb } from "./hostile-files.js";

const NOBODY = 65534;
const SERVING = 1;
/** The memory limit of the cgroup holding gopsd, the attackers and the CLI (README: gopsd stays under 256 MB). */
const CGROUP_LIMIT_BYTES = 512 << 20;
/** gopsd's peak RSS over the whole file, attacks included (the README's bound). */
const GOPSD_RSS_BOUND_BYTES = 256 << 20;
const MEMCG_ROOT = "/sys/fs/cgroup/memory";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A v1 memory cgroup of our own: processes are moved in by pid, and out again before it is removed. */
class MemCgroup {
  readonly dir: string;
  constructor(name: string, limitBytes: number) {
    if (!existsSync(`${MEMCG_ROOT}/cgroup.procs`)) throw new Error(`no cgroup v1 memory hierarchy at ${MEMCG_ROOT}`);
    this.dir = `${MEMCG_ROOT}/${name}-${process.pid}-${Date.now()}`;
    execFileSync("mkdir", [this.dir]);
    try {
      writeFileSync(`${this.dir}/memory.limit_in_bytes`, String(limitBytes));
    } catch (e) {
      rmdirSync(this.dir);
      throw e;
    }
  }
  add(pid: number): void {
    writeFileSync(`${this.dir}/cgroup.procs`, String(pid));
  }
  /** The highest memory use the cgroup has seen, and how often it hit its limit. */
  peak(): { maxUsage: number; failcnt: number } {
    return {
      maxUsage: Number(readFileSync(`${this.dir}/memory.max_usage_in_bytes`, "utf8")),
      failcnt: Number(readFileSync(`${this.dir}/memory.failcnt`, "utf8")),
    };
  }
  /** Moves whatever of ours is still inside to the root cgroup, then removes the cgroup. */
  remove(): void {
    for (const pid of readFileSync(`${this.dir}/cgroup.procs`, "utf8").split("\n").filter(Boolean)) {
      try {
        writeFileSync(`${MEMCG_ROOT}/cgroup.procs`, pid);
      } catch {
        // exited meanwhile
      }
    }
    rmdirSync(this.dir);
  }
}

/** Runs a shell command as the attacker (uid/gid 65534, no supplementary groups). */
function asNobody(script: string, ...args: string[]): void {
  execFileSync("setpriv", [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", "sh", "-c", script, "sh", ...args], {
    stdio: ["ignore", "ignore", "pipe"],
    timeout: 10_000,
  });
}

/** gopsctl (in-process backend unless --host is given) inside the cgroup; resolves with exit code and output. */
function cliInCgroup(cg: MemCgroup, args: string[], timeoutMs = 60_000): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      "sh",
      ["-c", 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"', "sh", cg.dir, process.execPath, ...cliArgs(), ...args],
      { cwd: repoRoot, env: { ...process.env, XDG_CONFIG_HOME: tmpdir() + "/gopsctl-hostile-none" }, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("error", reject);
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Starts the section-bomb binary as the attacker and waits for its READY line. */
async function startAsNobody(exe: string): Promise<ChildProcess & { pid: number }> {
  const child = spawn("setpriv", [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", exe], { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the bomb binary did not start")), 10_000);
    let out = "";
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      if (/READY pid=\d+/.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once("exit", (code) => reject(new Error(`the bomb binary exited with ${code}`)));
  });
  child.stdout!.resume();
  return child as ChildProcess & { pid: number };
}

describe("hostile files (attacker uid 65534, gopsd as root, in a 512 MiB memory cgroup)", () => {
  let cg: MemCgroup;
  let gopsd: Gopsd;
  let channel: Channel;
  let work: string;
  const fixtures: Fixture[] = [];
  let bomb: (ChildProcess & { pid: number }) | undefined;

  const client = () => createClient(DiagnosticsServiceDefinition, channel);
  const health = async (): Promise<number> =>
    (await createClient(HealthDefinition, channel).check({ service: DiagnosticsServiceDefinition.fullName }, { signal: AbortSignal.timeout(3_000) })).status;
  const list = (all = false): Promise<ListProcessesResponse> => client().listProcesses({ all }, { signal: AbortSignal.timeout(20_000) });

  /**
   * Runs `attack` while polling health every 100 ms; fails unless every poll answered SERVING. A gopsd whose
   * event loop is blocked, or that died, fails the polls (each has a 3 s deadline).
   */
  async function whileHealthy<T>(attack: () => Promise<T>): Promise<T> {
    let polling = true;
    const polls = (async () => {
      const seen: string[] = [];
      while (polling) {
        seen.push(await health().then(String, (e: unknown) => `error ${String(e)}`));
        await sleep(100);
      }
      return seen;
    })();
    try {
      return await attack();
    } finally {
      polling = false;
      const seen = await polls;
      assert.ok(seen.length > 0 && seen.every((s) => s === String(SERVING)), `health during the attack: ${seen.join(",")}`);
    }
  }

  /** A Go program of the attacker whose port file (not yet written) goes to a directory the attacker owns. */
  async function attackerProgram(): Promise<Fixture> {
    const f = await startFixture("plain", { uid: NOBODY, gid: NOBODY });
    fixtures.push(f);
    cg.add(f.pid);
    asNobody('mkdir -p "$1"', f.configDir);
    return f;
  }

  before(async () => {
    cg = new MemCgroup("gopsctl-hostile-files", CGROUP_LIMIT_BYTES);
    work = await mkdtemp(path.join(tmpdir(), "gopsctl-hostile-"));
    await chmod(work, 0o755);
    gopsd = await startGopsd({ args: ["--host-name", "hostile-files"] });
    cg.add(gopsd.proc.pid!);
    channel = createChannel(gopsd.address);
    assert.equal(await health(), SERVING);
  });

  after(async () => {
    channel?.close();
    bomb?.kill("SIGKILL");
    await Promise.all(fixtures.map((f) => f.stop()));
    await gopsd?.stop();
    if (bomb && bomb.exitCode === null && bomb.signalCode === null) await new Promise((r) => bomb!.once("exit", r));
    // The CLI children have exited; gopsd and the fixtures are gone: the cgroup is empty or nearly so.
    cg?.remove();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("a FIFO or a /dev/ptmx symlink as port file is reported, never opened: ps completes, health answers", async () => {
    const fifo = await attackerProgram();
    const ptmx = await attackerProgram();
    asNobody('mkfifo "$1/$2"', fifo.configDir, String(fifo.pid));
    asNobody('ln -s /dev/ptmx "$1/$2"', ptmx.configDir, String(ptmx.pid));

    const res = await whileHealthy(() => list());
    for (const f of [fifo, ptmx]) {
      const p = res.processes.find((x) => x.pid === f.pid);
      assert.ok(p, `pid ${f.pid} listed`);
      assert.equal(p.agent?.state, AgentState.AGENT_STATE_INVALID);
      assert.match(p.agent!.detail, /port file is not a regular file/);
    }
    assert.equal(await health(), SERVING, "gopsd answers health after the lookups");
    const one = await client().getProcess({ pid: fifo.pid }, { signal: AbortSignal.timeout(10_000) });
    assert.match(JSON.stringify(one), /not a regular file/);

    const local = await whileHealthy(() => cliInCgroup(cg, ["ps", "--json"]));
    assert.equal(local.code, 0, local.stderr);
    const json = JSON.parse(local.stdout) as { processes: { pid: number; agent: { state: string; detail: string } }[] };
    for (const f of [fifo, ptmx]) {
      const p = json.processes.find((x) => x.pid === f.pid);
      assert.equal(p?.agent.state, "INVALID");
      assert.match(p.agent.detail, /not a regular file/);
    }
    const remote = await cliInCgroup(cg, ["--host", gopsd.address, "ps", "--json"]);
    assert.equal(remote.code, 0, remote.stderr);
    assert.equal(await health(), SERVING);
  });

  it("port files symlinked to root-only files leak neither content nor size", async () => {
    // Root's secrets: a 0600 file, and a 0644 file inside a 0700 directory.
    const secret = path.join(work, "root-only");
    await writeFile(secret, "31337\n", { mode: 0o600 });
    const vault = path.join(work, "vault");
    await mkdir(vault, { mode: 0o700 });
    await writeFile(path.join(vault, "note"), "31337\n", { mode: 0o644 });
    const odd = path.join(work, "odd-root-only");
    await writeFile(odd, "no port here, 31 bytes of text\n", { mode: 0o600 });

    const direct = await attackerProgram();
    const viaDir = await attackerProgram();
    const oddSize = await attackerProgram();
    asNobody('ln -s "$1" "$2/$3"', secret, direct.configDir, String(direct.pid));
    asNobody('ln -s "$1/note" "$2/$3"', vault, viaDir.configDir, String(viaDir.pid));
    asNobody('ln -s "$1" "$2/$3"', odd, oddSize.configDir, String(oddSize.pid));

    const res = await whileHealthy(() => list());
    for (const f of [direct, viaDir, oddSize]) {
      const p = res.processes.find((x) => x.pid === f.pid);
      assert.ok(p?.agent, `pid ${f.pid} listed`);
      const shown = JSON.stringify(p.agent);
      assert.doesNotMatch(shown, /31337/, `content leaked: ${shown}`);
      assert.doesNotMatch(shown, /\d+ bytes/, `size leaked: ${shown}`);
      assert.equal(p.agent.port, 0);
      assert.equal(p.agent.state, AgentState.AGENT_STATE_UNKNOWN);
      assert.match(p.agent.detail, /permission denied/);
    }
    // The attacker's own readable file still works as a port file (the check is not a blanket refusal).
    const own = await attackerProgram();
    asNobody('printf 31337 > "$1/$2"', own.configDir, String(own.pid));
    const mine = (await list()).processes.find((x) => x.pid === own.pid);
    // Nothing of the attacker listens there: STALE (SPOOFED if some other process happens to).
    assert.ok(mine?.agent && [AgentState.AGENT_STATE_STALE, AgentState.AGENT_STATE_SPOOFED].includes(mine.agent.state), JSON.stringify(mine?.agent));
    assert.equal(mine.agent.port, 31337);

    const local = await whileHealthy(() => cliInCgroup(cg, ["ps", "--json"]));
    assert.equal(local.code, 0, local.stderr);
    for (const f of [direct, viaDir, oddSize]) {
      const p = (JSON.parse(local.stdout) as { processes: { pid: number; agent: unknown }[] }).processes.find((x) => x.pid === f.pid);
      assert.ok(p);
      assert.doesNotMatch(JSON.stringify(p), /31337|\d+ bytes/);
    }
    assert.equal(await health(), SERVING);
  });

  it("an ELF with 65,535 section headers over one 4 MiB NUL-less name table: ps completes within the memory limit", async () => {
    const exe = path.join(work, "section-bomb");
    await writeFile(exe, sectionBomb(await readFile((await buildFixtures()).plain)), { mode: 0o755 });
    await chown(exe, NOBODY, NOBODY);
    bomb = await startAsNobody(exe);
    cg.add(bomb.pid);

    // The attack runs while health is polled: every answer must come.
    const [res, local, remote] = await whileHealthy(async () => [
      await list(true),
      await cliInCgroup(cg, ["ps", "--all-processes", "--json"]),
      await cliInCgroup(cg, ["--host", gopsd.address, "ps", "--all-processes", "--json"]),
    ] as const);

    // Through gopsd: the process is there, classified from the program headers (its build info is intact)
    // or reported as a problem, never a crash.
    const listed = res.processes.some((p) => p.pid === bomb!.pid) || res.problems.some((p) => p.pid === bomb!.pid);
    assert.ok(listed, `pid ${bomb.pid} neither listed nor reported`);
    for (const out of [local, remote]) {
      assert.equal(out.code, 0, `gopsctl ps exited ${out.code ?? out.signal}: ${out.stderr.slice(0, 2000)}`);
      const json = JSON.parse(out.stdout) as { processes: { pid: number }[]; problems: { pid: number }[] };
      assert.ok(json.processes.some((p) => p.pid === bomb!.pid) || json.problems.some((p) => p.pid === bomb!.pid));
    }
    assert.equal(gopsd.proc.exitCode, null, "gopsd is alive");
    assert.equal(await health(), SERVING);
    // The cgroup counts what was allocated inside it (gopsd's start-up memory stays charged where it started);
    // gopsd's own peak RSS is the whole picture for the daemon.
    const { maxUsage } = cg.peak();
    assert.ok(maxUsage < CGROUP_LIMIT_BYTES, `cgroup peak ${maxUsage} bytes`);
    const hwm = Number(/^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${gopsd.proc.pid}/status`, "utf8"))?.[1]) * 1024;
    assert.ok(hwm < GOPSD_RSS_BOUND_BYTES, `gopsd peak RSS ${hwm} bytes`);
    console.log(`hostile-files: gopsd peak RSS ${(hwm / 2 ** 20).toFixed(0)} MiB, cgroup peak ${(maxUsage / 2 ** 20).toFixed(0)} MiB`);
  });

  it("after all of it gopsd still stops on SIGTERM (no SIGKILL needed)", async () => {
    assert.equal(await health(), SERVING);
    await gopsd.stop();
    assert.notEqual(gopsd.proc.signalCode, "SIGKILL", "gopsd had to be killed");
  });
});
