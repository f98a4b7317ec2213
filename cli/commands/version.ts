// `gopsctl version <pid>`: the Go runtime version the target's agent reports.
import { parseOnlyPid } from "../arguments.js";
import { DEFAULT_TIMEOUT_MS, type CommandContext, type CommandSpec } from "../command.js";
import { printView } from "../output/index.js";

export interface VersionOptions {
  pid: number;
}

export const spec: CommandSpec<VersionOptions> = {
  name: "version",
  args: "<pid>",
  summary: "print the Go version the target runs (its agent's answer)",
  parse: (args) => ({ pid: parseOnlyPid(args) }),
  defaultTimeoutMs: () => DEFAULT_TIMEOUT_MS,
  run,
};

export async function run(opts: VersionOptions, ctx: CommandContext): Promise<void> {
  const res = await ctx.diagnostics.version({ pid: opts.pid }, { signal: ctx.signal });
  await printView(ctx, { json: { pid: opts.pid, goVersion: res.goVersion }, text: () => `${res.goVersion}\n` });
}
