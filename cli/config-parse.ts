// Parsing and checking gopsctl's config file (YAML, valibot): pure. config-file.ts loads this module only when a
// config file exists, so a run without one loads neither library.
import { dirname, join, resolve } from "node:path";
import * as v from "valibot";
import { LineCounter, parseDocument } from "yaml";
import { issueKey, mapping } from "../common/config-schema.js";
import type { CliConfig } from "./config-file.js";
import { UsageError } from "./errors.js";

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
