// gopsctl's config file (YAML): where to reach gopsd and with which credentials, the lowest layer under flags and
// $GOPSCTL_* variables. It holds file names, never a token. Parsing is pure; loadConfig is the one read.
import { readFile } from "node:fs/promises";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { LineCounter, parseDocument } from "yaml";
import { UsageError } from "./errors.js";

export interface ConfigTls {
  ca?: string;
  cert?: string;
  key?: string;
  serverName?: string;
}

export interface CliConfig {
  /** Where it was read from; undefined = no config file. */
  source?: string;
  host?: string;
  /** Absolute. */
  tokenFile?: string;
  /** Present (even empty) = speak TLS; file names absolute. */
  tls?: ConfigTls;
}

type Env = Readonly<Record<string, string | undefined>>;

/** `$XDG_CONFIG_HOME/gopsctl/config.yaml`, else `$HOME/.config/gopsctl/config.yaml` (a relative XDG dir is ignored). */
export function defaultConfigPath(env: Env, home: string): string {
  const xdg = env["XDG_CONFIG_HOME"];
  const base = xdg !== undefined && isAbsolute(xdg) ? xdg : join(env["HOME"] || home, ".config");
  return join(base, "gopsctl", "config.yaml");
}

const TOP_KEYS = ["host", "tokenFile", "tls"] as const;
const TLS_KEYS = ["ca", "cert", "key", "serverName"] as const;
const TLS_FILES = new Set<string>(["ca", "cert", "key"]);

/**
 * Parses and checks a config file. File names are resolved against the file's directory, `~/` against `home`.
 * Any problem is a UsageError naming the file and the key.
 */
export function parseConfig(text: string, source: string, home: string): CliConfig {
  const fail = (what: string): never => {
    throw new UsageError(`config ${source}: ${what}`);
  };
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true, lineCounter });
  const err = doc.errors[0];
  if (err !== undefined) fail(`line ${lineCounter.linePos(err.pos[0]).line}: ${err.message.split("\n")[0]}`);
  const root: unknown = doc.toJS();
  if (root === null || root === undefined) return { source };
  if (!isPlainObject(root)) return fail("want a mapping of keys (host, tokenFile, tls)");

  const file = (key: string, v: unknown): string => {
    const s = nonEmptyString(key, v, fail);
    if (s === "~" || s.startsWith("~/")) return join(home, s.slice(1));
    return resolve(dirname(resolve(source)), s);
  };
  const config: CliConfig = { source };
  for (const [key, value] of Object.entries(root)) {
    switch (key as (typeof TOP_KEYS)[number]) {
      case "host":
        config.host = nonEmptyString(key, value, fail);
        break;
      case "tokenFile":
        config.tokenFile = file(key, value);
        break;
      case "tls": {
        if (!isPlainObject(value)) return fail(`key "tls" must be a mapping of ${TLS_KEYS.join(", ")} ("tls: {}" for TLS with the system roots)`);
        const tls: ConfigTls = {};
        for (const [k, v] of Object.entries(value)) {
          if (!(TLS_KEYS as readonly string[]).includes(k)) fail(`unknown key "tls.${k}" (known: ${TLS_KEYS.map((t) => `tls.${t}`).join(", ")})`);
          tls[k as keyof ConfigTls] = TLS_FILES.has(k) ? file(`tls.${k}`, v) : nonEmptyString(`tls.${k}`, v, fail);
        }
        config.tls = tls;
        break;
      }
      default:
        fail(`unknown key "${key}" (known: ${TOP_KEYS.join(", ")})`);
    }
  }
  return config;
}

/**
 * Reads the config file at `path`. A missing file is an empty config unless it was asked for by name
 * (`required`: --config or $GOPSCTL_CONFIG).
 */
export async function loadConfig(path: string, opts: { required: boolean; home: string; signal?: AbortSignal }): Promise<CliConfig> {
  let text: string;
  try {
    text = await readFile(path, { encoding: "utf8", signal: opts.signal });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" && !opts.required) return {};
    if ((e as Error).name === "AbortError") throw e;
    throw new UsageError(`cannot read config ${path}: ${code ?? (e as Error).message}`);
  }
  return parseConfig(text, path, opts.home);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Map) && !(v instanceof Set);
}

function nonEmptyString(key: string, v: unknown, fail: (what: string) => never): string {
  if (typeof v !== "string" || v.trim() === "") return fail(`key "${key}" must be a non-empty string`);
  return v;
}
