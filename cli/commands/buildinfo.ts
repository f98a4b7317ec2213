// `gopsctl buildinfo <pid>`: the `go version -m` view of the target's executable.
import type { BuildInfo, GetBuildInfoResponse, Module } from "../../proto/index.js";
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

/**
 * `<exe>: <goversion>` then one tab-indented, tab-separated line per item: `path`, `mod`, `dep` (each followed by
 * `=>` when replaced) and `build key=value`, as `go version -m` prints them.
 */
export function buildInfoText(res: GetBuildInfoResponse): string {
  const bi: BuildInfo | undefined = res.buildInfo;
  const lines = [`${res.exe}: ${bi?.goVersion ?? ""}`];
  if (bi !== undefined) {
    if (bi.path !== "") lines.push(`\tpath\t${bi.path}`);
    if (bi.main !== undefined && bi.main.path !== "") lines.push(...moduleLines("mod", bi.main));
    for (const dep of bi.deps) lines.push(...moduleLines("dep", dep));
    for (const s of bi.settings) lines.push(`\tbuild\t${quoteKey(s.key)}=${quoteValue(s.value)}`);
  }
  return lines.map((l) => `${l}\n`).join("");
}

function moduleLines(word: string, m: Module): string[] {
  if (m.replace === undefined) return [`\t${word}\t${m.path}\t${m.version}\t${m.sum}`];
  return [`\t${word}\t${m.path}\t${m.version}`, ...moduleLines("=>", m.replace)];
}

// go version -m quotes (Go string syntax) keys with "=", space, tab, CR, LF, a quote or a backquote, and such
// values except "=".
function quoteKey(key: string): string {
  return key === "" || /[= \t\r\n"`]/.test(key) ? JSON.stringify(key) : key;
}

function quoteValue(value: string): string {
  return /[ \t\r\n"`]/.test(value) ? JSON.stringify(value) : value;
}
