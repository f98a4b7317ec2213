// `gopsctl help [command]` (also -h/--help anywhere): usage text on stdout.
import type { CommandContext, CommandSpec } from "../command.js";
import { UsageError } from "../errors.js";
import { write } from "../output/index.js";
import { FLAGS, flagGroup, type FlagName } from "../parse-argv.js";

export interface HelpOptions {
  /** The command to explain; undefined = the overview. */
  topic: CommandSpec<unknown> | undefined;
  commands: readonly CommandSpec<unknown>[];
}

/** The help command needs the full command list, which includes itself: the registry passes it in. */
export function helpSpec(
  commands: () => readonly CommandSpec<unknown>[],
  lookup: (name: string) => CommandSpec<unknown> | undefined,
): CommandSpec<HelpOptions> {
  return {
    name: "help",
    args: "[command]",
    summary: "show this help, or a command's",
    offline: true,
    parse(args) {
      if (args.length > 1) throw new UsageError(`too many arguments: "${args[1]}"`);
      const name = args[0];
      const topic = name === undefined ? undefined : lookup(name);
      if (name !== undefined && topic === undefined) throw new UsageError(`no help for unknown command "${name}"`);
      return { topic, commands: commands() };
    },
    defaultTimeoutMs: () => undefined,
    run,
  };
}

export async function run(opts: HelpOptions, ctx: CommandContext): Promise<void> {
  await write(ctx.stdout, helpText(opts.commands, opts.topic), ctx.signal);
}

function helpText(commands: readonly CommandSpec<unknown>[], topic?: CommandSpec<unknown>): string {
  if (topic !== undefined) {
    const lines = [`usage: gopsctl [flags] ${topic.name} ${topic.args}`.trimEnd(), "", topic.summary];
    if (topic.aliases !== undefined) lines.push(`aliases: ${topic.aliases.join(", ")}`);
    if (topic.name === "process") lines.push("shortcut: gopsctl <pid> [period]");
    if (topic.details !== undefined) lines.push("", ...topic.details);
    lines.push("", "flags:", ...flagLines(topic));
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
    ...flagLines(undefined),
    "",
    "environment: GOPSCTL_HOST, GOPSCTL_TOKEN, GOPSCTL_TOKEN_FILE, GOPSCTL_CA, GOPSCTL_CERT, GOPSCTL_KEY,",
    "  GOPSCTL_SERVER_NAME, GOPSCTL_TLS=1 and GOPSCTL_CONFIG stand for the flags of the same name.",
    "config file (YAML): host, tokenFile, tls: {ca, cert, key, serverName}; file names relative to the file.",
    "  Flags win over the environment, which wins over the config file. Tokens and TLS apply only to a gopsd:",
    "  without a host gopsctl reads this machine directly and needs neither.",
    "fleet file (YAML, --fleet or $GOPSCTL_FLEET): hosts with name, address or ssh settings, labels, tls, token;",
    "  --host NAME uses a fleet (or ~/.ssh/config) host with its settings; --hosts, -l and --all run a command on each",
    "  selected host (at most 32 at a time, --timeout per host, default 10s for reads, none for captures; a pid",
    "  argument applies on every host).",
    "output: tables on a terminal, JSON with --json or when stdout is not a terminal. Across hosts: tables gain a",
    "  HOST column, JSON is NDJSON (one {host, value} or {host, error} line per host as it answers), and stderr ends",
    "  with a summary line (31/32 hosts ok; web-7: DEADLINE_EXCEEDED after 10s).",
    "exit status: 0 ok, 1 other error, 2 usage or configuration, 3 not found, 4 not possible now (not Go, no agent),",
    "  5 unavailable, 6 deadline exceeded, 7 busy, 8 not allowed (authentication, permission), 130 interrupted.",
    "  Across hosts: non-zero when any host failed: the status of the first host that failed, by the codes above.",
  ]
    .map((l) => `${l}\n`)
    .join("");
}

/** Command flags worth knowing from the overview (token create's many flags are in its own help). */
const OVERVIEW_COMMAND_FLAGS: readonly FlagName[] = ["output", "all-processes", "sort", "module", "top", "sample-index", "flame", "merge", "summary"];

function valueUsage(f: (typeof FLAGS)[number]): string {
  if (f.value === undefined) return "";
  return f.optionalValue ? ` [${f.value}]` : ` ${f.value}`;
}

/** The overview shows the flags of every command; a command's help those it takes (connection ones if it calls gopsd). */
function flagLines(topic: CommandSpec<unknown> | undefined): string[] {
  const shown = FLAGS.filter((f) => {
    if (topic !== undefined && (topic.flags ?? []).includes(f.name)) return true;
    const group = flagGroup(f.name);
    if (topic === undefined) return group !== "command" || OVERVIEW_COMMAND_FLAGS.includes(f.name);
    if (topic.offline) return group === "general" && f.name !== "host";
    return group === "general" || group === "selection" || group === "connection";
  });
  const usage = shown.map((f) => `${f.short !== undefined ? `-${f.short}, ` : ""}--${f.name}${valueUsage(f)}`);
  const width = Math.max(...usage.map((u) => u.length));
  return shown.map((f, i) => `  ${usage[i]!.padEnd(width)}  ${f.help}`);
}
