// End-to-end test harness: builds the Go fixtures, starts fixture processes,
// gopsd servers and CLI runs, and makes sure every child dies with the test process.
import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { chmod, chown, copyFile, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { constants as osConstants, tmpdir } from "node:os";
import path from "node:path";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";

/** The repository root (the folder holding package.json). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

const GO = "/usr/bin/go";
const fixturesSource = path.join(repoRoot, "integration", "fixtures");
const cacheRoot = path.join(repoRoot, ".cache");
const fixturesCache = path.join(cacheRoot, "fixtures");
const READY_TIMEOUT_MS = 10_000;
/**
 * gopsd compiles its TypeScript (tsx) as it starts: on a busy 2-core machine (other test files, a `go build`
 * loop) that took more than 10 s. A bound against a hang, not a speed check.
 */
const GOPSD_READY_TIMEOUT_MS = 60_000;
/** tsx resolved from this repository, so children started in another cwd still load TypeScript. */
const TSX_LOADER = import.meta.resolve("tsx");
const STOP_GRACE_MS = 3_000;
const GO_BUILD_TIMEOUT_MS = 300_000;
const OUTPUT_CAP = 4 << 20;

export type FixtureKind = "agentprog" | "plain" | "httpprog";

export interface FixtureBinaries {
  agentprog: string;
  plain: string;
  /** A bare TCP listener with a port file, for /proc tests (server/proc/go-test-program.testkit.ts). */
  listener: string;
  /** net/http/pprof server, plain 404 HTTP server or silent TCP server (integration/fixtures/httpprog). */
  httpprog: string;
}

/** The fixtures' Go module: the main module path in their build info. */
export const FIXTURES_MODULE = "gopsctl.test/fixtures";
const FIXTURE_NAMES = ["agentprog", "plain", "listener", "httpprog"] as const;

export interface FixtureOptions {
  /** Command-line flags for the fixture (see integration/fixtures/agentprog/main.go). */
  args?: string[];
  /**
   * Environment on top of the inherited one (GOPS_CONFIG_DIR and XDG_CONFIG_HOME are never inherited).
   * Without GOPS_CONFIG_DIR here the fixture gets a fresh temp one; `GOPS_CONFIG_DIR: ""` passes it empty,
   * which the agent treats as unset (it then uses XDG_CONFIG_HOME or HOME).
   */
  env?: Record<string, string>;
  /** Run as this user (needs root); the default HOME is then a fresh temp dir owned by that user. */
  uid?: number;
  /** Group for `uid`; defaults to the user's passwd group, else the uid. */
  gid?: number;
  /** HOME for the fixture. */
  home?: string;
  /**
   * Run a copy of the binary under this file name (its comm, argv[0] and exe path), in a fresh temp dir any
   * user can enter: a hostile process's name.
   */
  exeName?: string;
}

export interface Fixture {
  pid: number;
  /** The agent's port; undefined for `plain` and for `-spoof-port` (which listens nowhere). */
  port?: number;
  /** Where this fixture's agent writes (or would write) its port file, resolved like the agent does. */
  configDir: string;
  /** The executable the fixture runs from. */
  exe: string;
  proc: ChildProcess;
  stderr(): string;
  /** SIGTERM, then SIGKILL after 3 s; resolves once the process has exited. Temp dirs stay until exit. */
  stop(): Promise<void>;
}

export interface Gopsd {
  /** host:port printed by gopsd on `gopsd: listening on <address>`. */
  address: string;
  proc: ChildProcess;
  stop(): Promise<void>;
  stderr(): string;
  stdout(): string;
}

export interface GopsdOptions {
  args?: string[];
  env?: Record<string, string>;
}

export interface CliOptions {
  env?: Record<string, string>;
  /** Written to stdin, which is then closed (stdin is always a pipe, never a TTY). */
  input?: string;
  /** Kill the CLI and reject after this long; default 60 s. */
  timeoutMs?: number;
  /** Working directory; default the repository root. */
  cwd?: string;
  /** Send the CLI a signal mid-run (Ctrl-C is SIGINT); only while it is still running. */
  signal?: CliSignal;
}

export interface CliSignal {
  /** Default SIGINT. */
  name?: NodeJS.Signals;
  /** Not before this many ms after the start; default 0. */
  afterMs?: number;
  /** And not before this holds (checked every 20 ms), e.g. once the CLI printed something or made a file. */
  when?: (output: { stdout: string; stderr: string }) => boolean;
}

export interface CliResult {
  /** Exit status; 128 + signal number when killed by a signal. */
  code: number;
  stdout: string;
  stderr: string;
}

// ---------------------------------------------------------------------------
// Child tracking: everything started here is killed when this process exits.

const liveChildren = new Set<ChildProcess>();
const tempDirs = new Set<string>();

function killEverything(): void {
  for (const child of liveChildren) child.kill("SIGKILL");
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
}

process.on("exit", killEverything);
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.once(signal, () => {
    killEverything();
    process.kill(process.pid, signal);
  });
}

function track(child: ChildProcess): Promise<void> {
  liveChildren.add(child);
  return new Promise((resolve) => {
    const done = (): void => {
      liveChildren.delete(child);
      resolve();
    };
    if (child.exitCode !== null || child.signalCode !== null) done();
    else {
      child.once("exit", done);
      child.once("error", () => {
        if (child.pid === undefined) done();
      });
    }
  });
}

async function makeTempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

function collect(stream: Readable | null): () => string {
  let text = "";
  stream?.setEncoding("utf8");
  stream?.on("data", (chunk: string) => {
    if (text.length < OUTPUT_CAP) text += chunk;
  });
  return () => text;
}

/** Resolves with the first match of `pattern` on a line of `stream`; rejects on exit or after `timeoutMs`. */
function waitForLine(
  child: ChildProcess,
  stream: Readable | null,
  pattern: RegExp,
  timeoutMs: number,
  what: string,
  diagnostics: () => string,
): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let buffered = "";
    const finish = (error: Error | null, match?: RegExpMatchArray): void => {
      clearTimeout(timer);
      stream?.off("data", onData);
      child.off("exit", onExit);
      child.off("error", onError);
      if (error) reject(error);
      else resolve(match!);
    };
    const onData = (chunk: Buffer | string): void => {
      buffered += chunk.toString();
      let newline: number;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        const match = line.match(pattern);
        if (match) return finish(null, match);
      }
    };
    const onExit = (code: number | null, signal: string | null): void =>
      finish(new Error(`${what} exited (code ${code}, signal ${signal}) before it was ready:\n${diagnostics()}`));
    const onError = (error: Error): void => finish(new Error(`${what} failed to start: ${error.message}`));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      finish(new Error(`${what} was not ready within ${timeoutMs} ms:\n${diagnostics()}`));
    }, timeoutMs);
    stream?.on("data", onData);
    child.once("exit", onExit);
    child.once("error", onError);
  });
}

function stopper(child: ChildProcess, exited: Promise<void>): () => Promise<void> {
  return async () => {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
    child.kill("SIGTERM");
    // A SIGSTOPped child (a "hung host") only acts on SIGTERM once continued.
    child.kill("SIGCONT");
    const killer = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
    await exited;
    clearTimeout(killer);
  };
}

function run(
  command: string,
  args: string[],
  options: SpawnOptions,
  timeoutMs: number,
): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  const child = spawn(command, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
  const exited = track(child);
  const stdout = collect(child.stdout);
  const stderr = collect(child.stderr);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      void exited.then(() => resolve({ code, signal, stdout: stdout(), stderr: stderr() }));
    });
  });
}

// ---------------------------------------------------------------------------
// Building the fixtures.

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((entry) => {
      const full = path.join(dir, entry.name);
      return entry.isDirectory() ? listFiles(full) : Promise.resolve(entry.isFile() ? [full] : []);
    }),
  );
  return nested.flat();
}

async function sourceHash(): Promise<string> {
  const hash = createHash("sha256");
  const version = await run(GO, ["version"], { env: goEnv() }, 30_000);
  hash.update(version.stdout);
  for (const file of (await listFiles(fixturesSource)).sort()) {
    hash.update(path.relative(fixturesSource, file)).update("\0").update(await readFile(file)).update("\0");
  }
  return hash.digest("hex").slice(0, 16);
}

function goEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    GOPROXY: "off",
    GOFLAGS: "-mod=mod",
    GOCACHE: path.join(cacheRoot, "go-build"),
    GOPATH: path.join(cacheRoot, "gopath"),
    GOTOOLCHAIN: "local",
    CGO_ENABLED: "0",
  };
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

async function build(): Promise<FixtureBinaries> {
  const hash = await sourceHash();
  const dir = path.join(fixturesCache, hash);
  const binaries = Object.fromEntries(FIXTURE_NAMES.map((n) => [n, path.join(dir, n)])) as unknown as FixtureBinaries;
  if ((await Promise.all(FIXTURE_NAMES.map((n) => isFile(binaries[n])))).every(Boolean)) return binaries;

  await mkdir(fixturesCache, { recursive: true });
  await chmod(cacheRoot, 0o755);
  await chmod(fixturesCache, 0o755);
  // Build into a private dir, then rename it into place: concurrent builders
  // never see a half-written binary, and the first rename wins.
  const staging = await mkdtemp(path.join(fixturesCache, "tmp-"));
  try {
    const result = await run(
      GO,
      ["build", "-o", staging + path.sep, ...FIXTURE_NAMES.map((n) => `./${n}`)],
      { cwd: fixturesSource, env: goEnv() },
      GO_BUILD_TIMEOUT_MS,
    );
    if (result.code !== 0) {
      throw new Error(`go build of the fixtures failed (code ${result.code}, signal ${result.signal}):\n${result.stderr}`);
    }
    await chmod(staging, 0o755);
    for (const n of FIXTURE_NAMES) await chmod(path.join(staging, n), 0o755);
    try {
      await rename(staging, dir);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if ((code !== "ENOTEMPTY" && code !== "EEXIST") || !(await isFile(binaries.listener))) throw error;
    }
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  // Drop builds of older sources (in-flight staging dirs are left alone).
  for (const entry of await readdir(fixturesCache)) {
    if (/^[0-9a-f]{16}$/.test(entry) && entry !== hash) {
      await rm(path.join(fixturesCache, entry), { recursive: true, force: true });
    }
  }
  return binaries;
}

let built: Promise<FixtureBinaries> | undefined;

/**
 * Builds the Go fixtures once per machine into <repo>/.cache/fixtures/<source hash>/ with /usr/bin/go,
 * offline; later calls (in any process) reuse the binaries while the sources are unchanged.
 */
export function buildFixtures(): Promise<FixtureBinaries> {
  built ??= build().catch((error: unknown) => {
    built = undefined;
    throw error;
  });
  return built;
}

// ---------------------------------------------------------------------------
// Fixture processes.

interface PasswdEntry {
  gid: number;
  home: string;
}

function passwdEntry(uid: number): PasswdEntry | undefined {
  for (const line of readFileSync("/etc/passwd", "utf8").split("\n")) {
    const fields = line.split(":");
    if (fields.length >= 6 && Number(fields[2]) === uid) return { gid: Number(fields[3]), home: fields[5]! };
  }
  return undefined;
}

/** The agent's config dir for this environment, by docs/agent-protocol.md §1.1 (Linux). */
function resolveConfigDir(env: NodeJS.ProcessEnv, cwd: string, uid: number): string {
  if (env.GOPS_CONFIG_DIR) return path.resolve(cwd, env.GOPS_CONFIG_DIR);
  if (env.XDG_CONFIG_HOME) return path.resolve(cwd, env.XDG_CONFIG_HOME, "gops");
  const home = env.HOME || passwdEntry(uid)?.home;
  if (!home) throw new Error(`no HOME and no passwd entry for uid ${uid}: the agent cannot resolve a config dir`);
  return path.resolve(cwd, home, ".config", "gops");
}

async function reachableByOthers(file: string): Promise<boolean> {
  if (((await stat(file)).mode & 0o005) !== 0o005) return false;
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    if (((await stat(dir)).mode & 0o001) === 0) return false;
    if (path.dirname(dir) === dir) return true;
  }
}

/** The binary itself when any user can run it, else a copy in a world-readable temp dir. */
export async function executableForOtherUsers(exe: string): Promise<string> {
  if (await reachableByOthers(exe)) return exe;
  const dir = path.join(tmpdir(), `gopsctl-fixtures-${path.basename(path.dirname(exe))}`);
  const copy = path.join(dir, path.basename(exe));
  if (await isFile(copy)) return copy;
  await mkdir(dir, { recursive: true });
  await chmod(dir, 0o755);
  const staging = `${copy}.tmp-${randomBytes(6).toString("hex")}`;
  await copyFile(exe, staging);
  await chmod(staging, 0o755);
  await rename(staging, copy);
  return copy;
}

/**
 * `entry` (a TypeScript file of this repository) bundled by esbuild into one ES module, with its dependencies, in a
 * fresh temp dir any user can read: what a process of another user (the uid 65534 attacker) runs with plain
 * `node FILE`. Such a process must load nothing from the checkout, which it may not be able to read (a clone under
 * a mode-700 directory such as /root). The dir is removed when this process exits.
 */
export async function scriptForOtherUsers(entry: string): Promise<string> {
  const { build } = await import("esbuild");
  const dir = await makeTempDir("gopsctl-script-");
  await chmod(dir, 0o755);
  const outfile = path.join(dir, `${path.basename(entry, path.extname(entry))}.mjs`);
  await build({ entryPoints: [entry], outfile, bundle: true, platform: "node", format: "esm", target: "node20", logLevel: "error" });
  await chmod(outfile, 0o644);
  return outfile;
}

/** The Go version the fixtures are built with, as their build info records it (e.g. "go1.19.8"). */
export async function fixturesGoVersion(): Promise<string> {
  const { stdout, code } = await run(GO, ["env", "GOVERSION"], { env: goEnv() }, 30_000);
  if (code !== 0) throw new Error(`go env GOVERSION failed (code ${code})`);
  return stdout.trim();
}

/**
 * Starts a fixture and waits (10 s at most) for its READY line. By default it gets a fresh temp
 * GOPS_CONFIG_DIR (<tmp>/gops, not yet created) and runs in a fresh temp cwd.
 */
export async function startFixture(kind: FixtureKind, opts: FixtureOptions = {}): Promise<Fixture> {
  let exe = (await buildFixtures())[kind];
  if (opts.exeName !== undefined) {
    const dir = await makeTempDir("gopsctl-exe-");
    await chmod(dir, 0o755);
    const copy = path.join(dir, opts.exeName);
    await copyFile(exe, copy);
    await chmod(copy, 0o755);
    exe = copy;
  }
  const runAs = opts.uid ?? process.getuid!();
  const gid = opts.uid === undefined ? opts.gid : (opts.gid ?? passwdEntry(opts.uid)?.gid ?? opts.uid);

  const workDir = await makeTempDir(`gopsctl-${kind}-`);
  let home = opts.home;
  if (opts.uid !== undefined) {
    exe = await executableForOtherUsers(exe);
    await chown(workDir, opts.uid, gid ?? opts.uid);
    if (home === undefined) {
      home = await makeTempDir("gopsctl-home-");
      await chown(home, opts.uid, gid ?? opts.uid);
    }
  }

  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.GOPS_CONFIG_DIR;
  delete env.XDG_CONFIG_HOME;
  if (home !== undefined) env.HOME = home;
  env.GOPS_CONFIG_DIR = path.join(workDir, "gops");
  Object.assign(env, opts.env);
  const configDir = resolveConfigDir(env, workDir, runAs);

  const proc = spawn(exe, opts.args ?? [], {
    cwd: workDir,
    env,
    stdio: ["ignore", "pipe", "pipe"],
    ...(opts.uid !== undefined ? { uid: opts.uid } : {}),
    ...(gid !== undefined ? { gid } : {}),
  });
  const exited = track(proc);
  const stderr = collect(proc.stderr);
  const ready = await waitForLine(
    proc,
    proc.stdout,
    /^READY pid=(\d+)(?: port=(\d+))?/,
    READY_TIMEOUT_MS,
    `fixture ${kind} ${(opts.args ?? []).join(" ")}`,
    stderr,
  );
  proc.stdout?.resume();
  const pid = Number(ready[1]);
  if (pid !== proc.pid) throw new Error(`fixture reported pid ${pid} but was started as ${proc.pid}`);
  return {
    pid,
    ...(ready[2] !== undefined ? { port: Number(ready[2]) } : {}),
    configDir,
    exe,
    proc,
    stderr,
    stop: stopper(proc, exited),
  };
}

/**
 * Runs gopsd (see gopsdCommand) on 127.0.0.1:0 with --insecure (no auth unless `args` configure it; later flags
 * such as another --listen override these) and waits (10 s at most) for `gopsd: listening on <address>`.
 */
export async function startGopsd(opts: GopsdOptions = {}): Promise<Gopsd> {
  const [program, leading] = gopsdCommand();
  const proc = spawn(
    program,
    [...leading, "--listen", "127.0.0.1:0", "--insecure", ...(opts.args ?? [])],
    { cwd: repoRoot, env: { ...process.env, ...opts.env }, stdio: ["ignore", "pipe", "pipe"] },
  );
  const exited = track(proc);
  const stdout = collect(proc.stdout);
  const stderr = collect(proc.stderr);
  const address = await gopsdAddress(proc, stderr);
  return { address, proc, stop: stopper(proc, exited), stderr, stdout };
}

/**
 * The address a gopsd however started (harness, bench, the bin itself) prints once it listens
 * (`gopsd: listening on <address>`). If it exits first or is not ready within 60 s it is killed (a live child
 * keeps the test file's process, and the whole run, from ending) and this rejects with its stderr.
 */
export async function gopsdAddress(proc: ChildProcess, stderr: () => string = collect(proc.stderr)): Promise<string> {
  try {
    return (await waitForLine(proc, proc.stderr, /^gopsd: listening on (\S+)/, GOPSD_READY_TIMEOUT_MS, "gopsd", stderr))[1]!;
  } catch (e) {
    proc.kill("SIGKILL");
    throw e;
  }
}

/**
 * Starts one gopsd per argument list, `batch` at a time (each compiles its TypeScript at start, and the machine
 * has 2 cores). If one fails, those already started are stopped before the error is thrown: a live child
 * would keep the test file's process, and the whole run, from ending.
 */
export async function startGopsds(specs: readonly string[][], batch = 4): Promise<Gopsd[]> {
  const started: Gopsd[] = [];
  for (let i = 0; i < specs.length; i += batch) {
    const settled = await Promise.allSettled(specs.slice(i, i + batch).map((args) => startGopsd({ args })));
    for (const r of settled) if (r.status === "fulfilled") started.push(r.value);
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed !== undefined) {
      await Promise.all(started.map((g) => g.stop()));
      throw failed.reason;
    }
  }
  return started;
}

/** Whether the tests run the built bins (npm test builds them just before the tests and sets GOPSCTL_TEST_BINS=dist). */
const builtBins = () => process.env.GOPSCTL_TEST_BINS === "dist";

/**
 * node's arguments that run gopsctl: the built bin (dist/cli/gopsctl.cjs, as installed) under npm test, else
 * cli/main.ts through tsx (a test run by hand on sources that are not built).
 */
export function cliArgs(): string[] {
  if (builtBins()) return [path.join(repoRoot, "dist", "cli", "gopsctl.cjs")];
  return ["--import", TSX_LOADER, path.join(repoRoot, "cli", "main.ts")];
}

/**
 * The program and leading arguments that run gopsd: under npm test the built bin as deployed, executed itself so
 * its shebang's V8 flags apply (the same pid: env execs node); else server/main.ts through tsx.
 */
export function gopsdCommand(): [string, string[]] {
  if (builtBins()) return [path.join(repoRoot, "dist", "server", "main.js"), []];
  return [process.execPath, ["--import", TSX_LOADER, path.join(repoRoot, "server", "main.ts")]];
}

/** Runs the CLI (see cliArgs) with pipes for stdin/stdout/stderr and resolves when it exits. */
export async function runCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const proc = spawn(process.execPath, [...cliArgs(), ...args], {
    cwd: opts.cwd ?? repoRoot,
    // Never the user's own gopsctl config or credentials: a test names everything it wants.
    env: { ...cliBaseEnv(), ...opts.env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  const exited = track(proc);
  const stdout = collect(proc.stdout);
  const stderr = collect(proc.stderr);
  proc.stdin?.on("error", () => {}); // the CLI may exit without reading its input
  proc.stdin?.end(opts.input ?? "");
  const signaller = opts.signal === undefined ? undefined : signalWhenReady(proc, opts.signal, () => ({ stdout: stdout(), stderr: stderr() }));
  return new Promise((resolve, reject) => {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      proc.kill("SIGKILL");
    }, timeoutMs);
    proc.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    proc.once("close", (code, signal) => {
      clearTimeout(timer);
      clearInterval(signaller);
      void exited.then(() => {
        if (timedOut) {
          reject(
            new Error(
              `gopsctl ${args.join(" ")} did not exit within ${timeoutMs} ms\nstdout:\n${stdout()}\nstderr:\n${stderr()}`,
            ),
          );
          return;
        }
        const status = code ?? 128 + (signal ? osConstants.signals[signal] : 0);
        resolve({ code: status, stdout: stdout(), stderr: stderr() });
      });
    });
  });
}

/** Polls every 20 ms until `signal`'s conditions hold, then sends it once. Returns the poller to clear on exit. */
function signalWhenReady(proc: ChildProcess, signal: CliSignal, output: () => { stdout: string; stderr: string }): NodeJS.Timeout {
  const started = Date.now();
  const poller = setInterval(() => {
    if (proc.exitCode !== null || proc.signalCode !== null) return clearInterval(poller);
    if (Date.now() - started < (signal.afterMs ?? 0)) return;
    if (signal.when !== undefined && !signal.when(output())) return;
    clearInterval(poller);
    proc.kill(signal.name ?? "SIGINT");
  }, 20);
  return poller;
}

/**
 * A valid pid that no process has or can get: the kernel's pid_max (pids are allocated below it, and it is at
 * most 4194304, the largest pid gopsctl accepts). Not the pid of a process that just exited: with other
 * processes starting on the machine (a `go build` loop), a freed pid can be reused within a test.
 */
export async function deadPid(): Promise<number> {
  const pidMax = Number((await readFile("/proc/sys/kernel/pid_max", "utf8")).trim());
  if (!Number.isInteger(pidMax) || pidMax < 2) throw new Error(`unexpected /proc/sys/kernel/pid_max: ${pidMax}`);
  return pidMax;
}

export { portNobodyListensOn } from "./ports.js";

/** Writes `<dir>/<pid>` holding `port` (a string allows malformed content), like a leftover port file. */
export async function writeStalePortFile(dir: string, pid: number, port: number | string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, String(pid));
  await writeFile(file, String(port), { mode: 0o755 });
  return file;
}

/** The test process's environment without GOPSCTL_* settings, with an empty config home. */
function cliBaseEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("GOPSCTL_")) env[k] = v;
  env.XDG_CONFIG_HOME = cliConfigHome ??= mkdtempSync(path.join(tmpdir(), "gopsctl-cli-config-"));
  tempDirs.add(cliConfigHome);
  return env;
}
let cliConfigHome: string | undefined;
