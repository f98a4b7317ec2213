// `gopsctl captures`: what gopsd captured by itself when a capture rule fired (server/capture/). `captures` lists
// them (a table; --json: one object per capture), `captures get ID [-o DIR]` saves one capture's files into a
// directory, `captures rm ID` removes it from gopsd's store. Across hosts like every other command.
import type { Diagnostics } from "../../client/index.js";
import { Status } from "../../common/errors.js";
import type { CaptureInfo } from "../../proto/index.js";
import { OUTPUT_FLAG } from "../capture.js";
import { defineCommand, type CommandContext } from "../command.js";
import { UsageError } from "../errors.js";
import { printJsonLine, renderTable, write } from "../output/index.js";
import { flagValue, type ParsedArgv } from "../parse-argv.js";
import { formatBytes } from "../progress.js";
import { answeredInHostOrder, finishAcross, printEachHost } from "../run-command.js";

export type CapturesOptions = { action: "list" } | { action: "get"; id: string; output: string | undefined } | { action: "rm"; id: string };

/** What a capture file may be called (a hostile gopsd must not name ../x). */
const FILE_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const ID = /^\d{8}T\d{6}Z-\d{1,10}-[0-9a-f]{6}$/;

export const spec = defineCommand({
  name: "captures",
  args: "[get <id> [-o DIR] | rm <id>]",
  summary: "list, save or remove what gopsd captured when a capture rule fired",
  flags: [{ ...OUTPUT_FLAG, help: "captures get: the directory for the capture's files (default ./<id>; across hosts <DIR>/<host>)" }],
  details: [
    "gopsd takes the evidence itself when a capture rule (gopsd --capture-rule) fires: goroutine stacks, memstats,",
    "  a heap profile by default, a CPU profile or a trace on request. The token needs the gops:captures scope.",
    "captures: a table ID, TIME, PID, NAME, RULE, SIZE, WHY; --json: one object per capture",
    "  {host, id, pid, name, exe, module, container, pod, rule, reason, time, finished, bytes, files, errors}.",
    "captures get ID [-o DIR]: saves the capture's files (manifest.json, goroutines.txt, memstats.json,",
    "  heap.pprof.gz, ...) into DIR (created 0700; default ./ID); open a profile with gopsctl pprof or go tool pprof.",
    "captures rm ID: removes the capture from gopsd's store.",
    "examples:",
    "  gopsctl captures --host web-1:4677",
    "  gopsctl captures --all --json",
    "  gopsctl captures get 20261207T212500Z-4132-3fa9c1 --host web-1:4677 -o leak",
  ],
  parse: parseCaptures,
  run,
});

function parseCaptures(args: readonly string[], parsed: ParsedArgv): CapturesOptions {
  const [action, id, extra] = args;
  const output = flagValue(parsed, "output");
  if (action === undefined || action === "list") {
    if (args.length > 1) throw new UsageError(`too many arguments: "${args[1]}"`);
    if (output !== undefined) throw new UsageError("-o applies to captures get");
    return { action: "list" };
  }
  if (action !== "get" && action !== "rm") throw new UsageError(`unknown subcommand "captures ${action}" (want: captures, captures get ID, captures rm ID)`);
  if (id === undefined) throw new UsageError(`captures ${action} needs a capture id (see 'gopsctl captures')`);
  if (!ID.test(id)) throw new UsageError(`"${id}" is not a capture id (like 20261207T212500Z-4132-3fa9c1)`);
  if (extra !== undefined) throw new UsageError(`too many arguments: "${extra}"`);
  if (action === "rm") {
    if (output !== undefined) throw new UsageError("-o applies to captures get");
    return { action, id };
  }
  return { action, id, output };
}

export async function run(opts: CapturesOptions, ctx: CommandContext): Promise<void> {
  switch (opts.action) {
    case "list":
      return list(ctx);
    case "get":
      return perHost(ctx, (d, host, signal) => save(d, opts.id, outputDir(opts, host, ctx), signal), (s) => `saved capture ${opts.id}: ${s.files} files, ${formatBytes(s.bytes)} in ${s.dir}`);
    case "rm":
      return perHost(ctx, async (d, _host, signal) => (await d.deleteCapture({ id: opts.id }, { signal }), { id: opts.id }), () => `removed capture ${opts.id}`);
  }
}

/** One object per capture (also each line of --json). */
export function captureJson(c: CaptureInfo, host: string) {
  return {
    host: c.host || host,
    id: c.id,
    pid: c.pid,
    name: c.name,
    exe: c.exe,
    module: c.modulePath,
    container: c.container,
    pod: c.pod,
    rule: c.rule,
    reason: c.reason,
    time: new Date(c.timeUnixMs).toISOString(),
    finished: c.finishedUnixMs > 0 ? new Date(c.finishedUnixMs).toISOString() : null,
    bytes: c.bytes,
    files: c.files.map((f) => ({ name: f.name, bytes: f.bytes, sha256: f.sha256 })),
    errors: c.errors,
  };
}

function captureRow(c: CaptureInfo): string[] {
  const time = new Date(c.timeUnixMs).toISOString().replace(/\.\d+Z$/, "Z");
  return [c.id, time, String(c.pid), c.name, c.rule, formatBytes(c.bytes), c.errors.length > 0 ? `${c.reason} (${c.errors.length} failed)` : c.reason];
}
const HEADER = ["ID", "TIME", "PID", "NAME", "RULE", "SIZE", "WHY"];

async function list(ctx: CommandContext): Promise<void> {
  const fleet = ctx.fleet;
  if (fleet === undefined) {
    const res = await ctx.diagnostics.listCaptures({}, { signal: ctx.signal });
    if (ctx.json) {
      for (const c of res.captures) await printJsonLine(ctx, captureJson(c, res.host));
      return;
    }
    await write(ctx.stdout, res.captures.length === 0 ? `no captures on ${res.host}\n` : renderTable(res.captures.map(captureRow), HEADER), ctx.signal);
    return;
  }
  const results = fleet.run(async (client, where) => (await client.listCaptures({}, { signal: where.signal })).captures);
  if (ctx.json) {
    const outcomes = [];
    for await (const r of results) {
      outcomes.push(r.error === undefined ? { host: r.host } : { host: r.host, error: r.error });
      if (r.error !== undefined) await printJsonLine(ctx, { host: r.host, error: { code: Status[r.error.code] ?? String(r.error.code), message: r.error.message } });
      else for (const c of r.value) await printJsonLine(ctx, captureJson(c, r.host));
    }
    return finishAcross(ctx, outcomes);
  }
  const settled = [];
  for await (const r of results) {
    settled.push(r);
    if (r.error !== undefined) await write(ctx.stderr, `${r.host}: ${Status[r.error.code] ?? r.error.code}: ${r.error.message}\n`, ctx.signal);
  }
  const rows = answeredInHostOrder(fleet, settled).flatMap(({ host, value }) => value.map((c) => [host, ...captureRow(c)]));
  await write(ctx.stdout, rows.length === 0 ? "no captures\n" : renderTable(rows, ["HOST", ...HEADER]), ctx.signal);
  await finishAcross(ctx, settled);
}

/** get and rm: on one target, or on each selected host (one line per host as it answers). */
async function perHost<T>(ctx: CommandContext, fn: (d: Diagnostics, host: string | undefined, signal: AbortSignal) => Promise<T>, line: (v: T) => string): Promise<void> {
  const fleet = ctx.fleet;
  if (fleet === undefined) {
    const v = await fn(ctx.diagnostics, undefined, ctx.signal);
    if (ctx.json) await printJsonLine(ctx, v);
    else await write(ctx.stdout, `${line(v)}\n`, ctx.signal);
    return;
  }
  const results = fleet.run((client, where) => fn(client, where.host, where.signal));
  await finishAcross(ctx, await printEachHost(ctx, results, { json: (v) => v, text: (v, host) => `${host}: ${line(v)}\n` }));
}

function outputDir(opts: { id: string; output: string | undefined }, host: string | undefined, ctx: CommandContext): string {
  const { join, resolve } = process.getBuiltinModule("node:path");
  if (host === undefined) return resolve(ctx.cwd, opts.output ?? opts.id);
  return join(resolve(ctx.cwd, opts.output ?? opts.id), host);
}

interface Saved {
  id: string;
  dir: string;
  files: number;
  bytes: number;
}

/** Streams the capture's files into dir (0700, files 0600: they hold a process's memory and stacks). */
async function save(d: Diagnostics, id: string, dir: string, signal: AbortSignal): Promise<Saved> {
  const { mkdir, open, rm } = process.getBuiltinModule("node:fs/promises");
  const { join } = process.getBuiltinModule("node:path");
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const written: string[] = [];
  let current: { name: string; fh: Awaited<ReturnType<typeof open>> } | undefined;
  let bytes = 0;
  let sawInfo = false;
  try {
    for await (const m of d.getCapture({ id }, { signal })) {
      if (m.payload?.$case === "info") {
        sawInfo = true;
        continue;
      }
      if (m.payload?.$case !== "chunk") continue;
      const { file, data } = m.payload.value;
      if (!FILE_NAME.test(file)) throw new Error(`gopsd named a capture file "${file}": refusing it`);
      if (current?.name !== file) {
        await current?.fh.close();
        current = undefined;
        if (written.includes(file)) throw new Error(`gopsd sent ${file} twice`);
        const path = join(dir, file);
        current = { name: file, fh: await open(path, "wx", 0o600) };
        written.push(path);
      }
      await current.fh.write(data);
      bytes += data.length;
    }
    if (!sawInfo) throw new Error(`gopsd sent no description of capture ${id}`);
  } catch (e) {
    await current?.fh.close().catch(() => undefined);
    current = undefined;
    for (const p of written) await rm(p, { force: true });
    throw e;
  } finally {
    await current?.fh.close();
  }
  return { id, dir, files: written.length, bytes };
}
