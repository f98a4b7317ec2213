#!/usr/bin/env -S MALLOC_MMAP_THRESHOLD_=65536 node --max-semi-space-size=2
// The shebang's settings apply to the bin (npx gopsd, systemd's ExecStart, the DaemonSet's command), not to
// `node dist/server/main.js`:
// - --max-semi-space-size=2 caps the young generation's semi-spaces at 2 MB: under 200 concurrent clients V8 grew
//   them to 16 MB each, and peak RSS fell from ~164 MB to ~136 MB with the cap, for a few more short scavenges.
// - MALLOC_MMAP_THRESHOLD_ (glibc; ignored elsewhere) fixes malloc's mmap threshold at 64 KiB. glibc's default
//   threshold is dynamic: each freed large block raises it (here to MBs), and the trim threshold with it, so after
//   a load the threads' arenas kept ~10 MB of free memory for good and big buffers piled into the main heap.
//   Fixed, thread arenas are trimmed and 64 KiB blocks (each TLS connection's input buffer, socket reads) are
//   mapped and unmapped on their own. After 200 clients: ~79 MB a minute later instead of ~89 MB
//   (npm run bench, footprint); no measurable CPU per call (~0.4 mmap+munmap per call).
// gopsd: the composition root. Config → (dev key) → server → signal handling. The only process.exit of the daemon.
// Exit codes: 0 after a signal, 2 for a configuration gopsd refuses, 1 when it cannot start otherwise.
import { hostname } from "node:os";
import { AuthConfigError, generateDevKeys } from "./auth/index.js";
import { ConfigError, USAGE, loadConfig, type GopsdConfig } from "./config.js";
import { MetricsListenError, startGopsd } from "./gopsd.js";
import { firstLine } from "../common/first-line.js";
import { packageVersion } from "../common/package-version.js";

const say = (line: string) => process.stderr.write(`gopsd: ${line}\n`);

async function main(): Promise<number> {
  // `gopsd --health-check ...`: a probe of the gopsd this configuration describes (server/health-check.ts).
  const healthCheck = process.argv[2] === "--health-check";
  let config: GopsdConfig | "help" | "version";
  try {
    config = await loadConfig(process.argv.slice(healthCheck ? 3 : 2), process.env, { cwd: process.cwd(), hostName: hostname() });
  } catch (e) {
    if (e instanceof ConfigError) {
      say(e.message);
      return 2;
    }
    throw e;
  }
  if (config === "help") {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (config === "version") {
    process.stdout.write(`gopsd ${packageVersion(import.meta.url)}\n`);
    return 0;
  }

  if (healthCheck) return (await import("./health-check.js")).checkHealth(config, say);

  if (config.dev) {
    const keyFile = config.auth!.hsSecretFile!;
    try {
      const { created } = await generateDevKeys(keyFile, { signal: AbortSignal.timeout(5_000) });
      say(`dev mode: ${created ? "created" : "using"} the HS256 key ${keyFile}; get a token with: gopsctl token create --dev`);
    } catch (e) {
      say(`dev mode: cannot prepare the key ${keyFile}: ${firstLine(e)}`);
      return 1;
    }
  }

  let server;
  try {
    server = await startGopsd(config, { error: say });
  } catch (e) {
    if (e instanceof ConfigError) say(e.message);
    else if (e instanceof AuthConfigError) say(`auth: ${firstLine(e)}`);
    else if (e instanceof MetricsListenError) {
      say(e.message);
      return 1;
    } else {
      say(`cannot listen on ${config.listen}: ${firstLine(e)}`);
      return 1;
    }
    return 2;
  }
  if (!config.auth && !config.listen.startsWith("unix:")) {
    say(
      `warning: --insecure: serving ${server.address} WITHOUT authentication; every local user can read stacks, heaps and binaries of the Go programs gopsd reaches`,
    );
  }
  if (server.metricsAddress !== undefined) say(`metrics on ${server.metricsAddress}`);
  say(`listening on ${server.address}`);
  const sig = await new Promise<NodeJS.Signals>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  say(`${sig}, shutting down`);
  await server.close();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    say(e instanceof Error ? (e.stack ?? e.message) : String(e));
    process.exit(1);
  },
);
