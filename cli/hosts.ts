// Which gopsd(s) a command asks: the in-process local backend, one address (--host ADDR, as before), one fleet
// host (--host NAME from the fleet file or ~/.ssh/config, with its TLS, token and ssh settings), or several fleet
// hosts (--hosts, -l/--selector, --all: the command runs across hosts). The fleet file is read only when a name
// has to be looked up; everything else is pure.
import type { FleetHost, Inventory } from "../client/fleet/inventory.js";
import { selectHosts, type SelectionOptions } from "../client/fleet/selection.js";
import type { CliConfig } from "./config-file.js";
import { givenConnectionFlag, resolveConnection, type Connection } from "./connection.js";
import { UsageError } from "./errors.js";
import { flagValue, nonEmpty, type ParsedArgv } from "./parse-argv.js";

type Env = Readonly<Record<string, string | undefined>>;

export type Target = Connection | { kind: "fleet"; hosts: FleetHost[]; across: boolean };

/** Reads the fleet file (the default one when `path` is undefined) and ~/.ssh/config. */
export type InventoryLoader = (path: string | undefined) => Promise<Inventory>;

/** --hosts, -l/--selector or --all: the command runs on each selected host, with per-host output. */
export function isAcrossHosts(parsed: Pick<ParsedArgv, "given">): boolean {
  return parsed.given.has("hosts") || parsed.given.has("selector") || parsed.given.has("all");
}

/** The fleet file asked for by name (--fleet, else $GOPSCTL_FLEET); undefined = the default location. */
function chosenFleetPath(parsed: Pick<ParsedArgv, "values">, env: Env): string | undefined {
  return flagValue(parsed, "fleet") ?? nonEmpty(env["GOPSCTL_FLEET"]);
}

/** "host:port", "[v6]:port", "unix:/path": an address; anything else may be a host name. */
function looksLikeAddress(target: string): boolean {
  return target.includes(":");
}

/** The hosts --host, --hosts, -l/--selector and --all choose. */
function selectionOf(parsed: Pick<ParsedArgv, "given" | "values">): SelectionOptions {
  const host = flagValue(parsed, "host");
  const hosts = parsed.values.get("hosts");
  const selector = flagValue(parsed, "selector");
  return {
    ...(host !== undefined ? { host } : {}),
    ...(hosts !== undefined ? { hosts: hosts.join(",") } : {}),
    ...(selector !== undefined ? { selector } : {}),
    ...(parsed.given.has("all") ? { all: true } : {}),
  };
}

export async function resolveTarget(parsed: ParsedArgv, env: Env, config: CliConfig, load: InventoryLoader): Promise<Target> {
  const fleetPath = chosenFleetPath(parsed, env);
  if (isAcrossHosts(parsed)) {
    const host = flagValue(parsed, "host");
    if (host !== undefined && looksLikeAddress(host)) {
      throw new UsageError(`--host ${host} is an address: with --hosts, --selector or --all name fleet hosts only`);
    }
    rejectConnectionFlags(parsed, "fleet hosts");
    return { kind: "fleet", hosts: selectHosts(await load(fleetPath), selectionOf(parsed)), across: true };
  }
  const target = parsed.options.host ?? config.host;
  if (target !== undefined && !looksLikeAddress(target)) {
    const inventory = await load(fleetPath);
    const host = inventory.resolve(target);
    if (host !== undefined) {
      rejectConnectionFlags(parsed, `fleet host ${host.name}`);
      return { kind: "fleet", hosts: [host], across: false };
    }
    // Not a fleet host: an address, as --host always was (a bare name resolves in DNS).
  }
  return resolveConnection(parsed, env, config);
}

/** Fleet hosts take TLS and tokens from the fleet file; a connection flag would be silently ignored, so refuse it. */
function rejectConnectionFlags(parsed: ParsedArgv, what: string): void {
  const stray = givenConnectionFlag(parsed);
  if (stray !== undefined) {
    throw new UsageError(`flag --${stray} does not apply to ${what}: set tls, token, tokenFile or tokenEnv in the fleet file`);
  }
}
