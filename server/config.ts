// gopsd configuration: flags > environment (GOPSD_*) > config file (--config, YAML or JSON) > defaults, validated
// once into a deep-frozen object. One table (KEYS) names every key; its flag and variable are derived from it
// (auth.hsSecretFile ↔ --auth-hs-secret-file ↔ GOPSD_AUTH_HS_SECRET_FILE). Any unknown key or bad value stops
// start-up with a one-line ConfigError naming the key the way its source spells it. Resolution is pure; the
// only I/O (reading the file) is in loadConfig and config-file.ts.
import { splitHostPort } from "../common/host-port.js";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import * as v from "valibot";
import { DEV_ALGORITHM, DEV_AUDIENCE, DEV_ISSUER, devSecretPath } from "../common/dev-key.js";
import { formatDurationMs, parseDurationMs } from "../common/duration.js";
import type { SignalName } from "./agent/signals.js";
import type { AgentTimeoutOverrides } from "./agent/timeouts.js";
import type { DeclaredEndpoint } from "./pprof-http/index.js";
import { ruleFromConfig, type CaptureRule } from "./capture/rules.js";
import { DEFAULT_CAPTURE_SETTINGS, type CaptureSettings } from "./capture/settings.js";
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
import { isLoopbackHost } from "../common/loopback.js";
import { issueKey, mapping } from "../common/config-schema.js";

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
  /** Open connections in all; more are closed at once. */
  readonly maxConnections: number;
  /** Open connections per source address; more are closed at once. */
  readonly maxConnectionsPerSource: number;
  /** Time a new connection has for TLS, HTTP/2 set-up and the start of its first call. */
  readonly handshakeTimeoutMs: number;
  /** Time a connection may stay open with no call in progress (GOAWAY, then closed). */
  readonly idleTimeoutMs: number;
  /** HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS per connection (`grpc.max_concurrent_streams`). */
  readonly maxStreamsPerConnection: number;
  /** nghttp2 memory per connection (`grpc-node.max_session_memory`); beyond it new streams are refused. */
  readonly maxSessionMemoryBytes: number;
  /** Interval of gopsd's HTTP/2 pings on a connection (`grpc.keepalive_time_ms`); 20 s for the answer. */
  readonly keepaliveTimeMs: number;
}

/** Connection and HTTP/2 limits (issue 8: floods and idle connections before authentication). */
export const DEFAULT_CONNECTION_LIMITS = Object.freeze({
  maxConnections: 256,
  maxConnectionsPerSource: 32,
  handshakeTimeoutMs: 10_000,
  idleTimeoutMs: 120_000,
  maxStreamsPerConnection: 32,
  maxSessionMemoryBytes: 4 << 20,
  keepaliveTimeMs: 60_000,
});

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
  /** net/http/pprof endpoints: probe on every listing, and endpoints declared for muxes mounted elsewhere. */
  readonly pprof: PprofConfig;
  /** The Prometheus metrics port (server/metrics); undefined = none. */
  readonly metrics?: MetricsConfig;
  /** Incident capture (server/capture/): rules and the store; undefined = no store (capture.dir unset). */
  readonly capture?: CaptureSettings;
}

export interface MetricsConfig {
  /** "host:port" or "unix:/path": plain HTTP on loopback or a unix socket, else HTTPS with tls.* and a token or mTLS. */
  readonly listen: string;
  /** How often each Go process is sampled for the exporter. */
  readonly intervalMs: number;
  /** Most processes exported; the rest are counted (gopsd_metrics_processes{state="over_limit"}). */
  readonly maxProcesses: number;
}

export const DEFAULT_METRICS_INTERVAL_MS = 15_000;
export const DEFAULT_METRICS_MAX_PROCESSES = 1000;

export interface PprofConfig {
  readonly probeOnList: boolean;
  readonly endpoints: readonly DeclaredEndpoint[];
  /** Only these executables are probed (paths, trailing * = prefix); undefined = every Go program. */
  readonly probeExe?: readonly string[];
}

type Kind = keyof typeof KINDS;
type KindValue<K extends Kind> = v.InferOutput<ReturnType<(typeof KINDS)[K]>>;

/**
 * How a value arrives: `text` from a flag or variable (strings, lists of strings, flag booleans), else typed from
 * the file (YAML/JSON); relative paths resolve against `base` (the file's directory, else the working directory).
 */
interface From {
  readonly text: boolean;
  readonly base: string;
}

/** Per kind of value, its schema (valibot): the checks, the messages, and the typed value it becomes. */
const KINDS = {
  listen: () =>
    v.pipe(
      nonEmpty(),
      v.rawCheck(({ dataset, addIssue }) => {
        const why = dataset.typed ? listenProblem(dataset.value) : undefined;
        if (why !== undefined) addIssue({ message: why });
      }),
    ),
  hostName: () =>
    v.pipe(
      nonEmpty(),
      v.check((s) => /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/.test(s), (i) => `"${String(i.input)}" is not a valid host name`),
    ),
  string: () => nonEmpty(),
  path: (from: From) => v.pipe(nonEmpty("a non-empty path"), v.transform((p) => resolve(from.base, p))),
  keyPath: (from: From) => v.pipe(nonEmpty("a non-empty path"), v.transform((p) => keyPath(p, from.base))),
  keyPaths: (from: From) =>
    v.pipe(list(from), v.transform((l) => l.map((p) => keyPath(p, from.base))), v.minLength(1, "must name at least one key file")),
  bool: (from: From) => {
    const msg = "must be true or false";
    if (!from.text) return v.boolean(msg);
    const word = v.pipe(v.string(), v.trim(), v.regex(/^(1|true|yes|on|0|false|no|off)$/i), v.transform((s) => /^(1|true|yes|on)$/i.test(s)));
    return v.union([v.boolean(), word], msg);
  },
  algorithms: (from: From) =>
    v.pipe(
      list(from),
      v.rawCheck(({ dataset, addIssue }) => {
        const bad = dataset.typed ? dataset.value.find((a) => !(ALGORITHMS as readonly string[]).includes(a)) : undefined;
        if (bad !== undefined) addIssue({ message: `unsupported algorithm "${bad}" (use ${ALGORITHMS.join(", ")})` });
      }),
      v.minLength(1, `must list at least one of ${ALGORITHMS.join(", ")}`),
      v.transform((l) => [...new Set(l)] as Algorithm[]),
    ),
  lifetime: (from: From) => seconds(from, 1, 24 * 3600),
  skew: (from: From) => seconds(from, 0, 300),
  /** A connection timer, whole seconds from 1 s to 1 h, in milliseconds. */
  timeout: (from: From) => v.pipe(seconds(from, 1, 3600), v.transform((sec) => sec * 1000)),
  rate: (from: From) => number(from, false, 0.001, 1e6),
  count: (from: From) => number(from, true, 1, 1e6),
  bytes: (from: From) => number(from, true, 1024, 64 << 20),
  endpoints: (from: From) => declaredEndpoints(from),
  captureRules: (from: From) => captureRules(from),
  /** A duration in whole seconds from 1 s to 365 days, in milliseconds. */
  age: (from: From) => v.pipe(seconds(from, 1, 365 * 24 * 3600), v.transform((sec) => sec * 1000)),
  storeBytes: (from: From) => number(from, true, 1 << 20, 2 ** 50),
  exeGlobs: (from: From) =>
    v.pipe(
      list(from),
      v.rawCheck(({ dataset, addIssue }) => {
        const bad = dataset.typed ? dataset.value.find((p) => !p.startsWith("/")) : undefined;
        if (bad !== undefined) addIssue({ message: `"${bad}" is not an absolute path` });
      }),
      v.minLength(1, "must name at least one executable"),
    ),
} satisfies Record<string, (from: From) => v.GenericSchema<unknown, unknown>>;

/** pprof.endpoints: a list of { pid?, exe?, cmdline?, port, prefix? } with at least one matcher (JSON in a flag or variable). */
function declaredEndpoints(from: From): v.GenericSchema<unknown, DeclaredEndpoint[]> {
  return v.pipe(
    v.unknown(),
    v.rawTransform(({ dataset, addIssue, NEVER }) => {
      try {
        return parseEndpoints(dataset.value, from.text);
      } catch (e) {
        addIssue({ message: (e as Error).message });
        return NEVER;
      }
    }),
  );
}

/**
 * capture.rule: rules in the text form of server/capture/rules.ts; a flag is repeatable (one rule each, never split
 * at commas: `capture=heap,cpu` is one rule), a variable holds rules separated by ";", the file a list of strings or
 * mappings ({when, name, module, ...}).
 */
function captureRules(from: From): v.GenericSchema<unknown, CaptureRule[]> {
  return v.pipe(
    v.unknown(),
    v.rawTransform(({ dataset, addIssue, NEVER }) => {
      const raw = dataset.value;
      const entries = from.text ? (Array.isArray(raw) ? raw : String(raw).split(";")).map((x) => String(x).trim()).filter(Boolean) : raw;
      if (!Array.isArray(entries)) {
        addIssue({ message: "must be a list of capture rules" });
        return NEVER;
      }
      try {
        const rules = entries.map((e, i) => {
          try {
            return ruleFromConfig(e);
          } catch (err) {
            throw new Error(from.text || entries.length === 1 ? (err as Error).message : `entry ${i + 1}: ${(err as Error).message}`);
          }
        });
        const names = new Set<string>();
        for (const r of rules) {
          if (names.has(r.name)) throw new Error(`two capture rules are named "${r.name}": give one a name=`);
          names.add(r.name);
        }
        return rules;
      } catch (e) {
        addIssue({ message: (e as Error).message });
        return NEVER;
      }
    }),
  );
}

/** The entries one by one, so that a message names the entry ("entry 2: port must be ..."). */
function parseEndpoints(raw: unknown, text: boolean): DeclaredEndpoint[] {
  const fail = (why: string): never => {
    throw new Error(why);
  };
  let list = raw;
  if (text) {
    try {
      list = JSON.parse(String(raw));
    } catch {
      fail("must be a JSON list of endpoints");
    }
  }
  if (!Array.isArray(list)) return fail("must be a list of endpoints");
  return list.map((e: unknown, i): DeclaredEndpoint => {
    const bad = (why: string): never => fail(`entry ${i + 1}: ${why}`);
    if (typeof e !== "object" || e === null || Array.isArray(e)) return bad("must be a mapping");
    const o = e as Record<string, unknown>;
    for (const k of Object.keys(o)) if (!["pid", "exe", "cmdline", "port", "prefix"].includes(k)) bad(`unknown key ${k} (use pid, exe, cmdline, port, prefix)`);
    const { pid, exe, cmdline, port, prefix = "" } = o;
    if (pid === undefined && exe === undefined && cmdline === undefined) bad("needs pid, exe or cmdline to match processes");
    if (pid !== undefined && !(Number.isInteger(pid) && (pid as number) > 0)) bad("pid must be a positive integer");
    if (exe !== undefined && !(typeof exe === "string" && exe.startsWith("/"))) bad("exe must be an absolute path");
    if (cmdline !== undefined && !(typeof cmdline === "string" && cmdline !== "")) bad("cmdline must be a non-empty string");
    if (!(Number.isInteger(port) && (port as number) >= 1 && (port as number) <= 65535)) bad("port must be an integer from 1 to 65535");
    if (typeof prefix !== "string" || !/^(\/[A-Za-z0-9._~!$&'()*+,;=:@%-]+)*$/.test(prefix)) {
      bad('prefix must be "" or a path such as /admin (no trailing slash, no query)');
    }
    return {
      ...(pid !== undefined ? { pid: pid as number } : {}),
      ...(exe !== undefined ? { exe: exe as string } : {}),
      ...(cmdline !== undefined ? { cmdline: cmdline as string } : {}),
      port: port as number,
      prefix: prefix as string,
    };
  });
}

function nonEmpty(what = "a non-empty string") {
  return v.pipe(v.string(`must be ${what}`), v.trim(), v.nonEmpty(`must be ${what}`));
}

/** A list: from the file a YAML/JSON list; from flags (repeatable) and variables, comma-separated text. */
function list(from: From): v.GenericSchema<unknown, string[]> {
  if (!from.text) return v.array(nonEmpty("a list of non-empty strings"), "must be a list");
  return v.pipe(
    v.union([v.string(), v.array(v.string())]),
    v.transform((x) => (Array.isArray(x) ? x : [x]).flatMap((s) => s.split(",")).map((s) => s.trim()).filter(Boolean)),
  );
}

/** A number, or its text (flags and variables only have text; the file may quote it). */
function number(from: From, integer: boolean, min: number, max: number) {
  const msg = `must be ${integer ? "an integer" : "a number"} from ${min} to ${max}`;
  const text = v.pipe(v.string(msg), v.trim(), v.nonEmpty(msg), v.transform(Number));
  const input = from.text ? text : v.union([v.number(), text], msg);
  return v.pipe(input, v.check((n) => Number.isFinite(n) && (!integer || Number.isInteger(n)) && n >= min && n <= max, msg));
}

/** Whole seconds within bounds: a Go duration ("30s"), or a number of seconds in the file. */
function seconds(from: From, minSec: number, maxSec: number) {
  const msg = `must be a whole number of seconds between ${formatDurationMs(minSec * 1000)} and ${formatDurationMs(maxSec * 1000)}, e.g. "30s"`;
  const text = v.pipe(v.string(msg), v.transform((s) => parseDurationMs(s)));
  const input = from.text ? text : v.union([v.pipe(v.number(), v.transform((n) => n * 1000)), text], msg);
  return v.pipe(
    input,
    v.check((ms) => ms !== undefined && Number.isFinite(ms) && ms >= minSec * 1000 && ms <= maxSec * 1000 && ms % 1000 === 0, msg),
    v.transform((ms) => ms! / 1000),
  );
}

/** "[kid:]path" with the path made absolute. */
function keyPath(spec: string, base: string): string {
  const { kid, path } = splitKid(spec);
  return `${kid}:${resolve(base, path)}`;
}

interface KeySpec {
  readonly key: string;
  readonly kind: Kind;
  readonly help: string;
}

/**
 * Every config key but agentTimeouts (a map, handled on its own), with the kind of value it takes. Order = order in
 * the usage text. Adding a key is one line here (its flag, variable, file key and schema follow) and one read in
 * build(), where `get("its.key")` is typed by its kind.
 */
const KEYS = [
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
  { key: "limits.maxConcurrentStreams", kind: "count", help: `one-off streaming calls (stack, captures, binary) in flight in all (default ${DEFAULT_LIMITS.maxConcurrentStreams})` },
  { key: "limits.maxWatchStreams", kind: "count", help: `WatchStats streams in flight in all, a budget apart from the one-off streams (default ${DEFAULT_LIMITS.maxWatchStreams})` },
  { key: "limits.maxWatchStreamsPerSubject", kind: "count", help: `WatchStats streams in flight per subject (default ${DEFAULT_LIMITS.maxWatchStreamsPerSubject})` },
  { key: "limits.maxRequestBytes", kind: "bytes", help: `largest request message (default ${DEFAULT_MAX_RECEIVE_MESSAGE_BYTES})` },
  { key: "limits.maxConnections", kind: "count", help: `open connections in all; more are closed at once (default ${DEFAULT_CONNECTION_LIMITS.maxConnections})` },
  { key: "limits.maxConnectionsPerSource", kind: "count", help: `open connections per source address (default ${DEFAULT_CONNECTION_LIMITS.maxConnectionsPerSource})` },
  { key: "limits.handshakeTimeout", kind: "timeout", help: `time a new connection has for TLS, HTTP/2 set-up and its first call (default ${formatDurationMs(DEFAULT_CONNECTION_LIMITS.handshakeTimeoutMs)})` },
  { key: "limits.idleTimeout", kind: "timeout", help: `a connection with no call in progress for this long is closed (default ${formatDurationMs(DEFAULT_CONNECTION_LIMITS.idleTimeoutMs)})` },
  { key: "limits.maxStreamsPerConnection", kind: "count", help: `concurrent HTTP/2 streams per connection (default ${DEFAULT_CONNECTION_LIMITS.maxStreamsPerConnection})` },
  { key: "limits.maxSessionMemory", kind: "bytes", help: `HTTP/2 memory per connection in bytes, rounded up to whole MiB (default ${DEFAULT_CONNECTION_LIMITS.maxSessionMemoryBytes}, ${DEFAULT_CONNECTION_LIMITS.maxSessionMemoryBytes / 2 ** 20} MiB)` },
  { key: "limits.keepaliveTime", kind: "timeout", help: `gopsd pings each connection this often and closes it after 20s without an answer (default ${formatDurationMs(DEFAULT_CONNECTION_LIMITS.keepaliveTimeMs)})` },
  { key: "pprof.probeOnList", kind: "bool", help: "probe Go processes without a gops agent for net/http/pprof on every listing (default: only when asked)" },
  { key: "pprof.probeExe", kind: "exeGlobs", help: "probe only these executables for net/http/pprof: absolute paths, a trailing * matches any rest (default: every Go program)" },
  { key: "procRoot", kind: "path", help: "the /proc to read, e.g. the host's mounted at /host/proc in a container (default $HOST_PROC, else /proc)" },
  { key: "containers.dockerRoot", kind: "path", help: "Docker's data root, for container names (default /var/lib/docker)" },
  { key: "containers.podmanRoot", kind: "path", help: "Podman's storage root, for container names (default /var/lib/containers/storage)" },
  { key: "containers.kubeletRoot", kind: "path", help: "the kubelet's root, for pod names and namespaces (default /var/lib/kubelet)" },
  { key: "capture.rule", kind: "captureRules", help: "take evidence when a Go program goes wrong: 'goroutines>300', 'heap>150%avg module=example.com/api capture=heap,cpu' (repeatable; see docs/CAPTURE.md)" },
  { key: "capture.dir", kind: "path", help: "where captures are kept (created 0700); needed by capture.rule; ListCaptures and friends serve it" },
  { key: "capture.interval", kind: "timeout", help: `how often rules are evaluated, on the shared sampler (default ${formatDurationMs(DEFAULT_CAPTURE_SETTINGS.intervalMs)})` },
  { key: "capture.cooldown", kind: "age", help: `after a rule fires on a process, it does not fire on it again for this long (default ${formatDurationMs(DEFAULT_CAPTURE_SETTINGS.cooldownMs)})` },
  { key: "capture.maxPerMinute", kind: "count", help: `captures started per minute on this host, all rules together (default ${DEFAULT_CAPTURE_SETTINGS.maxPerMinute})` },
  { key: "capture.maxBytes", kind: "storeBytes", help: `total size of the store; the oldest captures are removed beyond it (default ${DEFAULT_CAPTURE_SETTINGS.maxBytes})` },
  { key: "capture.maxCount", kind: "count", help: `captures kept; the oldest are removed beyond it (default ${DEFAULT_CAPTURE_SETTINGS.maxCount})` },
  { key: "capture.maxAge", kind: "age", help: `captures older than this are removed (default ${formatDurationMs(DEFAULT_CAPTURE_SETTINGS.maxAgeMs)})` },
  {
    key: "metrics.listen",
    kind: "listen",
    help: "serve GET /metrics (Prometheus, OpenMetrics) here: host:port or unix:/path; plain HTTP on loopback or a unix socket, any other address needs tls.* and auth (token scope gops:metrics) or tls.clientCa (default: no metrics port)",
  },
  { key: "metrics.interval", kind: "timeout", help: `how often the exporter samples each Go process, whole seconds (default ${formatDurationMs(DEFAULT_METRICS_INTERVAL_MS)})` },
  { key: "metrics.maxProcesses", kind: "count", help: `most Go processes exported; the rest are only counted (default ${DEFAULT_METRICS_MAX_PROCESSES})` },
  {
    key: "pprof.endpoints",
    kind: "endpoints",
    help: 'net/http/pprof endpoints mounted elsewhere: a list of {pid|exe|cmdline, port, prefix} (JSON in a flag or variable), e.g. [{"cmdline":"api-server","port":6060,"prefix":"/admin"}]',
  },
] as const satisfies readonly KeySpec[];

type Key = (typeof KEYS)[number]["key"];
/** The typed settings: each key of KEYS with the value its kind's schema produces; unset keys are undefined. */
type Settings = { [E in (typeof KEYS)[number] as E["key"]]?: KindValue<E["kind"]> };

/** The schema of one key's value as it arrives from a flag or variable (`text`) or from the file. */
const schemaOf = (kind: Kind, from: From): v.GenericSchema<unknown, unknown> => KINDS[kind](from);

/** The config file's schema, built from KEYS: sections are mappings, unknown keys are refused. */
function fileSchema(base: string) {
  const from: From = { text: false, base };
  const top: Record<string, v.GenericSchema<unknown, unknown>> = {};
  const sections: Record<string, Record<string, v.GenericSchema<unknown, unknown>>> = {};
  for (const k of KEYS as readonly KeySpec[]) {
    const [name, sub] = k.key.split(".") as [string, string | undefined];
    if (sub === undefined) top[name] = v.optional(schemaOf(k.kind, from));
    else (sections[name] ??= {})[sub] = v.optional(schemaOf(k.kind, from));
  }
  for (const [name, fields] of Object.entries(sections)) top[name] = v.optional(mapping(fields, "must be a mapping of keys"));
  top[TIMEOUTS_KEY] = v.optional(
    mapping({}, "must be a mapping of name: duration", v.union([v.string(), v.number()], "must be a duration such as 45s")),
  );
  return v.strictObject(top);
}

/** "auth.isuer: unknown key", "limits.burst: must be an integer from 1 to 1000000" (list items name their list). */
function issueText(issue: v.BaseIssue<unknown>): string {
  const { key, unknownKey } = issueKey(issue);
  return `${key}: ${unknownKey ? "unknown key" : issue.message}`;
}

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
    const arg = k.kind === "bool" ? "" : k.kind === "keyPaths" || k.kind === "algorithms" || k.kind === "exeGlobs" ? " A,B" : k.kind === "endpoints" ? " JSON" : k.kind === "captureRules" ? " RULE" : " VALUE";
    return [`  ${flagOf(k.key)}${arg}  (${k.key}, env ${envOf(k.key)})`, `      ${k.help}`];
  }),
  `  --${TIMEOUTS_FLAG} NAME=DURATION  (${TIMEOUTS_KEY}.NAME, env ${TIMEOUTS_ENV}=cpu=45s,stack=5s)`,
  `      deadline for one kind of agent call, e.g. cpu=45s, repeatable; NAME is one of ${TIMEOUT_NAMES.join(", ")}`,
  "  --version",
  "      print gopsd's version",
  "  --health-check  (first argument; the other flags and the file as for serving)",
  "      ask the gopsd so configured, on this host, for its health; exit 0 when it serves (for probes)",
  "  --help",
  "      this text",
].join("\n");

/** What the command line asked for: help, or flag values (strings, booleans, lists) by config key. */
export type ParsedFlags =
  | { readonly help: true }
  | { readonly help: false; readonly version: boolean; readonly configFile?: string; readonly values: ReadonlyMap<string, unknown> };

/** Parses argv strictly (unknown flags and positionals are refused). Pure. */
export function parseFlags(argv: readonly string[]): ParsedFlags {
  const options: Record<string, { type: "string" | "boolean"; multiple?: boolean; short?: string }> = {
    config: { type: "string" },
    help: { type: "boolean", short: "h" },
    version: { type: "boolean" },
    [TIMEOUTS_FLAG]: { type: "string", multiple: true },
  };
  for (const k of KEYS) {
    options[kebab(k.key)] =
      k.kind === "bool"
        ? { type: "boolean" }
        : k.kind === "keyPaths" || k.kind === "algorithms" || k.kind === "exeGlobs" || k.kind === "captureRules"
          ? { type: "string", multiple: true }
          : { type: "string" };
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
  return { help: false, version: v.version === true, ...(configFile !== undefined ? { configFile } : {}), values };
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
    const parsed = v.safeParse(fileSchema(dirname(resolve(src.cwd, src.file.path))), src.file.doc, { abortEarly: true });
    if (!parsed.success) throw new ConfigError(`config ${issueText(parsed.issues[0])}`);
    for (const [top, value] of Object.entries(parsed.output)) {
      if (value === undefined) continue;
      if (top === TIMEOUTS_KEY) {
        settings.set(TIMEOUTS_KEY, { value: fileTimeouts(value as Record<string, string | number>), where: `config ${TIMEOUTS_KEY}` });
      } else if (specOf(top)) {
        settings.set(top, { value, where: `config ${top}` });
      } else {
        for (const [sub, x] of Object.entries(value as Record<string, unknown>)) {
          if (x !== undefined) settings.set(`${top}.${sub}`, { value: x, where: `config ${top}.${sub}` });
        }
      }
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
    settings.set(spec.key, { value: convert(spec, raw, { text: true, base: src.cwd }, name), where: name });
  }
  for (const [key, raw] of src.flags) {
    if (key === TIMEOUTS_KEY) {
      settings.set(TIMEOUTS_KEY, mergeTimeoutSettings(settings.get(TIMEOUTS_KEY), raw as string[], `--${TIMEOUTS_FLAG}`));
      continue;
    }
    settings.set(key, { value: convert(specOf(key)!, raw, { text: true, base: src.cwd }, flagOf(key)), where: flagOf(key) });
  }
  return deepFreeze(build(settings, src));
}

function specOf(key: string): KeySpec | undefined {
  return (KEYS as readonly KeySpec[]).find((k) => k.key === key);
}

/** agentTimeouts from the file: { cpu: "45s" } → the "cpu=45s" items flags and env use. */
function fileTimeouts(value: Readonly<Record<string, string | number>>): TimeoutMs {
  const items = Object.entries(value).map(([name, d]) => [name, typeof d === "number" ? `${d}s` : d] as const);
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

/** One value from a flag, a variable or the file to its typed form, by its kind's schema. Throws ConfigError("<where>: <why>"). */
function convert(spec: KeySpec, raw: unknown, from: From, where: string): unknown {
  const r = v.safeParse(schemaOf(spec.kind, from), raw, { abortEarly: true });
  if (!r.success) throw new ConfigError(`${where}: ${r.issues[0].message}`);
  return r.output;
}

function build(settings: ReadonlyMap<string, Setting>, src: ConfigSources): GopsdConfig {
  // Every value passed its key's schema (convert, fileSchema), so it has the type Settings gives it.
  const get = <K extends Key>(key: K): Settings[K] => settings.get(key)?.value as Settings[K];
  const name = (key: string) => `${key} (${flagOf(key)}, ${envOf(key)})`;
  const listen = get("listen") ?? DEFAULT_LISTEN;
  const hostName = get("hostName") ?? src.defaultHostName;
  const insecure = get("insecure") ?? false;
  const dev = get("dev") ?? false;

  let tls: TlsConfig | undefined;
  const tlsKeys = KEYS.filter((k) => k.key.startsWith("tls.") && settings.has(k.key));
  if (tlsKeys.length > 0) {
    const cert = get("tls.cert");
    const key = get("tls.key");
    if (cert === undefined) throw new ConfigError(`${name("tls.cert")}: required when TLS is configured`);
    if (key === undefined) throw new ConfigError(`${name("tls.key")}: required when TLS is configured`);
    const clientCa = get("tls.clientCa");
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
    const algorithms = get("auth.algorithms");
    const issuer = get("auth.issuer");
    const audience = get("auth.audience");
    if (algorithms === undefined) throw new ConfigError(`${name("auth.algorithms")}: required when auth is configured, e.g. [RS256]`);
    if (issuer === undefined) throw new ConfigError(`${name("auth.issuer")}: required when auth is configured`);
    if (audience === undefined) throw new ConfigError(`${name("auth.audience")}: required when auth is configured`);
    const hsSecretFile = get("auth.hsSecretFile");
    const publicKeyFiles = get("auth.publicKeyFiles");
    const jwksFile = get("auth.jwksFile");
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
      maxLifetimeSec: get("auth.maxLifetime") ?? DEFAULT_MAX_LIFETIME_SEC,
      clockToleranceSec: get("auth.clockSkew") ?? DEFAULT_CLOCK_TOLERANCE_SEC,
      ...(hsSecretFile !== undefined ? { hsSecretFile } : {}),
      ...(publicKeyFiles !== undefined ? { publicKeyFiles } : {}),
      ...(jwksFile !== undefined ? { jwksFile } : {}),
    };
  }

  const auditFile = get("audit.file");
  const auditStdout = get("audit.stdout");
  if (auditFile !== undefined && auditStdout === true) {
    throw new ConfigError(`${settings.get("audit.stdout")!.where}: choose one of audit.file and audit.stdout`);
  }
  if (auditFile === undefined && auditStdout === false) {
    throw new ConfigError(`${settings.get("audit.stdout")!.where}: audit lines must go somewhere: set audit.file or leave audit.stdout true`);
  }
  const audit: AuditConfig = auditFile !== undefined ? { kind: "file", path: auditFile } : { kind: "stdout" };

  const limits: ServerLimits = {
    ratePerSec: get("limits.ratePerSecond") ?? DEFAULT_LIMITS.ratePerSec,
    burst: get("limits.burst") ?? DEFAULT_LIMITS.burst,
    maxConcurrentPerSubject: get("limits.maxConcurrentPerSubject") ?? DEFAULT_LIMITS.maxConcurrentPerSubject,
    maxConcurrentStreams: get("limits.maxConcurrentStreams") ?? DEFAULT_LIMITS.maxConcurrentStreams,
    maxWatchStreams: get("limits.maxWatchStreams") ?? DEFAULT_LIMITS.maxWatchStreams,
    maxWatchStreamsPerSubject: get("limits.maxWatchStreamsPerSubject") ?? DEFAULT_LIMITS.maxWatchStreamsPerSubject,
    maxRequestBytes: get("limits.maxRequestBytes") ?? DEFAULT_MAX_RECEIVE_MESSAGE_BYTES,
    maxConnections: get("limits.maxConnections") ?? DEFAULT_CONNECTION_LIMITS.maxConnections,
    maxConnectionsPerSource: get("limits.maxConnectionsPerSource") ?? DEFAULT_CONNECTION_LIMITS.maxConnectionsPerSource,
    handshakeTimeoutMs: get("limits.handshakeTimeout") ?? DEFAULT_CONNECTION_LIMITS.handshakeTimeoutMs,
    idleTimeoutMs: get("limits.idleTimeout") ?? DEFAULT_CONNECTION_LIMITS.idleTimeoutMs,
    maxStreamsPerConnection: get("limits.maxStreamsPerConnection") ?? DEFAULT_CONNECTION_LIMITS.maxStreamsPerConnection,
    maxSessionMemoryBytes: get("limits.maxSessionMemory") ?? DEFAULT_CONNECTION_LIMITS.maxSessionMemoryBytes,
    keepaliveTimeMs: get("limits.keepaliveTime") ?? DEFAULT_CONNECTION_LIMITS.keepaliveTimeMs,
  };
  if (limits.maxConnectionsPerSource > limits.maxConnections) {
    const where = settings.get("limits.maxConnectionsPerSource")?.where ?? "limits.maxConnectionsPerSource";
    throw new ConfigError(`${where}: must not exceed limits.maxConnections (${limits.maxConnections})`);
  }

  const deadlineMs: Partial<Record<SignalName, number>> = {};
  let connectMs: number | undefined;
  for (const [n, ms] of (settings.get(TIMEOUTS_KEY)?.value as TimeoutMs | undefined) ?? []) {
    if (n === "connect") connectMs = ms;
    else deadlineMs[SIGNAL_BY_TIMEOUT_NAME[n]!] = ms;
  }
  const agentTimeouts: AgentTimeoutOverrides = { ...(connectMs !== undefined ? { connectMs } : {}), deadlineMs };

  const procRoot = get("procRoot") ?? (src.env.HOST_PROC ? resolve(src.cwd, src.env.HOST_PROC) : undefined);
  const dockerRoot = get("containers.dockerRoot");
  const podmanRoot = get("containers.podmanRoot");
  const kubeletRoot = get("containers.kubeletRoot");
  const containers = {
    ...(dockerRoot !== undefined ? { dockerRoot } : {}),
    ...(podmanRoot !== undefined ? { podmanRoot } : {}),
    ...(kubeletRoot !== undefined ? { kubeletRoot } : {}),
  };

  const metricsListen = get("metrics.listen");
  if (metricsListen === undefined) {
    const orphan = ["metrics.interval", "metrics.maxProcesses"].find((k) => settings.has(k));
    if (orphan !== undefined) throw new ConfigError(`${settings.get(orphan)!.where}: needs metrics.listen (${flagOf("metrics.listen")}, ${envOf("metrics.listen")})`);
  }
  const metrics: MetricsConfig | undefined =
    metricsListen === undefined
      ? undefined
      : {
          listen: metricsListen,
          intervalMs: get("metrics.interval") ?? DEFAULT_METRICS_INTERVAL_MS,
          maxProcesses: get("metrics.maxProcesses") ?? DEFAULT_METRICS_MAX_PROCESSES,
        };

  const captureRulesSet = get("capture.rule") ?? [];
  const captureDir = get("capture.dir");
  const captureOther = KEYS.filter((k) => k.key.startsWith("capture.") && k.key !== "capture.dir" && settings.has(k.key));
  if (captureDir === undefined && captureOther.length > 0) {
    throw new ConfigError(`${settings.get(captureOther[0]!.key)!.where}: needs ${name("capture.dir")}, where captures are kept`);
  }
  const d = DEFAULT_CAPTURE_SETTINGS;
  const capture: CaptureSettings | undefined =
    captureDir === undefined
      ? undefined
      : {
          dir: captureDir,
          rules: captureRulesSet,
          intervalMs: get("capture.interval") ?? d.intervalMs,
          cooldownMs: get("capture.cooldown") ?? d.cooldownMs,
          maxPerMinute: get("capture.maxPerMinute") ?? d.maxPerMinute,
          maxBytes: get("capture.maxBytes") ?? d.maxBytes,
          maxCount: get("capture.maxCount") ?? d.maxCount,
          maxAgeMs: get("capture.maxAge") ?? d.maxAgeMs,
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
    pprof: {
      probeOnList: get("pprof.probeOnList") ?? false,
      endpoints: get("pprof.endpoints") ?? [],
      ...(settings.has("pprof.probeExe") ? { probeExe: get("pprof.probeExe")! } : {}),
    },
    ...(metrics ? { metrics } : {}),
    ...(capture ? { capture } : {}),
  };
  checkStartupRules(config, settings.get("listen")?.where ?? "listen");
  checkMetricsRules(config, settings.get("metrics.listen")?.where ?? "metrics.listen");
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

/**
 * Where the metrics port may listen: a unix socket or loopback as plain HTTP; any other address only with TLS
 * (tls.cert, tls.key) and a way to authenticate scrapers: auth (a token with gops:metrics) or tls.clientCa (mTLS).
 */
function checkMetricsRules(c: GopsdConfig, where: string): void {
  const m = c.metrics;
  if (m === undefined || m.listen.startsWith("unix:")) return;
  if (isLoopbackHost(splitHostPort(m.listen)!.host)) return;
  if (c.dev) throw new ConfigError(`${where}: dev mode serves loopback or a unix socket only, not ${m.listen}`);
  const missing = [
    ...(c.tls ? [] : ["TLS (tls.cert, tls.key)"]),
    ...(c.auth || c.tls?.clientCa !== undefined ? [] : ["auth (auth.*, a token with gops:metrics) or tls.clientCa"]),
  ];
  if (missing.length > 0) {
    throw new ConfigError(`${where}: refusing to serve metrics on non-loopback address ${m.listen} without ${missing.join(" and ")}`);
  }
}

/** Reads argv, the environment and the config file they name, and resolves them. The only I/O of configuration. */
export async function loadConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  defaults: { cwd: string; hostName: string },
): Promise<GopsdConfig | "help" | "version"> {
  const flags = parseFlags(argv);
  if (flags.help) return "help";
  if (flags.version) return "version";
  const path = flags.configFile ?? env[CONFIG_ENV];
  if (path === "") throw new ConfigError(`${flags.configFile !== undefined ? "--config" : CONFIG_ENV}: must be a file path`);
  const file = path === undefined ? undefined : { path, doc: await readConfigFile(resolve(defaults.cwd, path), { signal: AbortSignal.timeout(CONFIG_READ_TIMEOUT_MS) }) };
  return resolveConfig({ flags: flags.values, env, ...(file ? { file } : {}), cwd: defaults.cwd, defaultHostName: defaults.hostName });
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
