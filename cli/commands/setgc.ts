// `gopsctl setgc <pid> <percent|off>`: set the target's GOGC.
import { parseGcPercent, parsePid } from "../arguments.js";
import { DEFAULT_TIMEOUT_MS, type CommandContext, type CommandSpec } from "../command.js";
import { UsageError } from "../errors.js";
import { printView, withNewline } from "../output/index.js";

export interface SetgcOptions {
  pid: number;
  /** -1 (off) .. 2147483647. */
  percent: number;
}

export const spec: CommandSpec<SetgcOptions> = {
  name: "setgc",
  args: "<pid> <percent|off>",
  summary: "set the garbage collection target percentage (GOGC); off disables the collector",
  parse(args) {
    if (args.length > 2) throw new UsageError(`too many arguments: "${args[2]}"`);
    return { pid: parsePid(args[0]), percent: parseGcPercent(args[1]) };
  },
  defaultTimeoutMs: () => DEFAULT_TIMEOUT_MS,
  run,
};

export async function run(opts: SetgcOptions, ctx: CommandContext): Promise<void> {
  const res = await ctx.diagnostics.setGCPercent({ pid: opts.pid, percent: opts.percent }, { signal: ctx.signal });
  await printView(ctx, {
    json: { pid: opts.pid, previous: res.previous, current: res.current, raw: res.raw },
    text: () => withNewline(res.raw),
  });
}
