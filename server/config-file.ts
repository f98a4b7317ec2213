// The gopsd config file: YAML (.yaml, .yml) or JSON (.json), chosen by extension. Parsing is pure and separate
// from reading; both fail with a one-line ConfigError naming the file. What the keys mean is config.ts's job.
import { readFile } from "node:fs/promises";
import { extname } from "node:path";
import { parse as parseYaml } from "yaml";
import { ConfigError } from "./config-error.js";
import { firstLine } from "../common/first-line.js";

/** Largest config file read: a real one is a few hundred bytes. */
const MAX_CONFIG_FILE_BYTES = 1 << 20;

/** Parses config text; `name` picks the format by extension and names the file in errors. */
export function parseConfigText(text: string, name: string): Record<string, unknown> {
  const ext = extname(name).toLowerCase();
  let doc: unknown;
  try {
    if (ext === ".json") doc = JSON.parse(text);
    else if (ext === ".yaml" || ext === ".yml") doc = parseYaml(text, { uniqueKeys: true, maxAliasCount: 0 });
    else throw new ConfigError(`config ${name}: unknown format "${ext}" (use .yaml, .yml or .json)`);
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigError(`config ${name}: not valid ${ext === ".json" ? "JSON" : "YAML"}: ${firstLine(e)}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== "object" || Array.isArray(doc)) throw new ConfigError(`config ${name}: the top level must be a mapping of keys`);
  return doc as Record<string, unknown>;
}

/** Reads and parses the config file at `path`. */
export async function readConfigFile(path: string, opts: { signal?: AbortSignal } = {}): Promise<Record<string, unknown>> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path, { signal: opts.signal });
  } catch (e) {
    throw new ConfigError(`config ${path}: cannot read: ${firstLine(e)}`);
  }
  if (bytes.length > MAX_CONFIG_FILE_BYTES) throw new ConfigError(`config ${path}: larger than ${MAX_CONFIG_FILE_BYTES} bytes`);
  return parseConfigText(bytes.toString("utf8"), path);
}

