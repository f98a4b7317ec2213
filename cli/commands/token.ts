// `gopsctl token create`: signs a JWT that gopsd accepts (operators, tests, and dev mode's local key). Prints the
// token on stdout, `{token, expiresAt, jti}` with --json, or writes it to an owner-only file with -o.
import { DEV_ALGORITHM, DEV_AUDIENCE, DEV_ISSUER, devSecretPath } from "../../common/dev-key.js";
import { ALGORITHMS, DEFAULT_MAX_LIFETIME_SEC, SCOPES, type Algorithm } from "../../common/token-rules.js";
import { OUTPUT_FLAG } from "../capture.js";
import { defineCommand, type CommandContext } from "../command.js";
import { formatGoDuration, parseDuration } from "../duration.js";
import { UsageError } from "../errors.js";
import { printJson, write } from "../output/index.js";
import { flagValue, type FlagSpec, type ParsedArgv } from "../parse-argv.js";

export interface TokenCreateOptions {
  /** Sign with gopsd --dev's key and dev defaults for what is not given. */
  dev: boolean;
  keyFile: string | undefined;
  alg: Algorithm | undefined;
  kid: string | undefined;
  issuer: string | undefined;
  audience: string | undefined;
  subject: string | undefined;
  scopes: readonly string[] | undefined;
  ttlSec: number | undefined;
  hosts: readonly string[] | undefined;
  notBeforeSec: number | undefined;
  /** -o FILE: write the token there (mode 0600) instead of stdout. */
  output: string | undefined;
}

const DEV_TTL_SEC = 3600;

/** token create's own flags: --key (the signing key) and --hosts (the token's host claim) mean what they say here. */
const TOKEN_FLAGS: readonly FlagSpec[] = [
  { name: "dev", help: "sign with gopsd --dev's key, for gopsd --dev on this machine" },
  { name: "key", value: "FILE", help: "the signing key: an HS256 secret file, or an RS256/ES256 PEM private key" },
  { name: "alg", value: "ALG", help: "HS256 (secret file), RS256 or ES256 (PEM private key)" },
  { name: "kid", value: "KID", help: "key id in the token header (when gopsd has several keys)" },
  { name: "iss", value: "ISS", help: "issuer gopsd expects" },
  { name: "aud", value: "AUD", help: "audience gopsd expects" },
  { name: "sub", value: "SUB", help: "subject (who the token is for; it appears in audit lines)" },
  { name: "scope", value: "SCOPES", repeatable: true, help: "gops:read, gops:stack, gops:profile, gops:write, gops:binary, gops:metrics, gops:captures (comma list or repeated)" },
  { name: "ttl", value: "DUR", help: "lifetime (15m, 1h); gopsd refuses tokens living longer than its maximum (default 1h)" },
  { name: "hosts", value: "A,B,C", repeatable: true, help: "restrict the token to these host names or globs (web-*,db-1)" },
  { name: "not-before", value: "DUR", help: "becomes valid this long from now" },
  { ...OUTPUT_FLAG, help: "write the token to FILE (mode 0600) instead of stdout" },
];
/** What --dev decides itself: a dev gopsd verifies exactly this key, issuer and audience. */
const DEV_FIXED = ["key", "alg", "kid", "iss", "aud"];
const REQUIRED = ["key", "alg", "iss", "aud", "sub", "scope", "ttl"];

export const spec = defineCommand({
  name: "token",
  args: "create [flags]",
  summary: "create a token (JWT) for gopsd: --dev for gopsd --dev, or --key --alg --iss --aud --sub --scope --ttl",
  flags: TOKEN_FLAGS,
  offline: "it signs locally",
  details: [
    "Prints the token; with --json {token, expiresAt, jti}; with -o FILE writes it to FILE (mode 0600).",
    "--dev signs with the key gopsd --dev created: $XDG_CONFIG_HOME/gopsctl/dev/hs256.key (~/.config/gopsctl/...);",
    `  issuer ${DEV_ISSUER}, audience ${DEV_AUDIENCE}, subject $USER, all scopes, ttl 1h unless --sub/--scope/--ttl say otherwise.`,
    "examples:",
    "  gopsctl token create --dev -o ~/.config/gopsctl/token",
    "  gopsctl token create --key ops.pem --alg ES256 --kid ops-2026 --iss ops --aud gopsd --sub alice \\",
    "    --scope gops:read,gops:stack --ttl 15m --hosts 'web-*,db-1'",
  ],
  parse: parseTokenCreate,
  defaultTimeoutMs: () => undefined,
  run,
});

function parseTokenCreate(args: readonly string[], parsed: ParsedArgv): TokenCreateOptions {
  if (args[0] !== "create") throw new UsageError(args[0] === undefined ? "missing subcommand: token create" : `unknown subcommand "token ${args[0]}" (want: token create)`);
  if (args.length > 1) throw new UsageError(`too many arguments: "${args[1]}"`);
  const value = (name: string) => flagValue(parsed, name);
  const dev = parsed.given.has("dev");
  if (dev) {
    const clash = DEV_FIXED.find((f) => parsed.given.has(f));
    if (clash !== undefined) throw new UsageError(`--dev decides --${clash} itself: drop one of them`);
  } else {
    const missing = REQUIRED.filter((f) => !parsed.given.has(f));
    if (missing.length > 0) throw new UsageError(`token create needs ${missing.map((f) => `--${f}`).join(", ")} (or --dev)`);
  }
  const output = value("output");
  if (output !== undefined && parsed.given.has("json")) throw new UsageError("flags --json and --output exclude each other for token create");
  return {
    dev,
    keyFile: value("key"),
    alg: parseAlg(value("alg")),
    kid: value("kid"),
    issuer: value("iss"),
    audience: value("aud"),
    subject: value("sub"),
    scopes: parseScopes(parsed.values.get("scope")),
    ttlSec: optional(value("ttl"), parseTtl),
    hosts: parseHosts(parsed.values.get("hosts")),
    notBeforeSec: optional(value("not-before"), parseNotBefore),
    output,
  };
}

function parseAlg(text: string | undefined): Algorithm | undefined {
  if (text === undefined) return undefined;
  const alg = ALGORITHMS.find((a) => a === text.toUpperCase());
  if (alg === undefined) throw new UsageError(`unknown algorithm "${text}" (want ${ALGORITHMS.join(", ")})`);
  return alg;
}

/** Comma lists, repeatable; each must be a known scope; duplicates collapse. */
function parseScopes(values: readonly string[] | undefined): string[] | undefined {
  if (values === undefined) return undefined;
  const scopes = new Set<string>();
  for (const s of commaList(values, "--scope")) {
    if (!(SCOPES as readonly string[]).includes(s)) throw new UsageError(`unknown scope "${s}" (known: ${SCOPES.join(", ")})`);
    scopes.add(s);
  }
  return [...scopes];
}

function parseHosts(values: readonly string[] | undefined): string[] | undefined {
  if (values === undefined) return undefined;
  const hosts = commaList(values, "--hosts");
  for (const h of hosts) {
    if (!/^[A-Za-z0-9._*?-]+$/.test(h)) throw new UsageError(`invalid host pattern "${h}" (names and globs with * and ?)`);
  }
  return [...new Set(hosts)];
}

function commaList(values: readonly string[], flag: string): string[] {
  const items = values.flatMap((v) => v.split(",")).map((s) => s.trim());
  if (items.some((s) => s === "")) throw new UsageError(`${flag} has an empty item`);
  return items;
}

/** Whole seconds above zero. */
function parseTtl(text: string): number {
  const ms = parseDuration(text, "ttl");
  if (!(ms > 0)) throw new UsageError(`invalid ttl "${text}": it must be above zero`);
  if (ms % 1000 !== 0) throw new UsageError(`invalid ttl "${text}": it must be whole seconds`);
  return ms / 1000;
}

function parseNotBefore(text: string): number {
  const ms = parseDuration(text, "not-before");
  if (ms < 0) throw new UsageError(`invalid not-before "${text}": it must not be negative`);
  if (ms % 1000 !== 0) throw new UsageError(`invalid not-before "${text}": it must be whole seconds`);
  return ms / 1000;
}

function optional<T>(text: string | undefined, parse: (t: string) => T): T | undefined {
  return text === undefined ? undefined : parse(text);
}

export async function run(opts: TokenCreateOptions, ctx: CommandContext): Promise<void> {
  const keyFile = opts.dev ? devSecretPath(ctx.env) : opts.keyFile!;
  const alg = opts.dev ? DEV_ALGORITHM : opts.alg!;
  const ttlSec = opts.ttlSec ?? DEV_TTL_SEC;
  let material: Buffer;
  try {
    material = await process.getBuiltinModule("node:fs/promises").readFile(keyFile, { signal: ctx.signal });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (opts.dev && code === "ENOENT") throw new UsageError(`no dev key at ${keyFile}: start gopsd --dev first`);
    if ((e as Error).name === "AbortError") throw e;
    throw new UsageError(`cannot read key file ${keyFile}: ${code ?? (e as Error).message}`);
  }
  if (ttlSec > DEFAULT_MAX_LIFETIME_SEC) {
    await write(
      ctx.stderr,
      `gopsctl: warning: ttl ${formatGoDuration(ttlSec * 1000)} is above gopsd's default maximum token lifetime (${formatGoDuration(DEFAULT_MAX_LIFETIME_SEC * 1000)}); gopsd refuses this token unless its maximum is raised\n`,
      ctx.signal,
    );
  }
  const nowSec = Math.floor(ctx.now().getTime() / 1000);
  // The signing library (jsonwebtoken and its dependencies) is loaded by this command only.
  const [{ AuthConfigError, signToken, signingKey }, { default: jwt }] = await Promise.all([import("../../common/token.js"), import("jsonwebtoken")]);
  let token: string;
  try {
    token = signToken(
      signingKey(material, alg, keyFile),
      {
        alg,
        ...(opts.kid !== undefined ? { kid: opts.kid } : {}),
        issuer: opts.dev ? DEV_ISSUER : opts.issuer!,
        audience: opts.dev ? DEV_AUDIENCE : opts.audience!,
        subject: opts.subject ?? (opts.dev ? ctx.env["USER"] || "dev" : ""),
        scopes: opts.scopes ?? (opts.dev ? SCOPES : []),
        ttlSec,
        ...(opts.hosts !== undefined ? { hosts: opts.hosts } : {}),
        ...(opts.notBeforeSec !== undefined ? { notBeforeSec: opts.notBeforeSec } : {}),
      },
      nowSec,
    );
  } catch (e) {
    if (e instanceof AuthConfigError) throw new UsageError(e.message);
    throw e;
  }
  if (opts.output !== undefined) {
    await writeOwnerOnly(opts.output, `${token}\n`);
  } else if (ctx.json) {
    const claims = jwt.decode(token) as { exp?: number; jti?: string };
    await printJson(ctx, { token, expiresAt: new Date(claims.exp! * 1000).toISOString(), jti: claims.jti });
  } else {
    await write(ctx.stdout, `${token}\n`, ctx.signal);
  }
}

/** Creates or truncates `path` with mode 0600 (also narrowing an existing file's mode before writing). */
async function writeOwnerOnly(path: string, text: string): Promise<void> {
  let fh;
  try {
    fh = await process.getBuiltinModule("node:fs/promises").open(path, "w", 0o600);
  } catch (e) {
    throw new UsageError(`cannot write token file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    await fh.chmod(0o600);
    await fh.writeFile(text);
  } finally {
    await fh.close();
  }
}
