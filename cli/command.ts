// What every command module gets and provides (docs/ARCHITECTURE.md rule 8: commands are thin, dependencies injected).
import type { Writable } from "node:stream";
import type { Diagnostics, Fleet } from "../client/index.js";
import type { FlagName, GlobalOptions, ParsedArgv } from "./parse-argv.js";

/** What a command needs of the Fleet across hosts: the selected hosts and a fan-out of per-host work. */
export type FleetRunner = Pick<Fleet, "hosts" | "run">;

export interface CommandContext {
  /** Created on first use (help never touches it). Not used across hosts. */
  readonly diagnostics: Diagnostics;
  /**
   * Set when the command runs across hosts (--hosts, -l/--selector, --all): per-host work goes through it, each
   * host under the per-host deadline (--timeout), and the command prints per-host results.
   */
  fleet?: FleetRunner;
  stdout: Writable;
  stderr: Writable;
  /** stdout is a terminal: text views instead of JSON. */
  isTTY: boolean;
  /** stderr is a terminal: progress lines (redrawn in place) may go there, unless --json. */
  stderrIsTTY: boolean;
  /** --json was given. */
  json: boolean;
  /** Aborted by SIGINT or the call deadline; passed to every call. */
  signal: AbortSignal;
  cwd: string;
  /** The process environment (token create --dev finds its key and user here). */
  env: Readonly<Record<string, string | undefined>>;
  now: () => Date;
}

export interface CommandSpec<O> {
  name: string;
  aliases?: readonly string[];
  /** Arguments after the name, e.g. "<pid> [period]". */
  args: string;
  summary: string;
  /**
   * Command-specific flags it accepts besides the general ones (host, json, table, timeout, help, version), the
   * connection ones, and (unless offline) the fleet selection ones.
   */
  flags?: readonly FlagName[];
  /** Never calls gopsd: no connection settings (config file, token file) are read. */
  offline?: true;
  /** More lines for the command's help (examples, defaults). */
  details?: readonly string[];
  /** Turns positionals (after the command name) and flags into options; throws UsageError. */
  parse(args: readonly string[], options: GlobalOptions, parsed: ParsedArgv): O;
  /**
   * Default deadline when --timeout is not given (per call on one host, per host across hosts); undefined = none.
   * `base` is the read deadline: DEFAULT_TIMEOUT_MS on one host, FLEET_TIMEOUT_MS per host across hosts.
   */
  defaultTimeoutMs(opts: O, base: number): number | undefined;
  run(opts: O, ctx: CommandContext): Promise<void>;
}

export const DEFAULT_TIMEOUT_MS = 30_000;
/** Per-host deadline of a read across hosts: one slow host should not hold up the fleet's answer for long. */
export const FLEET_TIMEOUT_MS = 10_000;
