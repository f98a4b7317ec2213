// `gopsctl gc <pid>`: force a garbage collection. Prints nothing on success, like gops (across hosts: the summary
// line; a failed host's error on stderr).
import { eachHost, finishAcross } from "../across-hosts.js";
import { parseOnlyPid } from "../arguments.js";
import type { CommandContext, CommandSpec } from "../command.js";
import { printJson } from "../output/index.js";

export interface GcOptions {
  pid: number;
}

export const spec: CommandSpec<GcOptions> = {
  name: "gc",
  args: "<pid>",
  summary: "force a garbage collection",
  parse: (args) => ({ pid: parseOnlyPid(args) }),
  defaultTimeoutMs: (_opts, base) => base,
  run,
};

export async function run(opts: GcOptions, ctx: CommandContext): Promise<void> {
  const json = { pid: opts.pid, ok: true };
  if (ctx.fleet !== undefined) {
    const settled = await eachHost(
      ctx,
      ctx.fleet.run(async (client, { signal }) => void (await client.forceGC({ pid: opts.pid }, { signal }))),
      { json: () => json },
    );
    await finishAcross(ctx, settled);
    return;
  }
  await ctx.diagnostics.forceGC({ pid: opts.pid }, { signal: ctx.signal });
  if (ctx.json) await printJson(ctx, json);
}
