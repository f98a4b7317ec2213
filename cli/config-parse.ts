// Parsing and checking gopsctl's config file (YAML, valibot): pure. config-file.ts loads this module only when a
// config file exists, so a run without one loads neither library.
import { dirname, join, resolve } from "node:path";
import * as v from "valibot";
import { LineCounter, parseDocument } from "yaml";
import { issueKey, mapping } from "../common/config-schema.js";
import type { CliConfig, ConfigPprof } from "./config-file.js";
import { UsageError } from "./errors.js";

const TOP_KEYS = ["host", "tokenFile", "tls", "pprof"] as const;
const PPROF_KEYS = ["probeExe", "endpoints"] as const;
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
  const absolute = (key: string) => v.pipe(v.string(`${key}: want absolute paths`), v.startsWith("/", `${key}: want absolute paths`));
  const port = "pprof.endpoints: port must be an integer from 1 to 65535";
  const endpoint = v.pipe(
    mapping(
      {
        pid: v.optional(v.pipe(v.number("pprof.endpoints: pid must be a positive integer"), v.integer(), v.minValue(1, "pprof.endpoints: pid must be a positive integer"))),
        exe: v.optional(absolute("pprof.endpoints exe")),
        cmdline: v.optional(v.pipe(v.string(), v.nonEmpty("pprof.endpoints: cmdline must be a non-empty string"))),
        port: v.pipe(v.number(port), v.integer(port), v.minValue(1, port), v.maxValue(65535, port)),
        prefix: v.optional(v.pipe(v.string(), v.regex(/^(\/[A-Za-z0-9._~!$&'()*+,;=:@%-]+)*$/, 'pprof.endpoints: prefix must be "" or a path such as /admin')), ""),
      },
      "pprof.endpoints: each is a mapping of pid, exe, cmdline, port, prefix",
    ),
    v.check((e) => e.pid !== undefined || e.exe !== undefined || e.cmdline !== undefined, "pprof.endpoints: each needs pid, exe or cmdline"),
  );
  const pprof = mapping(
    {
      probeExe: v.optional(v.array(absolute("pprof.probeExe"), "pprof.probeExe: want a list of absolute paths")),
      endpoints: v.optional(v.array(endpoint, "pprof.endpoints: want a list of endpoints")),
    },
    `key "pprof" must be a mapping of ${PPROF_KEYS.join(", ")}`,
  );
  return mapping(
    { host: v.optional(text("host")), tokenFile: v.optional(fileName("tokenFile")), tls: v.optional(tls), pprof: v.optional(pprof) },
    "want a mapping of keys (host, tokenFile, tls, pprof)",
  );
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
    const known = key.startsWith("tls.") ? TLS_KEYS.map((t) => `tls.${t}`) : key.startsWith("pprof.") ? PPROF_KEYS.map((t) => `pprof.${t}`) : TOP_KEYS;
    return fail(`unknown key "${key}" (known: ${known.join(", ")})`);
  }
  const { host, tokenFile, tls, pprof } = parsed.output;
  return {
    source,
    ...(host !== undefined ? { host } : {}),
    ...(tokenFile !== undefined ? { tokenFile } : {}),
    ...(tls !== undefined ? { tls } : {}),
    ...(pprof !== undefined ? { pprof: configPprof(pprof) } : {}),
  };
}

function configPprof(p: { probeExe?: string[] | undefined; endpoints?: { pid?: number | undefined; exe?: string | undefined; cmdline?: string | undefined; port: number; prefix: string }[] | undefined }): ConfigPprof {
  return {
    ...(p.probeExe !== undefined ? { probeExe: p.probeExe } : {}),
    ...(p.endpoints !== undefined
      ? {
          endpoints: p.endpoints.map((e) => ({
            ...(e.pid !== undefined ? { pid: e.pid } : {}),
            ...(e.exe !== undefined ? { exe: e.exe } : {}),
            ...(e.cmdline !== undefined ? { cmdline: e.cmdline } : {}),
            port: e.port,
            prefix: e.prefix,
          })),
        }
      : {}),
  };
}
