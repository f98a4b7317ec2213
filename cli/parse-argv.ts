// Splits argv into global flags and positionals. Flags may appear anywhere (before or after the command);
// "--" ends the flags; a token like "-1" or "-5s" is a positional (setgc and period values can be negative).
import { parseTimeout } from "./arguments.js";
import { UsageError } from "./errors.js";

export interface GlobalOptions {
  /** gopsd address ("host:port" or "unix:/path") from --host or $GOPSCTL_HOST; the config file may add one. */
  host: string | undefined;
  json: boolean;
  /** --table: the terminal view even when stdout is a pipe or file. */
  table: boolean;
  /** Per-call deadline; undefined = the command's default; 0 = none. */
  timeoutMs: number | undefined;
  /** -o/--output FILE (capture commands, token create). */
  output: string | undefined;
  /** -A/--all-processes (ps, tree): every process, not only Go ones. */
  allProcesses: boolean;
  help: boolean;
  version: boolean;
}

export interface ParsedArgv {
  options: GlobalOptions;
  /** Command name (or pid for the `gopsctl <pid>` shortcut) followed by its arguments. */
  positionals: string[];
  /** Flags that were given on the command line (long names), so commands can reject ones they do not take. */
  given: ReadonlySet<FlagName>;
  /** Every value given to each value flag, in order (a repeatable flag keeps them all; others use the last). */
  values: ReadonlyMap<FlagName, readonly string[]>;
}

/** Flags every command takes. */
const GENERAL = ["host", "json", "table", "timeout", "help", "version"] as const;
/** Which fleet hosts to ask (commands that call gopsd); resolved in hosts.ts. `--hosts` is also token create's. */
export const SELECTION_FLAGS = ["fleet", "hosts", "selector", "all"] as const;
/** How to reach gopsd (commands that call it); resolved with $GOPSCTL_* and the config file in connection.ts. */
export const CONNECTION_FLAGS = ["config", "token", "token-file", "ca", "cert", "key", "tls", "server-name"] as const;
/** Flags only some commands take (they list them in CommandSpec.flags). */
const PER_COMMAND = ["output", "all-processes", "sort", "module", "top", "sample-index", "flame", "merge", "summary", "dev", "alg", "kid", "iss", "aud", "sub", "scope", "ttl", "not-before"] as const;

export type FlagName =
  | (typeof GENERAL)[number]
  | (typeof SELECTION_FLAGS)[number]
  | (typeof CONNECTION_FLAGS)[number]
  | (typeof PER_COMMAND)[number];
export type FlagGroup = "general" | "selection" | "connection" | "command";

interface FlagSpec {
  name: FlagName;
  short?: string;
  value?: string; // placeholder shown in help; present = the flag takes a value
  /** The value may be left off (`--top`, `--top 20`, `--top=20`): only a following all-digits token is taken. */
  optionalValue?: true;
  /** May be given several times; every value counts. */
  repeatable?: true;
  help: string;
}

export const FLAGS: readonly FlagSpec[] = [
  { name: "host", value: "NAME|ADDR", help: "gopsd to ask: a fleet file (or ~/.ssh/config) host name, or host:port / unix:/path; default $GOPSCTL_HOST, the config file's host, else this machine without a daemon" },
  { name: "fleet", value: "FILE", help: "fleet file (hosts, labels, TLS, tokens, ssh); default $GOPSCTL_FLEET, else $XDG_CONFIG_HOME/gopsctl/fleet.yaml (~/.config/...)" },
  { name: "hosts", value: "A,B,C", repeatable: true, help: "ask these fleet hosts (comma list or repeated); output gains a HOST column. token create: restrict the token to these host names or globs (web-*,db-1)" },
  { name: "selector", short: "l", value: "K=V,...", help: "ask the fleet hosts whose labels match (env=prod,role=web; role!=db; tier; !tier)" },
  { name: "all", help: "ask every host in the fleet file" },
  { name: "json", help: "print JSON (the default when stdout is not a terminal)" },
  { name: "table", help: "print tables and text like on a terminal, also into a pipe or file" },
  { name: "timeout", value: "DUR", help: "deadline per call (10s, 2m, or seconds; 0 = none); default 30s, none for captures; across hosts per host, default 10s" },
  { name: "config", value: "FILE", help: "config file; default $GOPSCTL_CONFIG, else $XDG_CONFIG_HOME/gopsctl/config.yaml (~/.config/...)" },
  { name: "token", value: "TOKEN", help: "bearer token (JWT) for gopsd; visible in ps: prefer --token-file or $GOPSCTL_TOKEN" },
  { name: "token-file", value: "FILE", help: "file holding the bearer token; it must be readable by you alone (chmod 600)" },
  { name: "tls", help: "speak TLS to gopsd, trusting the system roots (implied by --ca, --cert, --server-name)" },
  { name: "ca", value: "FILE", help: "TLS: CA certificate(s) that signed gopsd's certificate (PEM)" },
  { name: "cert", value: "FILE", help: "TLS: client certificate for mTLS (PEM, with --key)" },
  { name: "key", value: "FILE", help: "TLS: client private key for mTLS (PEM); for token create: the signing key" },
  { name: "server-name", value: "NAME", help: "TLS: the name gopsd's certificate must carry, when not the host dialled" },
  { name: "output", short: "o", value: "FILE", help: "where a capture command writes its file (across hosts: the directory for the hosts' files); token create: the token file (mode 0600)" },
  { name: "all-processes", short: "A", help: "ps, tree: list every process, not only Go ones" },
  { name: "sort", value: "KEY", help: "ps: sort by cpu, mem (from the listing), heap or goroutines (asks each Go process's agent), largest first" },
  { name: "module", value: "PATH[@VER]", help: "ps: processes whose binary contains this Go module, optionally @v1.2.3, @<v1.2.3, @<=, @>, @>= (from build info)" },
  { name: "top", value: "N", optionalValue: true, help: "pprof-cpu, pprof-heap, pprof: print the top N functions (default 10) like go tool pprof -top" },
  { name: "sample-index", value: "NAME", help: "the value --top and --flame report: inuse_space (heap default), inuse_objects, alloc_space, alloc_objects; cpu (default), samples" },
  { name: "flame", value: "FILE.html", help: "pprof-cpu, pprof-heap, pprof: write an interactive flame graph (one self-contained HTML file)" },
  { name: "merge", help: "pprof-cpu, pprof-heap across hosts: also merge the hosts' profiles into one (saved, and what --top and --flame show)" },
  { name: "summary", help: "stack: goroutines grouped by identical stack, largest group first, instead of the raw dump" },
  { name: "dev", help: "token create: sign with gopsd --dev's key, for gopsd --dev on this machine" },
  { name: "alg", value: "ALG", help: "token create: HS256 (secret file), RS256 or ES256 (PEM private key)" },
  { name: "kid", value: "KID", help: "token create: key id in the token header (when gopsd has several keys)" },
  { name: "iss", value: "ISS", help: "token create: issuer gopsd expects" },
  { name: "aud", value: "AUD", help: "token create: audience gopsd expects" },
  { name: "sub", value: "SUB", help: "token create: subject (who the token is for; it appears in audit lines)" },
  { name: "scope", value: "SCOPES", repeatable: true, help: "token create: gops:read, gops:stack, gops:profile, gops:write, gops:binary (comma list or repeated)" },
  { name: "ttl", value: "DUR", help: "token create: lifetime (15m, 1h); gopsd refuses tokens living longer than its maximum (default 1h)" },
  { name: "not-before", value: "DUR", help: "token create: becomes valid this long from now" },
  { name: "help", short: "h", help: "show help" },
  { name: "version", help: "print gopsctl's version" },
];

export function flagGroup(name: FlagName): FlagGroup {
  if ((GENERAL as readonly string[]).includes(name)) return "general";
  if ((SELECTION_FLAGS as readonly string[]).includes(name)) return "selection";
  if ((CONNECTION_FLAGS as readonly string[]).includes(name)) return "connection";
  return "command";
}

export function parseArgv(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): ParsedArgv {
  const values = new Map<FlagName, string[]>();
  const given = new Set<FlagName>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const tok = argv[i]!;
    if (tok === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!tok.startsWith("-") || tok === "-" || /^-\d/.test(tok)) {
      positionals.push(tok);
      continue;
    }
    let spec: FlagSpec | undefined;
    let inline: string | undefined;
    if (tok.startsWith("--")) {
      const eq = tok.indexOf("=");
      const name = eq < 0 ? tok.slice(2) : tok.slice(2, eq);
      inline = eq < 0 ? undefined : tok.slice(eq + 1);
      spec = FLAGS.find((f) => f.name === name);
    } else {
      spec = FLAGS.find((f) => f.short === tok[1]);
      if (tok.length > 2) inline = tok[2] === "=" ? tok.slice(3) : tok.slice(2);
      if (spec !== undefined && spec.value === undefined && inline !== undefined) spec = undefined;
    }
    if (spec === undefined) throw new UsageError(`unknown flag ${tok}`);
    given.add(spec.name);
    if (spec.value === undefined) {
      if (inline !== undefined) throw new UsageError(`flag --${spec.name} takes no value`);
      continue;
    }
    if (inline === undefined && spec.optionalValue) {
      if (i + 1 < argv.length && /^\d+$/.test(argv[i + 1]!)) inline = argv[++i]!;
      else continue;
    }
    if (inline === undefined) {
      if (i + 1 >= argv.length) throw new UsageError(`flag --${spec.name} needs a value (${spec.value})`);
      inline = argv[++i]!;
    }
    if (inline === "") throw new UsageError(`flag --${spec.name} needs a non-empty value (${spec.value})`);
    values.set(spec.name, spec.repeatable ? [...(values.get(spec.name) ?? []), inline] : [inline]);
  }

  const str = (name: FlagName): string | undefined => values.get(name)?.at(-1);
  const host = str("host") ?? nonEmpty(env["GOPSCTL_HOST"]);
  const timeout = str("timeout");
  if (given.has("json") && given.has("table")) throw new UsageError("flags --json and --table exclude each other");
  return {
    options: {
      host,
      json: given.has("json"),
      table: given.has("table"),
      timeoutMs: timeout === undefined ? undefined : parseTimeout(timeout),
      output: str("output"),
      allProcesses: given.has("all-processes"),
      help: given.has("help"),
      version: given.has("version"),
    },
    positionals,
    given,
    values,
  };
}

/** The last value given to a flag. */
export function flagValue(parsed: Pick<ParsedArgv, "values">, name: FlagName): string | undefined {
  return parsed.values.get(name)?.at(-1);
}

/** An environment variable's value; unset and empty are the same. */
export function nonEmpty(s: string | undefined): string | undefined {
  return s === undefined || s === "" ? undefined : s;
}
