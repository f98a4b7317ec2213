// `gopsctl version <pid>`: the Go runtime version the target's agent reports; across hosts, HOST VERSION rows.
import { answeredInHostOrder, eachHost, finishAcross } from "../across-hosts.js";
import { parseOnlyPid } from "../arguments.js";
import type { CommandContext, CommandSpec } from "../command.js";
import { printView, renderTable, wantsJson, write } from "../output/index.js";

export interface VersionOptions {
  pid: number;
}

export const spec: CommandSpec<VersionOptions> = {
  name: "version",
  args: "<pid>",
  summary: "print the Go version the target runs (its agent's answer)",
  parse: (args) => ({ pid: parseOnlyPid(args) }),
  defaultTimeoutMs: (_opts, base) => base,
  run,
};

export async function run(opts: VersionOptions, ctx: CommandContext): Promise<void> {
  const json = (goVersion: string) => ({ pid: opts.pid, goVersion });
  const fleet = ctx.fleet;
  if (fleet !== undefined) {
    const settled = await eachHost(
      ctx,
      fleet.run(async (client, { signal }) => (await client.version({ pid: opts.pid }, { signal })).goVersion),
      { json },
    );
    if (!wantsJson(ctx)) {
      const rows = answeredInHostOrder(fleet, settled).map(({ host, value }) => [host, value]);
      await write(ctx.stdout, renderTable(rows, ["HOST", "VERSION"]), ctx.signal);
    }
    await finishAcross(ctx, settled);
    return;
  }
  const res = await ctx.diagnostics.version({ pid: opts.pid }, { signal: ctx.signal });
  await printView(ctx, { json: json(res.goVersion), text: () => `${res.goVersion}\n` });
}
