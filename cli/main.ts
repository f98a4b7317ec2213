#!/usr/bin/env node
// gopsctl's composition root and the only place that exits: argv → command → target (fleet hosts by name or
// selection from the fleet file; else connection settings: flags > $GOPSCTL_* > config file) → Diagnostics (a fleet
// host, a remote gopsd, else the in-process local backend) or, across hosts, a Fleet → the command's run → exit
// status from exit-codes.ts. The transports (gRPC client, fleet and ssh, the local backend) are imported when a
// command first needs one, so help, pprof and token load none of them.
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { TokenSource } from "../client/bearer-middleware.js";
import type { Fleet } from "../client/fleet/fleet.js";
import type { Diagnostics, DiagnosticsHandle } from "../common/diagnostics.js";
import {
  CallTimeoutError,
  chosenConfigPath,
  defaultConfigPath,
  describeFailure,
  ExitCode,
  InterruptedError,
  loadConfig,
  parseCommandLine,
  resolveCommand,
  resolveTarget,
  type CommandContext,
  type ConfigPprof,
  type Target,
} from "./index.js";

/** fanOut's per-host timer needs a number: "no deadline" is the largest a Node timer takes (24.8 days). */
const NO_DEADLINE_MS = 2 ** 31 - 1;

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
  let fleet: Fleet | undefined;
  try {
    const parsed = parseCommandLine(process.argv.slice(2), process.env);
    if (parsed.options.version && !parsed.options.help) {
      process.stdout.write(`gopsctl ${ownVersion()}\n`);
      return ExitCode.OK;
    }
    const { spec, opts, timeoutMs, across } = resolveCommand(parsed);
    // Across hosts the deadline is each host's (the Fleet's), so one hung host cannot take the others' answers.
    if (timeoutMs !== undefined && !across) timer = setTimeout(() => controller.abort(new CallTimeoutError(timeoutMs)), timeoutMs);
    let target: Target = { kind: "local" };
    let localPprof: ConfigPprof | undefined;
    if (spec.offline === undefined) {
      const chosen = chosenConfigPath(parsed, process.env);
      const config = await loadConfig(chosen ?? defaultConfigPath(process.env, homedir()), {
        required: chosen !== undefined,
        home: homedir(),
        signal: controller.signal,
      });
      localPprof = config.pprof;
      target = await resolveTarget(parsed, process.env, config, async (path) =>
        (await import("../client/fleet/inventory.js")).loadInventory({ ...(path !== undefined ? { path } : {}), env: process.env }),
      );
    }
    let fleetClient: Diagnostics | undefined;
    if (target.kind === "fleet") {
      const { createFleet } = await import("../client/fleet/fleet.js");
      fleet = createFleet(target.hosts, { perHostDeadlineMs: timeoutMs ?? NO_DEADLINE_MS, signal: controller.signal, env: process.env });
      // One named host: the command's usual output, through the host's own TLS, token or SSH tunnel.
      if (!target.across) fleetClient = await fleet.client(target.hosts[0]!.name, controller.signal);
    }
    // The one transport this run needs, loaded now and opened at the first call (help never opens one).
    const open = spec.offline !== undefined || target.kind === "fleet" ? undefined : await opener(target, controller.signal, localPprof);
    const ctx: CommandContext = {
      get diagnostics() {
        if (fleetClient !== undefined) return fleetClient;
        if (open === undefined) throw new Error(`${spec.name} calls no gopsd`);
        return (diagnostics ??= open());
      },
      ...(fleet !== undefined && across ? { fleet } : {}),
      stdout: process.stdout,
      stderr: process.stderr,
      isTTY: process.stdout.isTTY === true,
      stderrIsTTY: process.stderr.isTTY === true,
      json: parsed.options.json,
      signal: controller.signal,
      cwd: process.cwd(),
      env: process.env,
      now: () => new Date(),
      ...(target.kind === "local" ? { reader: { root: process.getuid?.() === 0 } } : {}),
    };
    await spec.run(opts, ctx);
    return ExitCode.OK;
  } catch (err) {
    const failure = describeFailure(err, controller.signal);
    if (!failure.reported) process.stderr.write(`gopsctl: ${failure.message}\n`);
    return failure.exitCode;
  } finally {
    clearTimeout(timer);
    process.off("SIGINT", onSigint);
    diagnostics?.close();
    fleet?.close();
  }
}

/** Loads the transport of a remote gopsd (gRPC) or of this machine (the in-process local backend). */
async function opener(target: Exclude<Target, { kind: "fleet" }>, signal: AbortSignal, pprof: ConfigPprof | undefined): Promise<() => DiagnosticsHandle> {
  if (target.kind === "local") {
    const { createLocalDiagnostics } = await import("../client/local.js");
    // The config file's pprof settings: which programs may be probed, and endpoints mounted elsewhere.
    const options =
      pprof === undefined
        ? {}
        : { pprof: { declared: pprof.endpoints ?? [], ...(pprof.probeExe !== undefined ? { probeExe: pprof.probeExe } : {}) } };
    return () => createLocalDiagnostics(options);
  }
  const [{ connect }, { readTokenFile }] = await Promise.all([import("../client/connect.js"), import("../client/token-file.js")]);
  const setting = target.token;
  let read: Promise<string> | undefined;
  // A token given as a value, or read from its file once, at the first call.
  const token: TokenSource | undefined =
    setting === undefined ? undefined : setting.kind === "value" ? setting.value : () => (read ??= readTokenFile(setting.path, { signal }));
  return () => connect(target.target, { ...(target.tls !== undefined ? { tls: target.tls } : {}), ...(token !== undefined ? { token } : {}) });
}

/**
 * The version in gopsctl's package.json (found upwards from this file: cli/ in the repo, dist/cli/ installed), or in
 * the single executable (`npm run release`), its "package.json" asset.
 */
function ownVersion(): string {
  const sea = process.getBuiltinModule("node:sea");
  if (sea?.isSea() === true) return (JSON.parse(sea.getAsset("package.json", "utf8")) as { version: string }).version;
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

// No top-level await: the bin is CommonJS (scripts/bundle.mjs), which loads faster than an ES module.
void main().then(async (code) => {
  await Promise.all([flush(process.stdout), flush(process.stderr)]);
  process.exit(code);
});

function flush(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => stream.write("", () => resolve()));
}
