#!/usr/bin/env node
// gopsctl's composition root and the only place that exits: argv → command → connection settings (flags >
// $GOPSCTL_* > config file) → Diagnostics (a remote gopsd, else the in-process local backend) → run → exit status
// from exit-codes.ts.
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { connect, createLocalDiagnostics, readTokenFile, type DiagnosticsHandle, type TokenSource } from "../client/index.js";
import {
  CallTimeoutError,
  chosenConfigPath,
  defaultConfigPath,
  describeFailure,
  ExitCode,
  InterruptedError,
  loadConfig,
  parseArgv,
  resolveCommand,
  resolveConnection,
  type CommandContext,
  type Connection,
  type TokenSetting,
} from "./index.js";

// Node warns (DEP0123) whenever TLS dials an IP address, as `--host 10.0.0.5:4677 --ca ca.pem` does: the name is
// checked against the certificate's IP entries all the same, so the warning is noise on a CLI's stderr.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
  const code = typeof rest[0] === "object" && rest[0] !== null ? (rest[0] as { code?: unknown }).code : rest[1];
  if (code === "DEP0123") return;
  (emitWarning as (...a: unknown[]) => void)(warning, ...rest);
}) as typeof process.emitWarning;

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
    let connection: Connection = { kind: "local" };
    if (!spec.offline) {
      const chosen = chosenConfigPath(parsed, process.env);
      const config = await loadConfig(chosen ?? defaultConfigPath(process.env, homedir()), {
        required: chosen !== undefined,
        home: homedir(),
        signal: controller.signal,
      });
      connection = resolveConnection(parsed, process.env, config);
    }
    const remote = connection;
    const ctx: CommandContext = {
      get diagnostics() {
        diagnostics ??=
          remote.kind === "remote"
            ? connect(remote.target, {
                ...(remote.tls !== undefined ? { tls: remote.tls } : {}),
                ...(remote.token !== undefined ? { token: tokenSource(remote.token, controller.signal) } : {}),
              })
            : createLocalDiagnostics();
        return diagnostics;
      },
      stdout: process.stdout,
      stderr: process.stderr,
      isTTY: process.stdout.isTTY === true || parsed.options.table,
      stderrIsTTY: process.stderr.isTTY === true,
      json: parsed.options.json,
      signal: controller.signal,
      cwd: process.cwd(),
      env: process.env,
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

/** A token given as a value, or read from its file once, at the first call. */
function tokenSource(setting: TokenSetting, signal: AbortSignal): TokenSource {
  if (setting.kind === "value") return setting.value;
  let read: Promise<string> | undefined;
  return () => (read ??= readTokenFile(setting.path, { signal }));
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
