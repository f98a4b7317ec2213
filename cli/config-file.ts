// gopsctl's config file (YAML): where to reach gopsd and with which credentials, the lowest layer under flags and
// $GOPSCTL_* variables. It holds file names, never a token. Parsing is pure; loadConfig is the one read.
import { readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import * as v from "valibot";
import { LineCounter, parseDocument } from "yaml";
import { gopsctlConfigPath } from "../common/config-dir.js";
import { issueKey, mapping } from "../common/config-schema.js";
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
  return gopsctlConfigPath(env, ["config.yaml"], home);
}

const TOP_KEYS = ["host", "tokenFile", "tls"] as const;
const TLS_KEYS = ["ca", "cert", "key", "serverName"] as const;

/** The config file's one schema. `file` makes a file name absolute (against the file's directory, `~/` = home). */
function configSchema(file: (name: string) => string) {
  const text = (key: string) => {
    const msg = `key "${key}" must be a non-empty string`;
    return v.pipe(v.string(msg), v.check((s) => s.trim() !== "", msg));
  };
  const fileName = (key: string) => v.pipe(text(key), v.transform(file));
  const tls = mapping(
    { ca: v.optional(fileName("tls.ca")), cert: v.optional(fileName("tls.cert")), key: v.optional(fileName("tls.key")), serverName: v.optional(text("tls.serverName")) },
    `key "tls" must be a mapping of ${TLS_KEYS.join(", ")} ("tls: {}" for TLS with the system roots)`,
  );
  return mapping({ host: v.optional(text("host")), tokenFile: v.optional(fileName("tokenFile")), tls: v.optional(tls) }, "want a mapping of keys (host, tokenFile, tls)");
}

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
  const file = (s: string): string => (s === "~" || s.startsWith("~/") ? join(home, s.slice(1)) : resolve(dirname(resolve(source)), s));
  const parsed = v.safeParse(configSchema(file), root, { abortEarly: true });
  if (!parsed.success) {
    const issue = parsed.issues[0];
    const { key, unknownKey } = issueKey(issue);
    if (!unknownKey) return fail(issue.message);
    const known = key.startsWith("tls.") ? TLS_KEYS.map((t) => `tls.${t}`) : TOP_KEYS;
    return fail(`unknown key "${key}" (known: ${known.join(", ")})`);
  }
  const { host, tokenFile, tls } = parsed.output;
  return { source, ...(host !== undefined ? { host } : {}), ...(tokenFile !== undefined ? { tokenFile } : {}), ...(tls !== undefined ? { tls } : {}) };
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
