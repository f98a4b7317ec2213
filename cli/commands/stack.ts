// `gopsctl stack <pid> [--summary]`: the goroutine dump, written to stdout chunk by chunk as it arrives; or, with
// --summary, its goroutines grouped by identical stack, largest group first.
import { formatStackSummary, summarizeStacks } from "../../analysis/index.js";
import { parseOnlyPid } from "../arguments.js";
import { DEFAULT_TIMEOUT_MS, type CommandContext, type CommandSpec } from "../command.js";
import { printJson, write } from "../output/index.js";
import { progressFor } from "../progress.js";

export interface StackOptions {
  pid: number;
  /** --summary: groups instead of the raw dump. */
  summary: boolean;
}

export const spec: CommandSpec<StackOptions> = {
  name: "stack",
  args: "<pid> [--summary]",
  summary: "print the stack traces of all goroutines; --summary groups identical ones",
  flags: ["summary"],
  details: [
    "Streams the agent's dump as it arrives (--json: {pid, stack}).",
    "--summary: one block per group of goroutines with the same stack: count, states, wait times, top frames and",
    "  where they were created, largest group first (--json: {pid, goroutines, groups}).",
    "On a terminal's stderr, the bytes received are shown while a big dump arrives into a file or --summary.",
  ],
  parse: (args, _options, parsed) => ({ pid: parseOnlyPid(args), summary: parsed.given.has("summary") }),
  defaultTimeoutMs: () => DEFAULT_TIMEOUT_MS,
  run,
};

export async function run(opts: StackOptions, ctx: CommandContext): Promise<void> {
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
    await printJson(ctx, { pid: opts.pid, goroutines: groups.reduce((sum, g) => sum + g.count, 0), groups });
    return;
  }
  await write(ctx.stdout, formatStackSummary(groups), ctx.signal);
}
