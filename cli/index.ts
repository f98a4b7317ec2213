// The CLI's building blocks, as main.ts composes them: argv parsing, the command table, error → exit status.
export type { Command, CommandContext, FleetRunner } from "./command.js";
export { parseCommandLine, resolveCommand, type Invocation } from "./commands/index.js";
export { defaultConfigPath, loadConfig, type CliConfig, type ConfigPprof, type ConfigTls } from "./config-file.js";
export { chosenConfigPath, resolveConnection, type Connection, type TokenSetting } from "./connection.js";
export { CallTimeoutError, HostsFailedError, InterruptedError, UsageError } from "./errors.js";
export { isAcrossHosts, resolveTarget, type Target } from "./hosts.js";
export { describeFailure, ExitCode, type Failure } from "./exit-codes.js";
export { parseArgv, type GlobalOptions, type ParsedArgv } from "./parse-argv.js";
