// Splits argv into global flags and positionals. Flags may appear anywhere (before or after the command);
// "--" ends the flags; a token like "-1" or "-5s" is a positional (setgc and period values can be negative).
import { parseTimeout } from "./arguments.js";
import { UsageError } from "./errors.js";

export interface GlobalOptions {
  /** gopsd address ("host:port" or "unix:/path"); undefined = in-process local backend. */
  host: string | undefined;
  json: boolean;
  /** --table: the terminal view even when stdout is a pipe or file. */
  table: boolean;
  /** Per-call deadline; undefined = the command's default; 0 = none. */
  timeoutMs: number | undefined;
  /** -o/--output FILE (capture commands). */
  output: string | undefined;
  /** --all (ps, tree). */
  all: boolean;
  help: boolean;
  version: boolean;
}

export interface ParsedArgv {
  options: GlobalOptions;
  /** Command name (or pid for the `gopsctl <pid>` shortcut) followed by its arguments. */
  positionals: string[];
  /** Flags that were given on the command line (long names), so commands can reject ones they do not take. */
  given: ReadonlySet<FlagName>;
}

export type FlagName = "host" | "json" | "table" | "timeout" | "output" | "all" | "help" | "version";

interface FlagSpec {
  name: FlagName;
  short?: string;
  value?: string; // placeholder shown in help; present = the flag takes a value
  help: string;
}

export const FLAGS: readonly FlagSpec[] = [
  { name: "host", value: "ADDR", help: "gopsd to ask (host:port or unix:/path); default $GOPSCTL_HOST, else this machine without a daemon" },
  { name: "json", help: "print JSON (the default when stdout is not a terminal)" },
  { name: "table", help: "print tables and text like on a terminal, also into a pipe or file" },
  { name: "timeout", value: "DUR", help: "deadline per call (10s, 2m, or seconds; 0 = none); default 30s, none for captures" },
  { name: "output", short: "o", value: "FILE", help: "where a capture command writes its file" },
  { name: "all", help: "ps, tree: list every process, not only Go ones" },
  { name: "help", short: "h", help: "show help" },
  { name: "version", help: "print gopsctl's version" },
];

export function parseArgv(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): ParsedArgv {
  const values = new Map<FlagName, string | true>();
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
    if (spec.value === undefined) {
      if (inline !== undefined) throw new UsageError(`flag --${spec.name} takes no value`);
      values.set(spec.name, true);
      continue;
    }
    if (inline === undefined) {
      if (i + 1 >= argv.length) throw new UsageError(`flag --${spec.name} needs a value (${spec.value})`);
      inline = argv[++i]!;
    }
    values.set(spec.name, inline);
  }

  const str = (name: FlagName): string | undefined => {
    const v = values.get(name);
    return typeof v === "string" ? v : undefined;
  };
  const host = str("host") ?? nonEmpty(env["GOPSCTL_HOST"]);
  if (host === "") throw new UsageError("flag --host needs a non-empty address");
  const timeout = str("timeout");
  const output = str("output");
  if (values.has("json") && values.has("table")) throw new UsageError("flags --json and --table exclude each other");
  if (output === "") throw new UsageError("flag --output needs a non-empty file name");
  return {
    options: {
      host,
      json: values.has("json"),
      table: values.has("table"),
      timeoutMs: timeout === undefined ? undefined : parseTimeout(timeout),
      output,
      all: values.has("all"),
      help: values.has("help"),
      version: values.has("version"),
    },
    positionals,
    given: new Set(values.keys()),
  };
}

function nonEmpty(s: string | undefined): string | undefined {
  return s === undefined || s === "" ? undefined : s;
}
