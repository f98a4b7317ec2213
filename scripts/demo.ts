// `npm run demo`: a guided tour on this machine. Builds the sample Go program (our gops-compatible agent, from
// integration/fixtures; needs Debian's golang-go), starts it and a local gopsd in dev mode, and runs gopsctl
// against both: without a daemon, then through gopsd with a dev token. Everything it starts is stopped at the end.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { repoRoot, startFixture, startGopsd } from "../integration/harness.js";

const configHome = mkdtempSync(path.join(tmpdir(), "gopsctl-demo-"));
const env = { ...process.env, XDG_CONFIG_HOME: configHome };
// The installed bin (npm ci builds dist/), as a user would run it.
const cli = path.join(repoRoot, "dist", "cli", "main.js");

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
