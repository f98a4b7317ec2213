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

export function helpText(commands: readonly CommandSpec<unknown>[], topic?: CommandSpec<unknown>): string {
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
    "gopsctl: diagnostics for Go processes on this machine, or on any host running gopsd (--host)",
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
    "output: tables on a terminal, JSON with --json or when stdout is not a terminal.",
    "exit status: 0 ok, 1 other error, 2 usage or configuration, 3 not found, 4 not possible now (not Go, no agent),",
    "  5 unavailable, 6 deadline exceeded, 7 busy, 8 not allowed (authentication, permission), 130 interrupted.",
  ]
    .map((l) => `${l}\n`)
    .join("");
}

/** Command flags worth knowing from the overview (token create's many flags are in its own help). */
const OVERVIEW_COMMAND_FLAGS: readonly FlagName[] = ["output", "all", "top", "sample-index", "flame", "summary"];

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
    return group === "general" || group === "connection";
  });
  const usage = shown.map((f) => `${f.short !== undefined ? `-${f.short}, ` : ""}--${f.name}${valueUsage(f)}`);
  const width = Math.max(...usage.map((u) => u.length));
  return shown.map((f, i) => `  ${usage[i]!.padEnd(width)}  ${f.help}`);
}
