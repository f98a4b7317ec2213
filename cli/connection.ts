// Where gopsctl's calls go and with which credentials: flags > $GOPSCTL_* > config file, resolved in one pure
// function. No host anywhere = the in-process local backend, which needs no token and no TLS.
import type { TlsOptions } from "../client/index.js";
import type { CliConfig } from "./config-file.js";
import { UsageError } from "./errors.js";
import { CONNECTION_FLAGS, flagValue, nonEmpty, type ParsedArgv } from "./parse-argv.js";

export type TokenSetting = { kind: "value"; value: string } | { kind: "file"; path: string };

export type Connection =
  | { kind: "local" }
  | {
      kind: "remote";
      target: string;
      /** Undefined = plain TCP (or a unix socket). File names, read by the client library. */
      tls: TlsOptions | undefined;
      token: TokenSetting | undefined;
    };

type Env = Readonly<Record<string, string | undefined>>;

/** The config file asked for by name (--config, else $GOPSCTL_CONFIG); undefined = the default location. */
export function chosenConfigPath(parsed: ParsedArgv, env: Env): string | undefined {
  return flagValue(parsed, "config") ?? nonEmpty(env["GOPSCTL_CONFIG"]);
}

/** The first flag given that says how to reach or authenticate to a gopsd (every connection flag but --config). */
export function givenConnectionFlag(parsed: Pick<ParsedArgv, "given">): string | undefined {
  return CONNECTION_FLAGS.find((f) => f.name !== "config" && parsed.given.has(f.name))?.name;
}

export function resolveConnection(parsed: ParsedArgv, env: Env, config: CliConfig): Connection {
  const flag = (name: string) => flagValue(parsed, name);
  const target = parsed.options.host ?? config.host;
  if (target === undefined) {
    const stray = givenConnectionFlag(parsed);
    if (stray !== undefined) throw new UsageError(`flag --${stray} needs a gopsd (--host, $GOPSCTL_HOST or host in the config file)`);
    return { kind: "local" };
  }

  if (parsed.given.has("token") && parsed.given.has("token-file")) throw new UsageError("flags --token and --token-file exclude each other");
  const envToken = nonEmpty(env["GOPSCTL_TOKEN"]);
  const envTokenFile = nonEmpty(env["GOPSCTL_TOKEN_FILE"]);
  if (envToken !== undefined && envTokenFile !== undefined) {
    throw new UsageError("GOPSCTL_TOKEN and GOPSCTL_TOKEN_FILE are both set: unset one");
  }
  const fileToken = (path: string | undefined): TokenSetting | undefined => (path === undefined ? undefined : { kind: "file", path });
  const valueToken = (value: string | undefined): TokenSetting | undefined => (value === undefined ? undefined : { kind: "value", value });
  const token =
    valueToken(flag("token")) ?? fileToken(flag("token-file")) ?? valueToken(envToken) ?? fileToken(envTokenFile) ?? fileToken(config.tokenFile);

  const ca = flag("ca") ?? nonEmpty(env["GOPSCTL_CA"]) ?? config.tls?.ca;
  const cert = flag("cert") ?? nonEmpty(env["GOPSCTL_CERT"]) ?? config.tls?.cert;
  const key = flag("key") ?? nonEmpty(env["GOPSCTL_KEY"]) ?? config.tls?.key;
  const serverName = flag("server-name") ?? nonEmpty(env["GOPSCTL_SERVER_NAME"]) ?? config.tls?.serverName;
  if ((cert === undefined) !== (key === undefined)) {
    throw new UsageError(cert === undefined ? "a TLS client key (--key) needs its certificate (--cert)" : "a TLS client certificate (--cert) needs its key (--key)");
  }
  const wantTls = parsed.given.has("tls") || envFlag(env, "GOPSCTL_TLS") || config.tls !== undefined;
  const tls =
    wantTls || ca !== undefined || cert !== undefined || serverName !== undefined
      ? { ...(ca !== undefined ? { ca } : {}), ...(cert !== undefined ? { cert, key } : {}), ...(serverName !== undefined ? { serverName } : {}) }
      : undefined;
  return { kind: "remote", target, tls, token };
}

/** An on/off variable: 1/true/yes or 0/false/no (any case); unset or empty = off. */
function envFlag(env: Env, name: string): boolean {
  const v = env[name]?.trim().toLowerCase();
  if (v === undefined || v === "" || v === "0" || v === "false" || v === "no") return false;
  if (v === "1" || v === "true" || v === "yes") return true;
  throw new UsageError(`${name}="${env[name]}" is not 1/true/yes or 0/false/no`);
}
