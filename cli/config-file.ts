// gopsctl's config file (YAML): where to reach gopsd and with which credentials, the lowest layer under flags and
// $GOPSCTL_* variables, and (`pprof`) what gopsctl without gopsd may probe for net/http/pprof and which endpoints
// are mounted elsewhere. It holds file names, never a token. Parsing is pure (config-parse.ts, loaded only when a
// file exists); loadConfig is the one read.
import { readFile } from "node:fs";
import { gopsctlConfigPath } from "../common/config-dir.js";
import { UsageError } from "./errors.js";

export interface ConfigTls {
  ca?: string;
  cert?: string;
  key?: string;
  serverName?: string;
}

/** net/http/pprof for gopsctl's own reads (no gopsd), like gopsd's pprof.* settings. */
export interface ConfigPprof {
  /** Only these executables are probed (absolute paths; a trailing * matches any rest); absent = every Go program. */
  probeExe?: string[];
  /** Endpoints mounted elsewhere: matched by pid, exe or cmdline (a substring of the argv), at port and prefix. */
  endpoints?: { pid?: number; exe?: string; cmdline?: string; port: number; prefix: string }[];
}

export interface CliConfig {
  /** Where it was read from; undefined = no config file. */
  source?: string;
  pprof?: ConfigPprof;
  host?: string;
  /** Absolute. */
  tokenFile?: string;
  /** Present (even empty) = speak TLS; file names absolute. */
  tls?: ConfigTls;
}

type Env = Readonly<Record<string, string | undefined>>;

/** `$XDG_CONFIG_HOME/gopsctl/config.yaml`, else `$HOME/.config/gopsctl/config.yaml` (a relative XDG dir is ignored). */
export function defaultConfigPath(env: Env, home: string): string {
  return gopsctlConfigPath(env, ["config.yaml"], home);
}

/**
 * Reads the config file at `path`. A missing file is an empty config unless it was asked for by name
 * (`required`: --config or $GOPSCTL_CONFIG).
 */
export async function loadConfig(path: string, opts: { required: boolean; home: string; signal?: AbortSignal }): Promise<CliConfig> {
  let text: string;
  try {
    // node:fs's callback API, not node:fs/promises: that module (with readline and more it loads) would be a few
    // ms of every start, most of which find no config file.
    text = await new Promise<string>((resolve, reject) =>
      readFile(path, { encoding: "utf8", signal: opts.signal }, (err, data) => (err ? reject(err) : resolve(data))),
    );
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" && !opts.required) return {};
    if ((e as Error).name === "AbortError") throw e;
    throw new UsageError(`cannot read config ${path}: ${code ?? (e as Error).message}`);
  }
  const { parseConfig } = await import("./config-parse.js");
  return parseConfig(text, path, opts.home);
}
