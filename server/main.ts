#!/usr/bin/env node
// gopsd: the composition root. Config → server → signal handling. The only process.exit of the daemon.
import { ConfigError, USAGE, loadConfig } from "./config.js";
import { startGopsd } from "./gopsd.js";

async function main(): Promise<number> {
  let config;
  try {
    config = loadConfig(process.argv.slice(2), process.env);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`gopsd: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  if (config === "help") {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const log = { error: (msg: string) => process.stderr.write(`gopsd: ${msg}\n`) };
  let server;
  try {
    server = await startGopsd(config, log);
  } catch (e) {
    process.stderr.write(`gopsd: cannot listen on ${config.listen}: ${(e as Error).message.split("\n")[0]}\n`);
    return 1;
  }
  process.stderr.write(`gopsd: listening on ${server.address}\n`);
  const sig = await new Promise<NodeJS.Signals>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  process.stderr.write(`gopsd: ${sig}, shutting down\n`);
  await server.close();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`gopsd: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
