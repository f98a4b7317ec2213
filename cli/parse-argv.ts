// Splits argv into flags and positionals against a flag table (the general, fleet-selection and connection flags
// here, plus every command's own, assembled in commands/index.ts). Flags may appear anywhere (before or after the
// command); "--" ends the flags; a token like "-1" or "-5s" is a positional (setgc and period values can be
// negative). Which flags a command accepts, and what a name means for it, is the command's business
// (commands/index.ts checks): token create's --key and --hosts are its own flags, not the connection's or fleet's.
//
// Hand-written rather than commander: flags anywhere on the line (before the command too), the `gopsctl <pid>`
// shortcut, negative numbers as positionals and --top's optional value (a following all-digits token only) are
// each a line here, and commander's subcommand model would need a workaround for each.
import { parseTimeout } from "./arguments.js";
import { UsageError } from "./errors.js";

export interface FlagSpec {
  name: string;
  short?: string;
  /** Placeholder shown in help; present = the flag takes a value. */
  value?: string;
  /** The value may be left off (`--top`, `--top 20`, `--top=20`): only a following all-digits token is taken. */
  optionalValue?: true;
  /** May be given several times; every value counts. */
  repeatable?: true;
  help: string;
}

export interface GlobalOptions {
  /** gopsd address ("host:port" or "unix:/path") or fleet host from --host or $GOPSCTL_HOST. */
  host: string | undefined;
  json: boolean;
  /** Per-call deadline; undefined = the command's default; 0 = none. */
  timeoutMs: number | undefined;
  help: boolean;
  version: boolean;
}

export interface ParsedArgv {
  options: GlobalOptions;
  /** Command name (or pid for the `gopsctl <pid>` shortcut) followed by its arguments. */
  positionals: string[];
  /** Flags that were given on the command line (long names), so commands can reject ones they do not take. */
  given: ReadonlySet<string>;
  /** Every value given to each value flag, in order (a repeatable flag keeps them all; others use the last). */
  values: ReadonlyMap<string, readonly string[]>;
}

/** Flags every command takes (--host: every command that calls gopsd). */
export const GENERAL_FLAGS: readonly FlagSpec[] = [
  { name: "host", value: "NAME|ADDR", help: "gopsd to ask: a fleet file (or ~/.ssh/config) host name, or host:port / unix:/path; default $GOPSCTL_HOST, the config file's host, else this machine without a daemon" },
  { name: "json", help: "print JSON (NDJSON across hosts) instead of tables and text" },
  { name: "table", help: "tables and text (the default, also into a pipe or file; kept for old scripts)" },
  { name: "timeout", value: "DUR", help: "deadline per call (10s, 2m, or seconds; 0 = none); default 30s, none for captures; across hosts per host, default 10s" },
  { name: "help", short: "h", help: "show help" },
  { name: "version", help: "print gopsctl's version" },
];

/** Which fleet hosts to ask (commands that call gopsd); resolved in hosts.ts. */
export const SELECTION_FLAGS: readonly FlagSpec[] = [
  { name: "fleet", value: "FILE", help: "fleet file (hosts, labels, TLS, tokens, ssh); default $GOPSCTL_FLEET, else $XDG_CONFIG_HOME/gopsctl/fleet.yaml (~/.config/...)" },
  { name: "hosts", value: "A,B,C", repeatable: true, help: "ask these fleet hosts (comma list or repeated); output gains a HOST column" },
  { name: "selector", short: "l", value: "K=V,...", help: "ask the fleet hosts whose labels match (env=prod,role=web; role!=db; tier; !tier)" },
  { name: "all", help: "ask every host in the fleet file" },
];

/** How to reach gopsd (commands that call it); resolved with $GOPSCTL_* and the config file in connection.ts. */
export const CONNECTION_FLAGS: readonly FlagSpec[] = [
  { name: "config", value: "FILE", help: "config file; default $GOPSCTL_CONFIG, else $XDG_CONFIG_HOME/gopsctl/config.yaml (~/.config/...)" },
  { name: "token", value: "TOKEN", help: "bearer token (JWT) for gopsd; visible in ps: prefer --token-file or $GOPSCTL_TOKEN" },
  { name: "token-file", value: "FILE", help: "file holding the bearer token; it must be readable by you alone (chmod 600)" },
  { name: "tls", help: "speak TLS to gopsd, trusting the system roots (implied by --ca, --cert, --server-name)" },
  { name: "ca", value: "FILE", help: "TLS: CA certificate(s) that signed gopsd's certificate (PEM)" },
  { name: "cert", value: "FILE", help: "TLS: client certificate for mTLS (PEM, with --key)" },
  { name: "key", value: "FILE", help: "TLS: client private key for mTLS (PEM)" },
  { name: "server-name", value: "NAME", help: "TLS: the name gopsd's certificate must carry, when not the host dialled" },
];

export function parseArgv(argv: readonly string[], env: Readonly<Record<string, string | undefined>>, table: readonly FlagSpec[]): ParsedArgv {
  const values = new Map<string, string[]>();
  const given = new Set<string>();
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
      spec = table.find((f) => f.name === name);
    } else {
      spec = table.find((f) => f.short === tok[1]);
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

  const timeout = values.get("timeout")?.at(-1);
  if (given.has("json") && given.has("table")) throw new UsageError("flags --json and --table exclude each other");
  return {
    options: {
      host: values.get("host")?.at(-1) ?? nonEmpty(env["GOPSCTL_HOST"]),
      json: given.has("json"),
      timeoutMs: timeout === undefined ? undefined : parseTimeout(timeout),
      help: given.has("help"),
      version: given.has("version"),
    },
    positionals,
    given,
    values,
  };
}

/** The last value given to a flag. */
export function flagValue(parsed: Pick<ParsedArgv, "values">, name: string): string | undefined {
  return parsed.values.get(name)?.at(-1);
}

/** An environment variable's value; unset and empty are the same. */
export function nonEmpty(s: string | undefined): string | undefined {
  return s === undefined || s === "" ? undefined : s;
}
