// The CLI's building blocks, as main.ts composes them: argv parsing, the command table, error → exit status.
export type { CommandContext, CommandSpec } from "./command.js";
export { resolveCommand, type Invocation } from "./commands/index.js";
export { CallTimeoutError, InterruptedError } from "./errors.js";
export { describeFailure, ExitCode, type Failure } from "./exit-codes.js";
export { parseArgv, type GlobalOptions, type ParsedArgv } from "./parse-argv.js";
