// What the README tells a new user to run, run: every command line of its quick start and every `npm run` script it
// names exist, `npm run demo` runs for real (it crashed for weeks unnoticed), the bins print the package version,
// and the test command stops with one line when a requirement is missing. Also: the end-to-end tests start gopsd
// and gopsctl only through the harness, so `npm test` runs the bins just built, as the README says.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { chmod, copyFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { cliArgs, gopsdCommand, repoRoot } from "./harness.js";

const readme = readFileSync(path.join(repoRoot, "README.md"), "utf8");
const pkg = JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8")) as {
  name: string;
  version: string;
  bin: Record<string, string>;
  scripts: Record<string, string>;
};
const ROOT = process.getuid?.() === 0;

/** The text of a README section, from its `## Title` line to the next `## `. */
function section(title: string): string {
  const start = readme.indexOf(`\n## ${title}\n`);
  assert.ok(start >= 0, `README has a "## ${title}" section`);
  const end = readme.indexOf("\n## ", start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

/** The command lines of the first ```sh block of a section, comments and trailing `&` dropped. */
function shellLines(text: string): string[] {
  const m = /```sh\n([\s\S]*?)```/.exec(text);
  assert.ok(m, "a ```sh block");
  return m[1]!
    .split("\n")
    .map((l) => l.replace(/\s+#.*$/, "").replace(/\s*&$/, "").trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
}

/** Runs a program to its end (a bound against a hang), with its exit code and output. */
function runToEnd(program: string, args: string[], opts: { timeoutMs: number; env?: NodeJS.ProcessEnv; cwd?: string }) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(program, args, { cwd: opts.cwd ?? repoRoot, env: opts.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The bin npx runs for `name` in this checkout (package.json "bin"), which must be built. */
function binFile(name: string): string {
  const rel = pkg.bin[name];
  assert.ok(rel !== undefined, `package.json has a bin named ${name}`);
  const file = path.join(repoRoot, rel);
  assert.ok(existsSync(file), `${rel} is built (npm ci builds it; npm run build)`);
  return file;
}

describe("the README's quick start and npm scripts", () => {
  it("every command line of the quick start exists and runs (npm ci and npm test are checked, not run: this is npm test)", async () => {
    const lines = shellLines(section("Quick start"));
    assert.ok(lines.length >= 3, lines.join("\n"));
    for (const line of lines) {
      const [tool, sub, ...rest] = line.split(/\s+/);
      if (tool === "npm" && sub === "ci") {
        // npm ci installs exactly the lockfile: it must be there and match package.json.
        const lock = JSON.parse(readFileSync(path.join(repoRoot, "package-lock.json"), "utf8")) as { name: string; version: string };
        assert.deepEqual([lock.name, lock.version], [pkg.name, pkg.version], "package-lock.json matches package.json");
      } else if (tool === "npm" && (sub === "test" || sub === "run")) {
        const script = sub === "test" ? "test" : rest[0]!;
        assert.ok(pkg.scripts[script] !== undefined, `npm script "${script}" exists (README: ${line})`);
        if (script === "test") assert.match(pkg.scripts.test!, /^bash scripts\/test\.sh$/);
        else assert.fail(`the quick start runs npm run ${script}: add it to this test`);
      } else if (tool === "npx") {
        // npx NAME in this checkout runs the package's own bin NAME: run that file with the same arguments.
        const r = await runToEnd(process.execPath, [binFile(sub!), ...rest], { timeoutMs: 60_000 });
        assert.equal(r.code, 0, `${line}: ${r.stderr}`);
        if (sub === "gopsctl" && rest[0] === "ps") assert.match(r.stdout, /^PID\s+PPID\s+NAME\s+\*\s+VERSION\s+PATH$/m, line);
      } else {
        assert.fail(`the quick start shows "${line}", which this test does not know how to check`);
      }
    }
  });

  it("every `npm run X` the README names is a script of package.json, and every `npx X` a bin", () => {
    const scripts = [...readme.matchAll(/npm run (?:--silent )?([a-z][\w:-]*)/g)].map((m) => m[1]!);
    assert.ok(scripts.includes("demo") && scripts.includes("bench"), scripts.join(" "));
    for (const s of new Set(scripts)) assert.ok(pkg.scripts[s] !== undefined, `README names npm run ${s}, which package.json lacks`);
    const bins = [...readme.matchAll(/npx ([a-z][\w-]*)/g)].map((m) => m[1]!);
    for (const b of new Set(bins)) assert.ok(pkg.bin[b] !== undefined, `README runs npx ${b}, which is no bin of package.json`);
  });

  it("npm run demo runs: the sample program, gopsctl without and through gopsd, the refusal without a token; all stopped", { timeout: 300_000 }, async () => {
    const r = await runToEnd("npm", ["run", "--silent", "demo"], { timeoutMs: 280_000, env: { ...process.env, GOPSCTL_TEST_BINS: "" } });
    assert.equal(r.code, 0, `npm run demo exited ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
    const pid = /started a sample Go program with a gops agent: pid (\d+)/.exec(r.stdout)?.[1];
    assert.ok(pid, r.stdout);
    assert.match(r.stdout, /^started gopsd --dev on 127\.0\.0\.1:\d+$/m);
    // ps lists the sample with its agent (*); stats, the stack summary, memstats and the heap profile through gopsd.
    assert.match(r.stdout, new RegExp(`^${pid}\\s+\\d+\\s+agentprog\\s+\\*\\s+go1\\.`, "m"));
    assert.match(r.stdout, /^goroutines: \d+$/m);
    assert.match(r.stdout, /^heap-alloc: /m);
    assert.match(r.stdout, /^Type: inuse_space$/m);
    assert.match(r.stdout, /\(exit 8\)/);
    // Everything it started is stopped: the sample program is gone.
    assert.throws(() => process.kill(Number(pid), 0), { code: "ESRCH" });
  });

  it("gopsd --version and gopsctl --version print the package's version", async () => {
    const [program, leading] = gopsdCommand();
    const d = await runToEnd(program, [...leading, "--version"], { timeoutMs: 60_000 });
    assert.deepEqual(d, { code: 0, stdout: `gopsd ${pkg.version}\n`, stderr: "" });
    const c = await runToEnd(process.execPath, [...cliArgs(), "--version"], { timeoutMs: 60_000 });
    assert.deepEqual(c, { code: 0, stdout: `gopsctl ${pkg.version}\n`, stderr: "" });
  });
});

describe("npm test's prerequisites: one line naming what is missing", { skip: ROOT ? false : "needs root (setpriv, a mount namespace)" }, () => {
  it("not root: one line, exit 1", async () => {
    // A copy uid 65534 can read, wherever the checkout is.
    const dir = await mkdtemp(path.join(tmpdir(), "gopsctl-prereqs-"));
    try {
      await chmod(dir, 0o755);
      await copyFile(path.join(repoRoot, "scripts", "ensure-prereqs.sh"), path.join(dir, "ensure-prereqs.sh"));
      await chmod(path.join(dir, "ensure-prereqs.sh"), 0o644);
      const r = await runToEnd("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "bash", path.join(dir, "ensure-prereqs.sh")], { timeoutMs: 30_000, cwd: "/" });
      assert.equal(r.code, 1);
      assert.equal(r.stdout, "");
      assert.match(r.stderr, /^npm test must run as root \(.*\); run it with sudo\n$/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("no cgroup v1 pids hierarchy (hidden under a tmpfs in a private mount namespace): one line naming it, exit 1", async () => {
    const script = 'mount -t tmpfs gopsctl-no-pids /sys/fs/cgroup/pids && exec bash "$0"';
    const r = await runToEnd("unshare", ["--mount", "--propagation", "private", "--", "sh", "-c", script, path.join(repoRoot, "scripts", "ensure-prereqs.sh")], { timeoutMs: 30_000 });
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /^npm test needs the cgroup v1 pids hierarchies, writable, at \/sys\/fs\/cgroup\/\{memory,pids\} \(.*\); this machine has not: .*\n$/);
    assert.equal(r.stderr.split("\n").length, 2, "one line");
  });

  it("on this machine (root, cgroup v1, packages installed): nothing to say, exit 0", async () => {
    const r = await runToEnd("bash", [path.join(repoRoot, "scripts", "ensure-prereqs.sh")], { timeoutMs: 600_000 });
    assert.deepEqual(r, { code: 0, stdout: "", stderr: "" });
  });
});

describe("the end-to-end tests run gopsd and gopsctl as npm test builds them", () => {
  it("no test file starts server/main.ts or cli/main.ts itself: only the harness picks sources or the built bins", () => {
    const dir = path.join(repoRoot, "integration");
    for (const file of readdirSync(dir).filter((f) => f.endsWith(".ts") && f !== "harness.ts" && f !== "readme.e2e.test.ts")) {
      const text = readFileSync(path.join(dir, file), "utf8");
      const startsMain = /["'`](?:\.\.\/)?(?:server|cli)\/main\.ts|["'](?:server|cli)["'],\s*["']main\.ts["']/.test(text);
      assert.ok(!startsMain, `${file} starts a main.ts itself: use cliArgs()/gopsdCommand() from the harness`);
    }
  });
});
