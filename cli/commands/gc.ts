// `gopsctl gc <pid>`: force a garbage collection. Prints nothing on success, like gops.
import { parseOnlyPid } from "../arguments.js";
import { DEFAULT_TIMEOUT_MS, type CommandContext, type CommandSpec } from "../command.js";
import { printJson } from "../output/index.js";

export interface GcOptions {
  pid: number;
}

export const spec: CommandSpec<GcOptions> = {
  name: "gc",
  args: "<pid>",
  summary: "force a garbage collection",
  parse: (args) => ({ pid: parseOnlyPid(args) }),
  defaultTimeoutMs: () => DEFAULT_TIMEOUT_MS,
  run,
};

export async function run(opts: GcOptions, ctx: CommandContext): Promise<void> {
  await ctx.diagnostics.forceGC({ pid: opts.pid }, { signal: ctx.signal });
  if (ctx.json) await printJson(ctx, { pid: opts.pid, ok: true });
}
