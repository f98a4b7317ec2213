// The command table (one entry per command file) and the step from a command line to one command invocation.
import { DEFAULT_TIMEOUT_MS, FLEET_TIMEOUT_MS, type Command } from "../command.js";
import { UsageError } from "../errors.js";
import { isAcrossHosts } from "../hosts.js";
import { CONNECTION_FLAGS, GENERAL_FLAGS, parseArgv, SELECTION_FLAGS, type FlagSpec, type ParsedArgv } from "../parse-argv.js";
import { spec as binary } from "./binary.js";
import { spec as buildinfo } from "./buildinfo.js";
import { spec as captures } from "./captures.js";
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
import { spec as top } from "./top.js";
import { spec as tree } from "./tree.js";
import { spec as version } from "./version.js";

const help = helpSpec(
  () => COMMANDS,
  (name) => findCommand(name),
);

export const COMMANDS: readonly Command[] = [
  ps,
  processCommand,
  tree,
  stack,
  gc,
  setgc,
  memstats,
  stats,
  top,
  version,
  buildinfo,
  trace,
  pprofCpu,
  pprofHeap,
  binary,
  captures,
  pprof,
  token,
  help,
];

/** A command name, alias, or a pid (the `gopsctl <pid>` shortcut for process). */
export function findCommand(name: string): Command | undefined {
  if (/^-?\d+$/.test(name)) return processCommand;
  return COMMANDS.find((c) => c.name === name || (c.aliases ?? []).includes(name));
}

export interface Invocation {
  spec: Command;
  opts: unknown;
  /** Per-call deadline, or per-host deadline when `across`; undefined = none. */
  timeoutMs: number | undefined;
  /** The command runs on several fleet hosts (--hosts, -l/--selector, --all). */
  across: boolean;
}

/**
 * Every flag any command takes, for splitting the command line before the command is known: a name may belong to
 * several commands (--key: the connection's and token create's), with one shape (value or not, repeatable or not).
 */
export const ALL_FLAGS: readonly FlagSpec[] = (() => {
  const all = new Map<string, FlagSpec>();
  for (const f of [...GENERAL_FLAGS, ...SELECTION_FLAGS, ...CONNECTION_FLAGS, ...COMMANDS.flatMap((c) => c.flags ?? [])]) {
    const seen = all.get(f.name);
    if (seen === undefined) all.set(f.name, f);
    // One name, two meanings of its value (-o: ps's format, a capture's FILE): messages name both placeholders.
    else if (seen.value !== undefined && f.value !== undefined && !seen.value.split("|").includes(f.value) && seen.short === f.short && seen.optionalValue === f.optionalValue && seen.repeatable === f.repeatable) {
      all.set(f.name, { ...seen, value: `${seen.value}|${f.value}` });
    } else if (seen.short !== f.short || (seen.value === undefined) !== (f.value === undefined) || seen.optionalValue !== f.optionalValue || seen.repeatable !== f.repeatable) {
      throw new Error(`flag --${f.name} has two shapes`);
    }
  }
  return [...all.values()];
})();

/** Splits a command line (flags anywhere) against every command's flags. */
export function parseCommandLine(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): ParsedArgv {
  return parseArgv(argv, env, ALL_FLAGS);
}

/** The flags a command accepts: the general ones, its own, and unless offline the selection and connection ones. */
function acceptedFlags(spec: Command): Set<string> {
  if (spec === help) return new Set(ALL_FLAGS.map((f) => f.name)); // help only prints; any flag may stand beside it
  const groups = spec.offline !== undefined ? [GENERAL_FLAGS.filter((f) => f.name !== "host")] : [GENERAL_FLAGS, SELECTION_FLAGS, CONNECTION_FLAGS];
  return new Set([...groups.flat(), ...(spec.flags ?? [])].map((f) => f.name));
}

export function resolveCommand(parsed: ParsedArgv): Invocation {
  const [first, ...rest] = parsed.positionals;
  if (parsed.options.help) {
    const topic = first === undefined ? undefined : findCommand(first);
    return { spec: help, opts: help.parse(topic === undefined ? [] : [topic.name], parsed), timeoutMs: undefined, across: false };
  }
  let spec: Command;
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
  const accepted = acceptedFlags(spec);
  for (const flag of parsed.given) {
    if (!accepted.has(flag)) throw new UsageError(`flag --${flag} does not apply to ${spec.name}${spec.offline !== undefined ? ` (${spec.offline})` : ""}`);
  }
  const across = spec.offline === undefined && isAcrossHosts(parsed);
  const opts = spec.parse(args, parsed);
  const timeout = parsed.options.timeoutMs;
  const base = across ? FLEET_TIMEOUT_MS : DEFAULT_TIMEOUT_MS;
  const byDefault = spec.defaultTimeoutMs === undefined ? base : spec.defaultTimeoutMs(opts, base);
  return { spec, opts, timeoutMs: timeout === undefined ? byDefault : timeout === 0 ? undefined : timeout, across };
}
