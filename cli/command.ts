// The one shape of a gopsctl command (one file each under commands/) and what it gets to run. A command that asks
// gopsd one thing per target says what to call on a Diagnostics and how to render one answer as text and JSON;
// run-command.ts runs it the same way on this machine, one gopsd (--host) or each selected fleet host (--hosts,
// -l, --all), where answers become NDJSON lines, per-host sections (`==> host <==`) or one table with a HOST
// column. Commands whose output streams or combines in their own way (stack, pprof-cpu/heap) or that call no
// gopsd (pprof, token, help) give their own run instead.
import type { Writable } from "node:stream";
import type { Diagnostics, Fleet } from "../client/index.js";
import type { FlagSpec, ParsedArgv } from "./parse-argv.js";
import { runAsk } from "./run-command.js";

/** What a command needs of the Fleet across hosts: the selected hosts and a fan-out of per-host work. */
export type FleetRunner = Pick<Fleet, "hosts" | "run">;

export interface CommandContext {
  /** Created on first use (help never touches it). Not used across hosts. */
  readonly diagnostics: Diagnostics;
  /** Set when the command runs across hosts (--hosts, -l/--selector, --all): per-host work goes through it. */
  fleet?: FleetRunner;
  stdout: Writable;
  stderr: Writable;
  /** stdout is a terminal (the same tables and text go into a pipe; this only decides terminal niceties). */
  isTTY: boolean;
  /** stderr is a terminal: progress lines (redrawn in place) may go there, unless --json. */
  stderrIsTTY: boolean;
  /** --json was given: JSON (NDJSON across hosts) instead of tables and text. */
  json: boolean;
  /** Aborted by SIGINT or the call deadline; passed to every call. */
  signal: AbortSignal;
  cwd: string;
  /** The process environment (token create --dev finds its key and user here). */
  env: Readonly<Record<string, string | undefined>>;
  now: () => Date;
  /** Set when gopsctl reads this machine's processes itself (no gopsd): whether it runs as root. */
  reader?: { root: boolean };
}

/** What every command declares: light metadata for the command table, help and argument parsing. */
export interface CommandInfo<O> {
  name: string;
  aliases?: readonly string[];
  /** Arguments after the name, e.g. "<pid> [period]". */
  args: string;
  summary: string;
  /** The command's own flags (besides the general, connection and fleet-selection ones). */
  flags?: readonly FlagSpec[];
  /** Never calls gopsd (why, for messages: "it reads a local file"): takes no --host, connection or selection flags. */
  offline?: string;
  /** More lines for the command's help (examples, defaults). */
  details?: readonly string[];
  /** Turns positionals (after the command name) and flags into options; throws UsageError. */
  parse(args: readonly string[], parsed: ParsedArgv): O;
  /**
   * Default deadline when --timeout is not given (per call on one host, per host across hosts); undefined = none.
   * `base` is the read deadline (30 s on one host, 10 s per host across hosts). Absent = `base`.
   */
  defaultTimeoutMs?(opts: O, base: number): number | undefined;
}

/** Where one call runs: `host` is the fleet host's name across hosts, undefined on one target. */
export interface CallSite {
  host: string | undefined;
  signal: AbortSignal;
  ctx: CommandContext;
}

/** A command that asks each target one thing (an answer A) and renders it. */
export interface AskCommand<O, A> extends CommandInfo<O> {
  call(diagnostics: Diagnostics, opts: O, site: CallSite): Promise<A>;
  render: {
    /** One answer as text (`host` set across hosts, for commands that name it themselves, like tree's root). */
    text(answer: A, opts: O, host?: string): string;
    json(answer: A, opts: O): unknown;
    /**
     * Across hosts: how answers combine in text. "table": one table of all answered hosts (rows get a HOST column);
     * "sections" (the default): each host's text under a `==> host <==` line as it answers; "lines": each host's
     * text as it answers, as is.
     */
    across?: { kind: "table"; table(rows: readonly { host: string; value: A }[], opts: O): string } | { kind: "sections" | "lines" };
    /** Lines for stderr after the text (ps: processes that could not be read), from every answer. */
    notes?(answers: readonly A[], opts: O, ctx: CommandContext): string[];
  };
}

/** A command with its own runner. */
export interface RunCommand<O> extends CommandInfo<O> {
  run(opts: O, ctx: CommandContext): Promise<void>;
}

/** A command as the table holds it: its metadata and one way to run it. */
export interface Command<O = any> extends CommandInfo<O> {
  run(opts: O, ctx: CommandContext): Promise<void>;
}

/** Defines a command: an ask command is run by the one runner, a run command by its own `run`. */
export function defineCommand<O, A>(def: AskCommand<O, A>): Command<O>;
export function defineCommand<O>(def: RunCommand<O>): Command<O>;
export function defineCommand<O, A>(def: AskCommand<O, A> | RunCommand<O>): Command<O> {
  if ("run" in def) return def;
  return { ...def, run: (opts, ctx) => runAsk(def, opts, ctx) };
}

export const DEFAULT_TIMEOUT_MS = 30_000;
/** Per-host deadline of a read across hosts: one slow host should not hold up the fleet's answer for long. */
export const FLEET_TIMEOUT_MS = 10_000;
