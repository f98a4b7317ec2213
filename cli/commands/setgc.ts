// `gopsctl setgc <pid> <percent|off>`: set the target's GOGC.
import type { SetGCPercentResponse } from "../../proto/index.js";
import { answeredInHostOrder, eachHost, finishAcross } from "../across-hosts.js";
import { parseGcPercent, parsePid } from "../arguments.js";
import { type CommandContext, type CommandSpec } from "../command.js";
import { UsageError } from "../errors.js";
import { printView, renderTable, wantsJson, withNewline, write } from "../output/index.js";

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
  defaultTimeoutMs: (_opts, base) => base,
  run,
};

export async function run(opts: SetgcOptions, ctx: CommandContext): Promise<void> {
  const json = (res: SetGCPercentResponse) => ({ pid: opts.pid, previous: res.previous, current: res.current, raw: res.raw });
  const fleet = ctx.fleet;
  if (fleet !== undefined) {
    const settled = await eachHost(
      ctx,
      fleet.run((client, { signal }) => client.setGCPercent({ pid: opts.pid, percent: opts.percent }, { signal })),
      { json },
    );
    if (!wantsJson(ctx)) {
      const rows = answeredInHostOrder(fleet, settled).map(({ host, value }) => [host, gogc(value.previous), gogc(value.current)]);
      await write(ctx.stdout, renderTable(rows, ["HOST", "PREVIOUS", "CURRENT"]), ctx.signal);
    }
    await finishAcross(ctx, settled);
    return;
  }
  const res = await ctx.diagnostics.setGCPercent({ pid: opts.pid, percent: opts.percent }, { signal: ctx.signal });
  await printView(ctx, { json: json(res), text: () => withNewline(res.raw) });
}

/** A GOGC value as GOGC spells it: a percentage, or off. */
function gogc(percent: number): string {
  return percent < 0 ? "off" : String(percent);
}
