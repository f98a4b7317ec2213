// What every command module gets and provides (DESIGN rule 8: commands are thin, dependencies injected).
import type { Writable } from "node:stream";
import type { Diagnostics } from "../client/index.js";
import type { FlagName, GlobalOptions, ParsedArgv } from "./parse-argv.js";

export interface CommandContext {
  /** Created on first use (help never touches it). */
  readonly diagnostics: Diagnostics;
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
  /** Command-specific flags it accepts besides the global ones (host, json, timeout, help, version, connection). */
  flags?: readonly FlagName[];
  /** Never calls gopsd: no connection settings (config file, token file) are read. */
  offline?: true;
  /** More lines for the command's help (examples, defaults). */
  details?: readonly string[];
  /** Turns positionals (after the command name) and flags into options; throws UsageError. */
  parse(args: readonly string[], options: GlobalOptions, parsed: ParsedArgv): O;
  /** Default per-call deadline when --timeout is not given; undefined = none. */
  defaultTimeoutMs(opts: O): number | undefined;
  run(opts: O, ctx: CommandContext): Promise<void>;
}

export const DEFAULT_TIMEOUT_MS = 30_000;
