#!/usr/bin/env node
// gopsctl's composition root and the only place that exits: argv → command → Diagnostics (a remote gopsd with
// --host / $GOPSCTL_HOST, else the in-process local backend) → run → exit status from exit-codes.ts.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { connect, createLocalDiagnostics, type DiagnosticsHandle } from "../client/index.js";
import { CallTimeoutError, describeFailure, ExitCode, InterruptedError, parseArgv, resolveCommand, type CommandContext } from "./index.js";

async function main(): Promise<number> {
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(ExitCode.INTERRUPTED); // a second Ctrl-C does not wait
    controller.abort(new InterruptedError());
  };
  process.on("SIGINT", onSigint);
  // `gopsctl stack | head`: the reader went away, which is not an error of ours.
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(ExitCode.OK);
    throw err;
  });

  let timer: NodeJS.Timeout | undefined;
  let diagnostics: DiagnosticsHandle | undefined;
  try {
    const parsed = parseArgv(process.argv.slice(2), process.env);
    if (parsed.options.version && !parsed.options.help) {
      process.stdout.write(`gopsctl ${ownVersion()}\n`);
      return ExitCode.OK;
    }
    const { spec, opts, timeoutMs } = resolveCommand(parsed);
    if (timeoutMs !== undefined) timer = setTimeout(() => controller.abort(new CallTimeoutError(timeoutMs)), timeoutMs);
    const host = parsed.options.host;
    const ctx: CommandContext = {
      get diagnostics() {
        diagnostics ??= host !== undefined ? connect(host) : createLocalDiagnostics();
        return diagnostics;
      },
      stdout: process.stdout,
      stderr: process.stderr,
      isTTY: process.stdout.isTTY === true || parsed.options.table,
      json: parsed.options.json,
      signal: controller.signal,
      cwd: process.cwd(),
      now: () => new Date(),
    };
    await spec.run(opts, ctx);
    return ExitCode.OK;
  } catch (err) {
    const failure = describeFailure(err, controller.signal);
    process.stderr.write(`gopsctl: ${failure.message}\n`);
    return failure.exitCode;
  } finally {
    clearTimeout(timer);
    process.off("SIGINT", onSigint);
    diagnostics?.close();
  }
}

/** The version in gopsctl's package.json (found upwards from this file: cli/ in the repo, dist/cli/ installed). */
function ownVersion(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: string; version?: string };
      if (pkg.name === "gopsctl" && pkg.version !== undefined) return pkg.version;
    } catch {
      // no package.json here: keep looking upwards
    }
    if (dirname(dir) === dir) return "unknown";
  }
}

const code = await main();
await Promise.all([flush(process.stdout), flush(process.stderr)]);
process.exit(code);

function flush(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => stream.write("", () => resolve()));
}
