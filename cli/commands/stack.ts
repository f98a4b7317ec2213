// `gopsctl stack <pid> [--summary]`: the goroutine dump, written to stdout chunk by chunk as it arrives; or, with
// --summary, its goroutines grouped by identical stack, largest group first. Across hosts: each host's dump as it
// arrives (a `==> host <==` block), or the groups fleet-wide with per-host counts.
import { formatStackSummary, mergeStackSummaries, summarizeStacks } from "../../analysis/index.js";
import type { Diagnostics } from "../../client/index.js";
import { parseOnlyPid } from "../arguments.js";
import { defineCommand, type CommandContext } from "../command.js";
import { printJson, printJsonLine, write } from "../output/index.js";
import { answeredInHostOrder, eachHost, finishAcross, hostHeading } from "../run-command.js";
import { progressFor } from "../progress.js";

export interface StackOptions {
  pid: number;
  /** --summary: groups instead of the raw dump. */
  summary: boolean;
}

// Its own runner: on one target the dump streams to stdout as it arrives (dumps can be large).
export const spec = defineCommand<StackOptions>({
  name: "stack",
  args: "<pid> [--summary]",
  summary: "print the stack traces of all goroutines; --summary groups identical ones",
  flags: [{ name: "summary", help: "goroutines grouped by identical stack, largest group first, instead of the raw dump" }],
  details: [
    "Streams the agent's dump as it arrives (--json: {pid, stack}).",
    "--summary: one block per group of goroutines with the same stack: count, states, wait times, top frames and",
    "  where they were created, largest group first (--json: {pid, goroutines, groups}).",
    "On a terminal's stderr, the bytes received are shown while a big dump arrives into a file or --summary.",
    "Across hosts (the pid applies on every host): each host's dump under a `==> host <==` line as it arrives",
    "  (NDJSON {host, value: {pid, stack}}); --summary groups fleet-wide with per-host counts (NDJSON: each host's",
    "  {pid, goroutines, groups} as it arrives, then one {merged: {pid, hosts, goroutines, groups}} line).",
  ],
  parse: (args, parsed) => ({ pid: parseOnlyPid(args), summary: parsed.given.has("summary") }),
  run,
});

export async function run(opts: StackOptions, ctx: CommandContext): Promise<void> {
  if (ctx.fleet !== undefined) return runAcross(opts, ctx);
  const stream = ctx.diagnostics.stack({ pid: opts.pid }, { signal: ctx.signal });
  // Not while the raw dump scrolls by on the same terminal.
  const progress = opts.summary || !ctx.isTTY ? progressFor(ctx, `goroutine dump of pid ${opts.pid}`, 0) : undefined;
  const chunks: Buffer[] = [];
  let bytes = 0;
  try {
    for await (const msg of stream) {
      bytes += msg.chunk.length;
      progress?.received(bytes);
      if (!ctx.json && !opts.summary) await write(ctx.stdout, msg.chunk, ctx.signal);
      else chunks.push(msg.chunk);
    }
  } finally {
    progress?.stop();
  }
  if (!ctx.json && !opts.summary) return;
  const text = Buffer.concat(chunks, bytes).toString("utf8");
  if (!opts.summary) {
    await printJson(ctx, { pid: opts.pid, stack: text });
    return;
  }
  const groups = summarizeStacks(text);
  if (ctx.json) {
    await printJson(ctx, { pid: opts.pid, goroutines: countGoroutines(groups), groups });
    return;
  }
  await write(ctx.stdout, formatStackSummary(groups), ctx.signal);
}

/** A host's whole dump, as text. */
async function dumpOf(client: Diagnostics, pid: number, signal: AbortSignal): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const msg of client.stack({ pid }, { signal })) chunks.push(msg.chunk);
  return Buffer.concat(chunks).toString("utf8");
}

async function runAcross(opts: StackOptions, ctx: CommandContext): Promise<void> {
  const fleet = ctx.fleet!;
  if (!opts.summary) {
    const settled = await eachHost(ctx, fleet.run((client, { signal }) => dumpOf(client, opts.pid, signal)), {
      json: (stack) => ({ pid: opts.pid, stack }),
      text: (stack, host) => `${hostHeading(host)}${stack}${stack.endsWith("\n") ? "" : "\n"}\n`,
    });
    await finishAcross(ctx, settled);
    return;
  }
  // Each host's dump is summarised as it arrives; only the groups are kept.
  const settled = await eachHost(
    ctx,
    fleet.run(async (client, { signal }) => summarizeStacks(await dumpOf(client, opts.pid, signal))),
    { json: (groups) => ({ pid: opts.pid, goroutines: countGoroutines(groups), groups }) },
  );
  const perHost = new Map(answeredInHostOrder(fleet, settled).map(({ host, value }) => [host, value]));
  const merged = mergeStackSummaries(perHost);
  if (ctx.json) {
    await printJsonLine(ctx, { merged: { pid: opts.pid, hosts: [...perHost.keys()], goroutines: countGoroutines(merged), groups: merged } });
  } else {
    await write(ctx.stdout, formatStackSummary(merged), ctx.signal);
  }
  await finishAcross(ctx, settled);
}

function countGoroutines(groups: readonly { count: number }[]): number {
  return groups.reduce((sum, g) => sum + g.count, 0);
}
