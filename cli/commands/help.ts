// `gopsctl help [command]` (also -h/--help anywhere): usage text on stdout, generated from the command table.
import { defineCommand, type Command, type CommandContext } from "../command.js";
import { UsageError } from "../errors.js";
import { write } from "../output/index.js";
import { CONNECTION_FLAGS, GENERAL_FLAGS, SELECTION_FLAGS, type FlagSpec } from "../parse-argv.js";

export interface HelpOptions {
  /** The command to explain; undefined = the overview. */
  topic: Command | undefined;
  commands: readonly Command[];
}

/** The help command needs the full command list, which includes itself: the registry passes it in. */
export function helpSpec(commands: () => readonly Command[], lookup: (name: string) => Command | undefined): Command<HelpOptions> {
  return defineCommand<HelpOptions>({
    name: "help",
    args: "[command]",
    summary: "show this help, or a command's",
    offline: "it only prints help",
    parse(args) {
      if (args.length > 1) throw new UsageError(`too many arguments: "${args[1]}"`);
      const name = args[0];
      const topic = name === undefined ? undefined : lookup(name);
      if (name !== undefined && topic === undefined) throw new UsageError(`no help for unknown command "${name}"`);
      return { topic, commands: commands() };
    },
    defaultTimeoutMs: () => undefined,
    run,
  });
}

export async function run(opts: HelpOptions, ctx: CommandContext): Promise<void> {
  await write(ctx.stdout, helpText(opts.commands, opts.topic), ctx.signal);
}

/**
 * Every help page by the names that ask for it: "" the overview, each command's name and alias its page. The build
 * writes them out for the bin, which prints them without loading the CLI (cli/bin.ts).
 */
export function helpPages(commands: readonly Command[]): Map<string, string> {
  const pages = new Map([["", helpText(commands)]]);
  for (const c of commands) for (const name of [c.name, ...(c.aliases ?? [])]) pages.set(name, helpText(commands, c));
  return pages;
}

function helpText(commands: readonly Command[], topic?: Command): string {
  if (topic !== undefined) {
    const lines = [`usage: gopsctl [flags] ${topic.name} ${topic.args}`.trimEnd(), "", topic.summary];
    if (topic.aliases !== undefined) lines.push(`aliases: ${topic.aliases.join(", ")}`);
    if (topic.name === "process") lines.push("shortcut: gopsctl <pid> [period]");
    if (topic.details !== undefined) lines.push("", ...topic.details);
    const general = topic.offline !== undefined ? GENERAL_FLAGS.filter((f) => f.name !== "host") : [...GENERAL_FLAGS, ...SELECTION_FLAGS, ...CONNECTION_FLAGS];
    lines.push("", "flags:", ...flagLines([...(topic.flags ?? []), ...general]));
    return lines.map((l) => `${l}\n`).join("");
  }
  const rows = commands.map((c) => [`${c.name} ${c.args}`.trimEnd(), c.summary] as const);
  rows.splice(1, 0, ["<pid> [period]", "same as process <pid> [period]"]);
  const width = Math.max(...rows.map(([u]) => u.length));
  return [
    "gopsctl: diagnostics for Go processes on this machine, on any host running gopsd (--host), or across a fleet",
    "",
    "usage: gopsctl [flags] <command> [args]",
    "",
    "commands:",
    ...rows.map(([u, s]) => `  ${u.padEnd(width)}  ${s}`),
    "",
    "flags (anywhere on the line):",
    ...flagLines([...GENERAL_FLAGS, ...SELECTION_FLAGS, ...CONNECTION_FLAGS, ...commandFlags(commands)]),
    "",
    "environment: GOPSCTL_HOST, GOPSCTL_TOKEN, GOPSCTL_TOKEN_FILE, GOPSCTL_CA, GOPSCTL_CERT, GOPSCTL_KEY,",
    "  GOPSCTL_SERVER_NAME, GOPSCTL_TLS=1 and GOPSCTL_CONFIG stand for the flags of the same name.",
    "config file (YAML): host, tokenFile, tls: {ca, cert, key, serverName}; file names relative to the file;",
    "  pprof: {probeExe: [paths], endpoints: [{pid|exe|cmdline, port, prefix}]} for reads without gopsd.",
    "  Flags win over the environment, which wins over the config file. Tokens and TLS apply only to a gopsd:",
    "  without a host gopsctl reads this machine directly and needs neither.",
    "fleet file (YAML, --fleet or $GOPSCTL_FLEET): hosts with name, address or ssh settings, labels, tls, token;",
    "  --host NAME uses a fleet (or ~/.ssh/config) host with its settings; --hosts, -l and --all run a command on each",
    "  selected host (at most 128 at a time, --timeout per host, default 10s for reads, none for captures; a pid",
    "  argument applies on every host).",
    "output: tables and text, on a terminal and in a pipe alike (gopsctl ps | grep api); JSON with --json. Across",
    "  hosts: tables gain a HOST column, JSON is NDJSON (one {host, value} or {host, error} line per host as it",
    "  answers), and stderr ends with a summary line (31/32 hosts ok; web-7: DEADLINE_EXCEEDED after 10s).",
    "exit status: 0 ok, 1 other error, 2 usage or configuration, 3 not found, 4 not possible now (not Go, no agent),",
    "  5 unavailable, 6 deadline exceeded, 7 busy, 8 not allowed (authentication, permission), 130 interrupted.",
    "  Across hosts: non-zero when any host failed: the status of the first host that failed, by the codes above.",
  ]
    .map((l) => `${l}\n`)
    .join("");
}

/** The overview's command flags: each once, naming the commands that take it (token's own are in its help). */
function commandFlags(commands: readonly Command[]): FlagSpec[] {
  const byName = new Map<string, { flag: FlagSpec; users: string[] }>();
  for (const c of commands) {
    if (c.name === "token") continue;
    for (const flag of c.flags ?? []) {
      // One line per meaning: -o is a capture's FILE for some commands and ps's format (wide) for ps.
      const key = `${flag.name}\0${flag.value ?? ""}\0${flag.help}`;
      const entry = byName.get(key) ?? { flag, users: [] };
      entry.users.push(c.name);
      byName.set(key, entry);
    }
  }
  return [...byName.values()].map(({ flag, users }) => ({ ...flag, help: `${users.join(", ")}: ${flag.help}` }));
}

function flagLines(flags: readonly FlagSpec[]): string[] {
  const usage = flags.map((f) => `${f.short !== undefined ? `-${f.short}, ` : ""}--${f.name}${f.value === undefined ? "" : f.optionalValue ? ` [${f.value}]` : ` ${f.value}`}`);
  const width = Math.max(...usage.map((u) => u.length));
  return flags.map((f, i) => `  ${usage[i]!.padEnd(width)}  ${f.help}`);
}
