// gopsd configuration: flags > environment > defaults, validated once into a frozen object.
// Any bad value stops start-up with a one-line ConfigError naming the flag or variable.
import { hostname } from "node:os";
import { isIP } from "node:net";
import { parseArgs } from "node:util";
import { parseDurationMs } from "../common/duration.js";
import type { SignalName } from "./agent/signals.js";
import type { AgentTimeoutOverrides } from "./agent/timeouts.js";

export const DEFAULT_LISTEN = "127.0.0.1:4677";

/** Names accepted by --agent-timeout (gops' command names), mapped to the agent signal they bound. */
const SIGNAL_BY_TIMEOUT_NAME: Readonly<Record<string, SignalName>> = {
  stack: "StackTrace",
  gc: "GC",
  memstats: "MemStats",
  version: "Version",
  heap: "HeapProfile",
  cpu: "CPUProfile",
  stats: "Stats",
  trace: "Trace",
  binary: "BinaryDump",
  setgc: "SetGCPercent",
};
export const TIMEOUT_NAMES = ["connect", ...Object.keys(SIGNAL_BY_TIMEOUT_NAME)];

export interface GopsdConfig {
  /** "host:port" or "unix:/path". */
  readonly listen: string;
  /** This host's name, reported in responses. */
  readonly hostName: string;
  /** Overrides of the agent connect timeout and per-signal deadlines. */
  readonly agentTimeouts: AgentTimeoutOverrides;
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

export const USAGE = `usage: gopsd [--listen ADDR] [--host-name NAME] [--agent-timeout NAME=DURATION ...]

  --listen ADDR            host:port or unix:/path (env GOPSD_LISTEN; default ${DEFAULT_LISTEN});
                           only loopback addresses and unix sockets are accepted
  --host-name NAME         name this host reports (env GOPSD_HOST_NAME; default the hostname)
  --agent-timeout N=D      deadline for one kind of agent call, e.g. cpu=45s; N is one of
                           ${TIMEOUT_NAMES.join(", ")}`;

export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv): GopsdConfig | "help" {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        listen: { type: "string" },
        "host-name": { type: "string" },
        "agent-timeout": { type: "string", multiple: true },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (e) {
    throw new ConfigError((e as Error).message.split("\n")[0]!);
  }
  const v = parsed.values;
  if (v.help) return "help";

  const listen = v.listen ?? env.GOPSD_LISTEN ?? DEFAULT_LISTEN;
  checkListen(listen, v.listen !== undefined ? "--listen" : "GOPSD_LISTEN");

  const hostName = v["host-name"] ?? env.GOPSD_HOST_NAME ?? hostname();
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/.test(hostName)) {
    throw new ConfigError(`--host-name: "${hostName}" is not a valid host name`);
  }

  const deadlineMs: Partial<Record<SignalName, number>> = {};
  let connectMs: number | undefined;
  for (const item of v["agent-timeout"] ?? []) {
    const [name = "", value] = item.split("=", 2);
    if (!TIMEOUT_NAMES.includes(name)) {
      throw new ConfigError(`--agent-timeout: unknown name "${name}" (use one of ${TIMEOUT_NAMES.join(", ")})`);
    }
    const ms = value === undefined ? undefined : parseDurationMs(value);
    if (ms === undefined || ms < 1 || ms > 2 ** 31 - 1) {
      throw new ConfigError(`--agent-timeout ${name}: "${value ?? ""}" is not a duration between 1ms and 24d`);
    }
    if (name === "connect") connectMs = Math.round(ms);
    else deadlineMs[SIGNAL_BY_TIMEOUT_NAME[name]!] = Math.round(ms);
  }
  const agentTimeouts = Object.freeze({ connectMs, deadlineMs: Object.freeze(deadlineMs) });
  return Object.freeze({ listen, hostName, agentTimeouts });
}

/** Splits "host:port", "[v6]:port" into parts; undefined when malformed. */
export function splitHostPort(addr: string): { host: string; port: number } | undefined {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(addr) ?? /^([^:[\]]+):(\d+)$/.exec(addr);
  if (!m) return undefined;
  const port = Number(m[2]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) return undefined;
  return { host: m[1]!, port };
}

export function isLoopbackHost(host: string): boolean {
  if (host === "localhost") return true;
  if (isIP(host) === 4) return host.startsWith("127.");
  if (isIP(host) === 6) return host === "::1" || host === "0:0:0:0:0:0:0:1";
  return false;
}

function checkListen(listen: string, source: string): void {
  if (listen.startsWith("unix:")) {
    if (!listen.slice(5).startsWith("/")) throw new ConfigError(`${source}: unix socket path must be absolute`);
    return;
  }
  const hp = splitHostPort(listen);
  if (!hp) throw new ConfigError(`${source}: "${listen}" is not host:port or unix:/path`);
  if (!isLoopbackHost(hp.host)) {
    throw new ConfigError(
      `${source}: refusing to listen on non-loopback address ${listen}: gopsd has no authentication yet, use 127.0.0.1 or a unix socket`,
    );
  }
}
