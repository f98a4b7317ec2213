// gopsd configuration: flags > environment (GOPSD_*) > config file (--config, YAML or JSON) > defaults, validated
// once into a deep-frozen object. One table (KEYS) names every key; its flag and variable are derived from it
// (auth.hsSecretFile ↔ --auth-hs-secret-file ↔ GOPSD_AUTH_HS_SECRET_FILE). Any unknown key or bad value stops
// start-up with a one-line ConfigError naming the key the way its source spells it. Resolution is pure; the
// only I/O (reading the file) is in loadConfig and config-file.ts.
import { isIP } from "node:net";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import { DEV_ALGORITHM, DEV_AUDIENCE, DEV_ISSUER, devSecretPath } from "../common/dev-key.js";
import { formatDurationMs, parseDurationMs } from "../common/duration.js";
import type { SignalName } from "./agent/signals.js";
import type { AgentTimeoutOverrides } from "./agent/timeouts.js";
import {
  ALGORITHMS,
  DEFAULT_CLOCK_TOLERANCE_SEC,
  DEFAULT_LIMITS,
  DEFAULT_MAX_LIFETIME_SEC,
  DEFAULT_MAX_RECEIVE_MESSAGE_BYTES,
  splitKid,
  type Algorithm,
  type LimitsConfig,
  type VerifierConfig,
} from "./auth/index.js";
import { ConfigError } from "./config-error.js";
import { readConfigFile } from "./config-file.js";
import { firstLine } from "../common/first-line.js";

export { ConfigError };

const DEFAULT_LISTEN = "127.0.0.1:4677";
const CONFIG_READ_TIMEOUT_MS = 5_000;

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
const TIMEOUT_NAMES = ["connect", ...Object.keys(SIGNAL_BY_TIMEOUT_NAME)];

export interface TlsConfig {
  readonly cert: string;
  readonly key: string;
  /** CA bundle for client certificates: when set, every client must present one it signed (mTLS). */
  readonly clientCa?: string;
}

export type AuditConfig = { readonly kind: "file"; readonly path: string } | { readonly kind: "stdout" };

export interface ServerLimits extends LimitsConfig {
  /** `grpc.max_receive_message_length`: larger requests get RESOURCE_EXHAUSTED. */
  readonly maxRequestBytes: number;
}

export interface GopsdConfig {
  /** "host:port" or "unix:/path". */
  readonly listen: string;
  /** This host's name: reported in responses, matched against a token's `hosts` claim, written in audit lines. */
  readonly hostName: string;
  /** Serve TCP on loopback without authentication (warned about at start). */
  readonly insecure: boolean;
  /** Dev mode: auth with a local HS256 secret at `auth.hsSecretFile`, created on first start. */
  readonly dev: boolean;
  readonly tls?: TlsConfig;
  /** JWT verification; undefined = no authentication (unix socket, or loopback with --insecure). */
  readonly auth?: VerifierConfig;
  readonly audit: AuditConfig;
  readonly limits: ServerLimits;
  /** Overrides of the agent connect timeout and per-signal deadlines. */
  readonly agentTimeouts: AgentTimeoutOverrides;
  /** The /proc to read (gopsd in a container with the host's /proc mounted elsewhere); default $HOST_PROC or /proc. */
  readonly procRoot?: string;
  /** Where container runtimes and the kubelet keep their state, for container and pod names. */
  readonly containers: { readonly dockerRoot?: string; readonly podmanRoot?: string; readonly kubeletRoot?: string };
}

type Kind = "listen" | "hostName" | "string" | "path" | "keyPath" | "keyPaths" | "bool" | "algorithms" | "lifetime" | "skew" | "rate" | "count" | "bytes";

interface KeySpec {
  readonly key: string;
  readonly kind: Kind;
  readonly help: string;
}

/** Every config key but agentTimeouts (a map, handled on its own). Order = order in the usage text. */
const KEYS: readonly KeySpec[] = [
  { key: "listen", kind: "listen", help: `host:port or unix:/path (default ${DEFAULT_LISTEN})` },
  { key: "hostName", kind: "hostName", help: "this host's name for tokens' hosts claim and audit (default the hostname)" },
  { key: "insecure", kind: "bool", help: "allow TCP on loopback without authentication (prints a warning)" },
  { key: "dev", kind: "bool", help: "dev mode: local HS256 key, loopback only; get a token with 'gopsctl token create --dev'" },
  { key: "tls.cert", kind: "path", help: "server certificate chain (PEM)" },
  { key: "tls.key", kind: "path", help: "server private key (PEM)" },
  { key: "tls.clientCa", kind: "path", help: "CA bundle (PEM) for client certificates: enables mTLS" },
  { key: "auth.algorithms", kind: "algorithms", help: `JWT algorithms accepted, from ${ALGORITHMS.join(", ")}` },
  { key: "auth.hsSecretFile", kind: "keyPath", help: "HS256 secret file ([kid:]path, at least 32 bytes)" },
  { key: "auth.publicKeyFiles", kind: "keyPaths", help: "RS256/ES256 PEM public keys ([kid:]path, repeatable)" },
  { key: "auth.jwksFile", kind: "path", help: "JWKS file of RS256/ES256 public keys, each with a kid" },
  { key: "auth.issuer", kind: "string", help: "required token iss" },
  { key: "auth.audience", kind: "string", help: "required token aud" },
  { key: "auth.maxLifetime", kind: "lifetime", help: "longest accepted exp - iat (default 1h)" },
  { key: "auth.clockSkew", kind: "skew", help: `leeway on exp and nbf (default ${DEFAULT_CLOCK_TOLERANCE_SEC}s)` },
  { key: "audit.file", kind: "path", help: "append audit lines (JSON) to this file, mode 0600" },
  { key: "audit.stdout", kind: "bool", help: "write audit lines to stdout (the default without audit.file)" },
  { key: "limits.ratePerSecond", kind: "rate", help: `calls per second per subject (default ${DEFAULT_LIMITS.ratePerSec})` },
  { key: "limits.burst", kind: "count", help: `calls a subject may make at once after idling (default ${DEFAULT_LIMITS.burst})` },
  { key: "limits.maxConcurrentPerSubject", kind: "count", help: `calls in flight per subject (default ${DEFAULT_LIMITS.maxConcurrentPerSubject})` },
  { key: "limits.maxConcurrentStreams", kind: "count", help: `streaming calls in flight in all (default ${DEFAULT_LIMITS.maxConcurrentStreams})` },
  { key: "limits.maxRequestBytes", kind: "bytes", help: `largest request message (default ${DEFAULT_MAX_RECEIVE_MESSAGE_BYTES})` },
  { key: "procRoot", kind: "path", help: "the /proc to read, e.g. the host's mounted at /host/proc in a container (default $HOST_PROC, else /proc)" },
  { key: "containers.dockerRoot", kind: "path", help: "Docker's data root, for container names (default /var/lib/docker)" },
  { key: "containers.podmanRoot", kind: "path", help: "Podman's storage root, for container names (default /var/lib/containers/storage)" },
  { key: "containers.kubeletRoot", kind: "path", help: "the kubelet's root, for pod names and namespaces (default /var/lib/kubelet)" },
];

const kebab = (key: string) => key.replace(/\./g, "-").replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const flagOf = (key: string) => `--${kebab(key)}`;
const envOf = (key: string) => `GOPSD_${kebab(key).replace(/-/g, "_").toUpperCase()}`;
const TIMEOUTS_KEY = "agentTimeouts";
const TIMEOUTS_FLAG = "agent-timeout";
const TIMEOUTS_ENV = envOf(TIMEOUTS_KEY);
const CONFIG_ENV = "GOPSD_CONFIG";

export const USAGE = [
  "usage: gopsd [--config FILE] [flags]",
  "",
  "Settings come from flags, else GOPSD_* variables, else the config file (YAML or JSON, keys as in",
  "examples/gopsd.yaml), else defaults. Without auth gopsd serves a unix socket, or TCP on loopback with",
  "--insecure; a non-loopback address needs TLS and auth.",
  "",
  `  --config FILE  (env ${CONFIG_ENV})`,
  "      config file, .yaml/.yml or .json",
  ...KEYS.flatMap((k) => {
    const arg = k.kind === "bool" ? "" : k.kind === "keyPaths" || k.kind === "algorithms" ? " A,B" : " VALUE";
    return [`  ${flagOf(k.key)}${arg}  (${k.key}, env ${envOf(k.key)})`, `      ${k.help}`];
  }),
  `  --${TIMEOUTS_FLAG} NAME=DURATION  (${TIMEOUTS_KEY}.NAME, env ${TIMEOUTS_ENV}=cpu=45s,stack=5s)`,
  `      deadline for one kind of agent call, e.g. cpu=45s, repeatable; NAME is one of ${TIMEOUT_NAMES.join(", ")}`,
  "  --help",
  "      this text",
].join("\n");

/** What the command line asked for: help, or flag values (strings, booleans, lists) by config key. */
export type ParsedFlags = { readonly help: true } | { readonly help: false; readonly configFile?: string; readonly values: ReadonlyMap<string, unknown> };

/** Parses argv strictly (unknown flags and positionals are refused). Pure. */
export function parseFlags(argv: readonly string[]): ParsedFlags {
  const options: Record<string, { type: "string" | "boolean"; multiple?: boolean; short?: string }> = {
    config: { type: "string" },
    help: { type: "boolean", short: "h" },
    [TIMEOUTS_FLAG]: { type: "string", multiple: true },
  };
  for (const k of KEYS) {
    options[kebab(k.key)] = k.kind === "bool" ? { type: "boolean" } : k.kind === "keyPaths" || k.kind === "algorithms" ? { type: "string", multiple: true } : { type: "string" };
  }
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false });
  } catch (e) {
    throw new ConfigError(firstLine(e));
  }
  const v = parsed.values as Record<string, string | boolean | string[] | undefined>;
  if (v.help) return { help: true };
  const values = new Map<string, unknown>();
  for (const k of KEYS) if (v[kebab(k.key)] !== undefined) values.set(k.key, v[kebab(k.key)]);
  if (v[TIMEOUTS_FLAG] !== undefined) values.set(TIMEOUTS_KEY, v[TIMEOUTS_FLAG]);
  const configFile = v.config as string | undefined;
  return { help: false, ...(configFile !== undefined ? { configFile } : {}), values };
}

export interface ConfigSources {
  /** Flag values by config key, from parseFlags. */
  readonly flags: ReadonlyMap<string, unknown>;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The parsed config file, and its path (relative paths in it are resolved against its directory). */
  readonly file?: { readonly path: string; readonly doc: Readonly<Record<string, unknown>> };
  /** Directory relative paths from flags and env are resolved against. */
  readonly cwd: string;
  /** Default for hostName. */
  readonly defaultHostName: string;
}

interface Setting {
  readonly value: unknown;
  /** The key as its source spells it, for messages: "config auth.issuer", "GOPSD_AUTH_ISSUER", "--auth-issuer". */
  readonly where: string;
}

/** Merges and validates the sources into a frozen config. Pure. */
export function resolveConfig(src: ConfigSources): GopsdConfig {
  const settings = new Map<string, Setting>();
  // Lowest precedence first: each source overwrites what the previous one set.
  if (src.file) {
    const base = dirname(resolve(src.cwd, src.file.path));
    for (const [key, raw] of flattenFile(src.file.doc)) {
      const where = `config ${key}`;
      settings.set(key, { value: key === TIMEOUTS_KEY ? raw : convert(specOf(key)!, raw, false, base, where), where });
    }
  }
  for (const [name, raw] of Object.entries(src.env)) {
    if (!name.startsWith("GOPSD_") || name === CONFIG_ENV || raw === undefined) continue;
    if (name === TIMEOUTS_ENV) {
      settings.set(TIMEOUTS_KEY, mergeTimeoutSettings(settings.get(TIMEOUTS_KEY), raw.split(",").filter(Boolean), name));
      continue;
    }
    const spec = KEYS.find((k) => envOf(k.key) === name);
    if (!spec) throw new ConfigError(`${name}: unknown variable (see gopsd --help)`);
    settings.set(spec.key, { value: convert(spec, raw, true, src.cwd, name), where: name });
  }
  for (const [key, raw] of src.flags) {
    if (key === TIMEOUTS_KEY) {
      settings.set(TIMEOUTS_KEY, mergeTimeoutSettings(settings.get(TIMEOUTS_KEY), raw as string[], `--${TIMEOUTS_FLAG}`));
      continue;
    }
    settings.set(key, { value: convert(specOf(key)!, raw, true, src.cwd, flagOf(key)), where: flagOf(key) });
  }
  return deepFreeze(build(settings, src));
}

function specOf(key: string): KeySpec | undefined {
  return KEYS.find((k) => k.key === key);
}

/** The file's nested mappings as dotted keys; unknown keys are refused. agentTimeouts stays a mapping. */
function flattenFile(doc: Readonly<Record<string, unknown>>): [string, unknown][] {
  const out: [string, unknown][] = [];
  const sections = new Set(KEYS.filter((k) => k.key.includes(".")).map((k) => k.key.split(".")[0]!));
  for (const [top, value] of Object.entries(doc)) {
    if (top === TIMEOUTS_KEY) {
      out.push([TIMEOUTS_KEY, fileTimeouts(value)]);
    } else if (sections.has(top)) {
      if (typeof value !== "object" || value === null || Array.isArray(value)) throw new ConfigError(`config ${top}: must be a mapping of keys`);
      for (const [sub, v] of Object.entries(value)) {
        const key = `${top}.${sub}`;
        if (!specOf(key)) throw new ConfigError(`config ${key}: unknown key`);
        out.push([key, v]);
      }
    } else if (specOf(top)) {
      out.push([top, value]);
    } else {
      throw new ConfigError(`config ${top}: unknown key`);
    }
  }
  return out;
}

/** agentTimeouts from the file: { cpu: "45s" } → the "cpu=45s" items flags and env use. */
function fileTimeouts(value: unknown): TimeoutMs {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ConfigError(`config ${TIMEOUTS_KEY}: must be a mapping of name: duration`);
  }
  const items = Object.entries(value).map(([name, d]) => {
    if (typeof d !== "string" && typeof d !== "number") throw new ConfigError(`config ${TIMEOUTS_KEY}.${name}: must be a duration such as 45s`);
    return [name, typeof d === "number" ? `${d}s` : d] as const;
  });
  return parseTimeouts(items, (name) => `config ${TIMEOUTS_KEY}.${name}`);
}

type TimeoutMs = ReadonlyMap<string, number>;

/** Per-name merge: a higher source overrides the names it sets and keeps the others. */
function mergeTimeoutSettings(lower: Setting | undefined, items: readonly string[], where: string): Setting {
  const pairs = items.map((item) => {
    const eq = item.indexOf("=");
    return eq < 0 ? ([item, ""] as const) : ([item.slice(0, eq), item.slice(eq + 1)] as const);
  });
  const mine = parseTimeouts(pairs, (name) => `${where} ${name}`);
  const merged = new Map((lower?.value as TimeoutMs | undefined) ?? []);
  for (const [k, v] of mine) merged.set(k, v);
  return { value: merged, where };
}

function parseTimeouts(items: readonly (readonly [string, string])[], where: (name: string) => string): TimeoutMs {
  const out = new Map<string, number>();
  for (const [name, value] of items) {
    if (!TIMEOUT_NAMES.includes(name)) throw new ConfigError(`${where(name)}: unknown name (use one of ${TIMEOUT_NAMES.join(", ")})`);
    const ms = parseDurationMs(value);
    if (ms === undefined || ms < 1 || ms > 2 ** 31 - 1) throw new ConfigError(`${where(name)}: "${value}" is not a duration between 1ms and 24d`);
    out.set(name, Math.round(ms));
  }
  return out;
}

/**
 * One value to its typed form. `text`: the value came from a flag or variable (strings, flag booleans, lists of
 * strings); otherwise from the file (YAML/JSON types). Throws ConfigError("<where>: <why>").
 */
function convert(spec: KeySpec, raw: unknown, text: boolean, base: string, where: string): unknown {
  const fail = (why: string): never => {
    throw new ConfigError(`${where}: ${why}`);
  };
  const str = (v: unknown, what = "a non-empty string"): string => (typeof v === "string" && v.trim() !== "" ? v.trim() : fail(`must be ${what}`));
  const list = (v: unknown): string[] => {
    if (text) return (Array.isArray(v) ? v : [v]).flatMap((x) => String(x).split(",")).map((s) => s.trim()).filter(Boolean);
    if (!Array.isArray(v)) return fail("must be a list");
    return v.map((x) => str(x, "a list of non-empty strings"));
  };
  const keyPath = (v: string) => {
    const { kid, path } = splitKid(v);
    return `${kid}:${resolve(base, path)}`;
  };
  const duration = (v: unknown, minSec: number, maxSec: number): number => {
    const ms = typeof v === "number" && !text ? v * 1000 : typeof v === "string" ? parseDurationMs(v) : undefined;
    if (ms === undefined || !Number.isFinite(ms) || ms < minSec * 1000 || ms > maxSec * 1000 || ms % 1000 !== 0) {
      fail(`must be a whole number of seconds between ${formatDurationMs(minSec * 1000)} and ${formatDurationMs(maxSec * 1000)}, e.g. "30s"`);
    }
    return ms! / 1000;
  };
  const number = (v: unknown, integer: boolean, min: number, max: number): number => {
    const n = typeof v === "number" && !text ? v : typeof v === "string" && v.trim() !== "" ? Number(v) : NaN;
    if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min || n > max) {
      fail(`must be ${integer ? "an integer" : "a number"} from ${min} to ${max}`);
    }
    return n;
  };
  switch (spec.kind) {
    case "listen": {
      const v = str(raw);
      const why = listenProblem(v);
      return why === undefined ? v : fail(why);
    }
    case "hostName": {
      const v = str(raw);
      return /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/.test(v) ? v : fail(`"${v}" is not a valid host name`);
    }
    case "string":
      return str(raw);
    case "path":
      return resolve(base, str(raw, "a non-empty path"));
    case "keyPath":
      return keyPath(str(raw, "a non-empty path"));
    case "keyPaths": {
      const v = list(raw).map(keyPath);
      return v.length > 0 ? v : fail("must name at least one key file");
    }
    case "bool":
      if (typeof raw === "boolean") return raw;
      if (text && typeof raw === "string" && /^(1|true|yes|on)$/i.test(raw.trim())) return true;
      if (text && typeof raw === "string" && /^(0|false|no|off)$/i.test(raw.trim())) return false;
      return fail("must be true or false");
    case "algorithms": {
      const v = list(raw);
      for (const a of v) if (!(ALGORITHMS as readonly string[]).includes(a)) fail(`unsupported algorithm "${a}" (use ${ALGORITHMS.join(", ")})`);
      return v.length > 0 ? [...new Set(v)] : fail(`must list at least one of ${ALGORITHMS.join(", ")}`);
    }
    case "lifetime":
      return duration(raw, 1, 24 * 3600);
    case "skew":
      return duration(raw, 0, 300);
    case "rate":
      return number(raw, false, 0.001, 1e6);
    case "count":
      return number(raw, true, 1, 1e6);
    case "bytes":
      return number(raw, true, 1024, 64 << 20);
  }
}

function build(settings: ReadonlyMap<string, Setting>, src: ConfigSources): GopsdConfig {
  const get = <T>(key: string): T | undefined => settings.get(key)?.value as T | undefined;
  const name = (key: string) => `${key} (${flagOf(key)}, ${envOf(key)})`;
  const listen = get<string>("listen") ?? DEFAULT_LISTEN;
  const hostName = get<string>("hostName") ?? src.defaultHostName;
  const insecure = get<boolean>("insecure") ?? false;
  const dev = get<boolean>("dev") ?? false;

  let tls: TlsConfig | undefined;
  const tlsKeys = KEYS.filter((k) => k.key.startsWith("tls.") && settings.has(k.key));
  if (tlsKeys.length > 0) {
    const cert = get<string>("tls.cert");
    const key = get<string>("tls.key");
    if (cert === undefined) throw new ConfigError(`${name("tls.cert")}: required when TLS is configured`);
    if (key === undefined) throw new ConfigError(`${name("tls.key")}: required when TLS is configured`);
    const clientCa = get<string>("tls.clientCa");
    tls = { cert, key, ...(clientCa !== undefined ? { clientCa } : {}) };
  }

  let auth: VerifierConfig | undefined;
  const authSet = KEYS.filter((k) => k.key.startsWith("auth.") && settings.has(k.key));
  if (dev && authSet.length > 0) {
    throw new ConfigError(`${settings.get("dev")!.where}: dev mode configures its own key; remove ${authSet[0]!.key} or dev`);
  }
  if (dev) {
    auth = { algorithms: [DEV_ALGORITHM], hsSecretFile: devSecretPath(src.env), issuer: DEV_ISSUER, audience: DEV_AUDIENCE };
  } else if (authSet.length > 0) {
    const algorithms = get<Algorithm[]>("auth.algorithms");
    const issuer = get<string>("auth.issuer");
    const audience = get<string>("auth.audience");
    if (algorithms === undefined) throw new ConfigError(`${name("auth.algorithms")}: required when auth is configured, e.g. [RS256]`);
    if (issuer === undefined) throw new ConfigError(`${name("auth.issuer")}: required when auth is configured`);
    if (audience === undefined) throw new ConfigError(`${name("auth.audience")}: required when auth is configured`);
    const hsSecretFile = get<string>("auth.hsSecretFile");
    const publicKeyFiles = get<string[]>("auth.publicKeyFiles");
    const jwksFile = get<string>("auth.jwksFile");
    if (hsSecretFile === undefined && publicKeyFiles === undefined && jwksFile === undefined) {
      throw new ConfigError("auth: needs a key: auth.hsSecretFile, auth.publicKeyFiles or auth.jwksFile");
    }
    const needKey = (alg: Algorithm) =>
      alg === "HS256" ? hsSecretFile !== undefined : publicKeyFiles !== undefined || jwksFile !== undefined;
    for (const alg of algorithms) {
      if (!needKey(alg)) throw new ConfigError(`${settings.get("auth.algorithms")!.where}: ${alg} is allowed but no ${alg === "HS256" ? "auth.hsSecretFile" : "public key"} is configured`);
    }
    if (hsSecretFile !== undefined && !algorithms.includes("HS256")) {
      throw new ConfigError(`${settings.get("auth.hsSecretFile")!.where}: an HS256 secret is configured but auth.algorithms does not allow HS256`);
    }
    auth = {
      algorithms,
      issuer,
      audience,
      maxLifetimeSec: get<number>("auth.maxLifetime") ?? DEFAULT_MAX_LIFETIME_SEC,
      clockToleranceSec: get<number>("auth.clockSkew") ?? DEFAULT_CLOCK_TOLERANCE_SEC,
      ...(hsSecretFile !== undefined ? { hsSecretFile } : {}),
      ...(publicKeyFiles !== undefined ? { publicKeyFiles } : {}),
      ...(jwksFile !== undefined ? { jwksFile } : {}),
    };
  }

  const auditFile = get<string>("audit.file");
  const auditStdout = get<boolean>("audit.stdout");
  if (auditFile !== undefined && auditStdout === true) {
    throw new ConfigError(`${settings.get("audit.stdout")!.where}: choose one of audit.file and audit.stdout`);
  }
  if (auditFile === undefined && auditStdout === false) {
    throw new ConfigError(`${settings.get("audit.stdout")!.where}: audit lines must go somewhere: set audit.file or leave audit.stdout true`);
  }
  const audit: AuditConfig = auditFile !== undefined ? { kind: "file", path: auditFile } : { kind: "stdout" };

  const limits: ServerLimits = {
    ratePerSec: get<number>("limits.ratePerSecond") ?? DEFAULT_LIMITS.ratePerSec,
    burst: get<number>("limits.burst") ?? DEFAULT_LIMITS.burst,
    maxConcurrentPerSubject: get<number>("limits.maxConcurrentPerSubject") ?? DEFAULT_LIMITS.maxConcurrentPerSubject,
    maxConcurrentStreams: get<number>("limits.maxConcurrentStreams") ?? DEFAULT_LIMITS.maxConcurrentStreams,
    maxRequestBytes: get<number>("limits.maxRequestBytes") ?? DEFAULT_MAX_RECEIVE_MESSAGE_BYTES,
  };

  const deadlineMs: Partial<Record<SignalName, number>> = {};
  let connectMs: number | undefined;
  for (const [n, ms] of get<TimeoutMs>(TIMEOUTS_KEY) ?? []) {
    if (n === "connect") connectMs = ms;
    else deadlineMs[SIGNAL_BY_TIMEOUT_NAME[n]!] = ms;
  }
  const agentTimeouts: AgentTimeoutOverrides = { ...(connectMs !== undefined ? { connectMs } : {}), deadlineMs };

  const procRoot = get<string>("procRoot") ?? (src.env.HOST_PROC ? resolve(src.cwd, src.env.HOST_PROC) : undefined);
  const dockerRoot = get<string>("containers.dockerRoot");
  const podmanRoot = get<string>("containers.podmanRoot");
  const kubeletRoot = get<string>("containers.kubeletRoot");
  const containers = {
    ...(dockerRoot !== undefined ? { dockerRoot } : {}),
    ...(podmanRoot !== undefined ? { podmanRoot } : {}),
    ...(kubeletRoot !== undefined ? { kubeletRoot } : {}),
  };

  const config: GopsdConfig = {
    listen,
    hostName,
    insecure,
    dev,
    ...(tls ? { tls } : {}),
    ...(auth ? { auth } : {}),
    audit,
    limits,
    agentTimeouts,
    ...(procRoot !== undefined ? { procRoot } : {}),
    containers,
  };
  checkStartupRules(config, settings.get("listen")?.where ?? "listen");
  return config;
}

/**
 * Who may listen where:
 * - a unix socket is always allowed (gopsd makes it owner-only);
 * - TCP on loopback needs auth (configured, or --dev), or an explicit --insecure;
 * - any other address needs TLS and auth; --insecure does not cover it, nor does --dev (loopback only).
 */
function checkStartupRules(c: GopsdConfig, where: string): void {
  if (c.listen.startsWith("unix:")) return;
  const loopback = isLoopbackHost(splitHostPort(c.listen)!.host);
  if (!loopback) {
    if (c.dev) throw new ConfigError(`${where}: dev mode serves loopback or a unix socket only, not ${c.listen}`);
    const missing = [...(c.tls ? [] : ["TLS (tls.cert, tls.key)"]), ...(c.auth ? [] : ["auth (auth.*)"])];
    if (missing.length > 0) {
      throw new ConfigError(
        `${where}: refusing to listen on non-loopback address ${c.listen} without ${missing.join(" and ")}; --insecure only covers loopback`,
      );
    }
    return;
  }
  if (!c.auth && !c.insecure) {
    throw new ConfigError(
      `${where}: refusing to serve TCP ${c.listen} without authentication: configure auth, use --dev, listen on unix:/path, or pass --insecure`,
    );
  }
}

/** Reads argv, the environment and the config file they name, and resolves them. The only I/O of configuration. */
export async function loadConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  defaults: { cwd: string; hostName: string },
): Promise<GopsdConfig | "help"> {
  const flags = parseFlags(argv);
  if (flags.help) return "help";
  const path = flags.configFile ?? env[CONFIG_ENV];
  if (path === "") throw new ConfigError(`${flags.configFile !== undefined ? "--config" : CONFIG_ENV}: must be a file path`);
  const file = path === undefined ? undefined : { path, doc: await readConfigFile(resolve(defaults.cwd, path), { signal: AbortSignal.timeout(CONFIG_READ_TIMEOUT_MS) }) };
  return resolveConfig({ flags: flags.values, env, ...(file ? { file } : {}), cwd: defaults.cwd, defaultHostName: defaults.hostName });
}

/** Splits "host:port", "[v6]:port" into parts; undefined when malformed. */
function splitHostPort(addr: string): { host: string; port: number } | undefined {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(addr) ?? /^([^:[\]]+):(\d+)$/.exec(addr);
  if (!m) return undefined;
  const port = Number(m[2]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) return undefined;
  return { host: m[1]!, port };
}

function isLoopbackHost(host: string): boolean {
  if (host === "localhost") return true;
  if (isIP(host) === 4) return host.startsWith("127.");
  if (isIP(host) === 6) return host === "::1" || host === "0:0:0:0:0:0:0:1";
  return false;
}

function listenProblem(listen: string): string | undefined {
  if (listen.startsWith("unix:")) return listen.slice(5).startsWith("/") ? undefined : "unix socket path must be absolute";
  return splitHostPort(listen) ? undefined : `"${listen}" is not host:port or unix:/path`;
}

function deepFreeze<T>(x: T): T {
  if (typeof x === "object" && x !== null && !Object.isFrozen(x)) {
    Object.freeze(x);
    for (const v of Object.values(x)) deepFreeze(v);
  }
  return x;
}
