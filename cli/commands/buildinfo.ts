// `gopsctl buildinfo <pid>`: the `go version -m` view of the target's executable.
import { formatGoVersionM } from "../../common/go-version-m.js";
import type { GetBuildInfoResponse } from "../../proto/index.js";
import { eachHost, finishAcross, hostHeading } from "../across-hosts.js";
import { parseOnlyPid } from "../arguments.js";
import { type CommandContext, type CommandSpec } from "../command.js";
import { printView } from "../output/index.js";

export interface BuildinfoOptions {
  pid: number;
}

export const spec: CommandSpec<BuildinfoOptions> = {
  name: "buildinfo",
  args: "<pid>",
  summary: "print the Go build info of the executable (like go version -m)",
  parse: (args) => ({ pid: parseOnlyPid(args) }),
  defaultTimeoutMs: (_opts, base) => base,
  run,
};

export async function run(opts: BuildinfoOptions, ctx: CommandContext): Promise<void> {
  if (ctx.fleet !== undefined) {
    const settled = await eachHost(ctx, ctx.fleet.run((client, { signal }) => client.getBuildInfo({ pid: opts.pid }, { signal })), {
      json: buildInfoJson,
      text: (res, host) => `${hostHeading(host)}${buildInfoText(res)}\n`,
    });
    await finishAcross(ctx, settled);
    return;
  }
  const res = await ctx.diagnostics.getBuildInfo({ pid: opts.pid }, { signal: ctx.signal });
  await printView(ctx, { json: buildInfoJson(res), text: () => buildInfoText(res) });
}

function buildInfoJson(res: GetBuildInfoResponse) {
  return { pid: res.pid, exe: res.exe, buildInfo: res.buildInfo ?? null };
}

/** What `go version -m` prints for the target's executable (the formatter gopsd's tests check against Go's). */
export function buildInfoText(res: GetBuildInfoResponse): string {
  return res.buildInfo === undefined ? `${res.exe}: \n` : formatGoVersionM(res.exe, res.buildInfo);
}
