// `npm run demo`: a guided tour on this machine. Builds the sample Go program (our gops-compatible agent, from
// integration/fixtures; needs Debian's golang-go), starts it and a local gopsd in dev mode, and runs gopsctl
// against both: without a daemon, then through gopsd with a dev token. Everything it starts is stopped at the end.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { buildFixtures, repoRoot, startFixture, startGopsd } from "../integration/harness.js";

// The bins as installed (package.json "bin"; npm ci builds dist/ through prepare), gopsd included: the harness
// starts dist/server/main.js rather than the sources when GOPSCTL_TEST_BINS=dist.
const cli = path.join(repoRoot, "dist", "cli", "gopsctl.cjs");
const gopsdBin = path.join(repoRoot, "dist", "server", "main.js");
for (const bin of [cli, gopsdBin]) {
  if (!existsSync(bin)) {
    console.error(`demo: ${path.relative(repoRoot, bin)} is missing: run npm ci (or npm run build) first`);
    process.exit(1);
  }
}
process.env.GOPSCTL_TEST_BINS = "dist";
if (!existsSync("/usr/bin/go")) {
  console.error("demo: the sample Go program needs Debian's golang-go (/usr/bin/go): apt-get install golang-go");
  process.exit(1);
}

const configHome = mkdtempSync(path.join(tmpdir(), "gopsctl-demo-"));
const env = { ...process.env, XDG_CONFIG_HOME: configHome };

function gopsctl(args: string[], extraEnv: Record<string, string> = {}): string {
  process.stdout.write(`\n$ gopsctl ${args.join(" ")}\n`);
  const res = spawnSync(process.execPath, [cli, ...args, "--table"], {
    cwd: configHome,
    env: { ...env, ...extraEnv },
    encoding: "utf8",
  });
  process.stdout.write(res.stdout);
  process.stderr.write(res.stderr);
  if (res.status !== 0) throw new Error(`gopsctl ${args.join(" ")} exited ${res.status}`);
  return res.stdout;
}

function token(): string {
  const res = spawnSync(process.execPath, [cli, "token", "create", "--dev"], { env, encoding: "utf8" });
  if (res.status !== 0) throw new Error(`token create --dev failed: ${res.stderr}`);
  return res.stdout.trim();
}

console.log("building the sample Go program (integration/fixtures/agentprog) ...");
await buildFixtures();
const sample = await startFixture("agentprog", { args: ["-goroutines", "20", "-alloc"] });
console.log(`started a sample Go program with a gops agent: pid ${sample.pid}, agent on 127.0.0.1:${sample.port}`);
const gopsd = await startGopsd({ args: ["--dev", "--host-name", "demo"], env: { XDG_CONFIG_HOME: configHome } });
console.log(`started gopsd --dev on ${gopsd.address}`);
try {
  console.log("\n# This machine, in-process: no daemon needed");
  gopsctl(["ps"]);
  gopsctl(["stats", String(sample.pid)]);
  gopsctl(["stack", String(sample.pid), "--summary"]);
  console.log("\n# The same through gopsd, with a dev token (gopsctl token create --dev)");
  const t = token();
  gopsctl(["--host", gopsd.address, "memstats", String(sample.pid)], { GOPSCTL_TOKEN: t });
  gopsctl(["--host", gopsd.address, "pprof-heap", String(sample.pid), "--top", "5", "-o", "heap.pprof.gz"], { GOPSCTL_TOKEN: t });
  console.log("\n# Without a token gopsd refuses the call:");
  const denied = spawnSync(process.execPath, [cli, "--host", gopsd.address, "ps"], { env, encoding: "utf8" });
  process.stdout.write(`$ gopsctl --host ${gopsd.address} ps\n${denied.stderr}(exit ${denied.status})\n`);
} finally {
  await gopsd.stop();
  await sample.stop();
  rmSync(configHome, { recursive: true, force: true });
}
