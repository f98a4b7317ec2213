// `gopsctl stack <pid>`: the goroutine dump, written to stdout chunk by chunk as it arrives.
import { parseOnlyPid } from "../arguments.js";
import { DEFAULT_TIMEOUT_MS, type CommandContext, type CommandSpec } from "../command.js";
import { printJson, write } from "../output/index.js";

export interface StackOptions {
  pid: number;
}

export const spec: CommandSpec<StackOptions> = {
  name: "stack",
  args: "<pid>",
  summary: "print the stack traces of all goroutines",
  parse: (args) => ({ pid: parseOnlyPid(args) }),
  defaultTimeoutMs: () => DEFAULT_TIMEOUT_MS,
  run,
};

export async function run(opts: StackOptions, ctx: CommandContext): Promise<void> {
  const stream = ctx.diagnostics.stack({ pid: opts.pid }, { signal: ctx.signal });
  if (!ctx.json) {
    for await (const msg of stream) await write(ctx.stdout, msg.chunk, ctx.signal);
    return;
  }
  const chunks: Buffer[] = [];
  for await (const msg of stream) chunks.push(msg.chunk);
  await printJson(ctx, { pid: opts.pid, stack: Buffer.concat(chunks).toString("utf8") });
}
