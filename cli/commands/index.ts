// The command table and the step from a parsed command line to one command invocation.
import { DEFAULT_TIMEOUT_MS, FLEET_TIMEOUT_MS, type CommandSpec } from "../command.js";
import { UsageError } from "../errors.js";
import { isAcrossHosts } from "../hosts.js";
import { flagGroup, type ParsedArgv } from "../parse-argv.js";
import { spec as binary } from "./binary.js";
import { spec as buildinfo } from "./buildinfo.js";
import { spec as gc } from "./gc.js";
import { helpSpec } from "./help.js";
import { spec as memstats } from "./memstats.js";
import { spec as pprofCpu } from "./pprof-cpu.js";
import { spec as pprofHeap } from "./pprof-heap.js";
import { spec as pprof } from "./pprof.js";
import { spec as processCommand } from "./process.js";
import { spec as ps } from "./ps.js";
import { spec as setgc } from "./setgc.js";
import { spec as stack } from "./stack.js";
import { spec as stats } from "./stats.js";
import { spec as trace } from "./trace.js";
import { spec as token } from "./token.js";
import { spec as tree } from "./tree.js";
import { spec as version } from "./version.js";

const help = helpSpec(
  () => COMMANDS,
  (name) => findCommand(name),
);

export const COMMANDS: readonly CommandSpec<unknown>[] = [
  ps,
  processCommand,
  tree,
  stack,
  gc,
  setgc,
  memstats,
  stats,
  version,
  buildinfo,
  trace,
  pprofCpu,
  pprofHeap,
  binary,
  pprof,
  token,
  help,
];

/** A command name, alias, or a pid (the `gopsctl <pid>` shortcut for process). */
export function findCommand(name: string): CommandSpec<unknown> | undefined {
  if (/^-?\d+$/.test(name)) return processCommand;
  return COMMANDS.find((c) => c.name === name || (c.aliases ?? []).includes(name));
}

export interface Invocation {
  spec: CommandSpec<unknown>;
  opts: unknown;
  /** Per-call deadline, or per-host deadline when `across`; undefined = none. */
  timeoutMs: number | undefined;
  /** The command runs on several fleet hosts (--hosts, -l/--selector, --all). */
  across: boolean;
}

export function resolveCommand(parsed: ParsedArgv): Invocation {
  const [first, ...rest] = parsed.positionals;
  if (parsed.options.help) {
    const topic = first === undefined ? undefined : findCommand(first);
    return { spec: help, opts: help.parse(topic === undefined ? [] : [topic.name], parsed.options, parsed), timeoutMs: undefined, across: false };
  }
  let spec: CommandSpec<unknown>;
  let args: string[];
  if (first === undefined) {
    [spec, args] = [ps, []];
  } else if (/^-?\d+$/.test(first)) {
    [spec, args] = [processCommand, parsed.positionals];
  } else {
    const found = findCommand(first);
    if (found === undefined) {
      throw new UsageError(`unknown command "${first}" (commands: ${COMMANDS.map((c) => c.name).join(", ")})`);
    }
    [spec, args] = [found, rest];
  }
  for (const flag of parsed.given) {
    if ((spec.flags ?? []).includes(flag)) continue;
    const group = flagGroup(flag);
    if (group === "command" || (group === "selection" && spec.offline)) {
      throw new UsageError(`flag --${flag} does not apply to ${spec.name}`);
    }
  }
  const across = !spec.offline && isAcrossHosts(parsed);
  const opts = spec.parse(args, parsed.options, parsed);
  const timeout = parsed.options.timeoutMs;
  const base = across ? FLEET_TIMEOUT_MS : DEFAULT_TIMEOUT_MS;
  return { spec, opts, timeoutMs: timeout === undefined ? spec.defaultTimeoutMs(opts, base) : timeout === 0 ? undefined : timeout, across };
}
