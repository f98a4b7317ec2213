// The shared body of the capture commands (trace, pprof-cpu, pprof-heap): read the stream's metadata, write the
// bytes to -o FILE or a default name in the working directory, print where they went and how to look at them.
import { resolve } from "node:path";
import type { CaptureMetadata } from "../proto/index.js";
import type { Diagnostics } from "../client/index.js";
import type { CommandContext, CommandSpec } from "./command.js";
import { parseOnlyPid } from "./arguments.js";
import { defaultCaptureName, writeCaptureFile } from "./capture-file.js";
import { formatGoDuration } from "./duration.js";
import { printJson, write } from "./output/index.js";

export interface CaptureOptions {
  pid: number;
  /** -o FILE; undefined = default name in the working directory. */
  output: string | undefined;
}

type CaptureMessage = { payload: { $case: "metadata"; value: CaptureMetadata } | { $case: "chunk"; value: Buffer } | undefined };

export interface CaptureKindSpec {
  /** Used in default file names and JSON: "cpu", "heap", "trace". */
  kind: string;
  /** For messages: "CPU profile". */
  what: string;
  /** Extension when gopsd suggests none. */
  defaultExtension: string;
  /** The Go tool that opens the file: "pprof" or "trace". */
  goTool: string;
  start(diagnostics: Diagnostics, pid: number, signal: AbortSignal): AsyncIterable<CaptureMessage>;
}

export function captureSpec(
  name: string,
  summary: string,
  run: (opts: CaptureOptions, ctx: CommandContext) => Promise<void>,
): CommandSpec<CaptureOptions> {
  return {
    name,
    args: "<pid> [-o FILE]",
    summary,
    flags: ["output"],
    parse: (args, options) => ({ pid: parseOnlyPid(args), output: options.output }),
    // A capture takes as long as it takes (a CPU profile 30 s); bound it with --timeout if wanted.
    defaultTimeoutMs: () => undefined,
      run,
  };
}

export async function runCapture(kind: CaptureKindSpec, opts: CaptureOptions, ctx: CommandContext): Promise<void> {
  const stream = kind.start(ctx.diagnostics, opts.pid, ctx.signal)[Symbol.asyncIterator]();
  const first = await stream.next();
  if (first.done === true || first.value.payload?.$case !== "metadata") {
    await stream.return?.();
    throw new Error(`gopsd did not start the ${kind.what} stream with its metadata`);
  }
  const meta = first.value.payload.value;
  const ext = meta.fileExtension !== "" ? meta.fileExtension : kind.defaultExtension;
  const display = opts.output ?? defaultCaptureName(opts.pid, kind.kind, ctx.now(), ext);
  const path = resolve(ctx.cwd, display);
  if (ctx.isTTY && !ctx.json && meta.expectedDurationMs > 0) {
    await write(ctx.stderr, `capturing a ${formatGoDuration(meta.expectedDurationMs)} ${kind.what} of pid ${opts.pid}...\n`, ctx.signal);
  }

  async function* chunks(): AsyncGenerator<Uint8Array> {
    for (let r = await stream.next(); r.done !== true; r = await stream.next()) {
      if (r.value.payload?.$case === "chunk") yield r.value.payload.value;
    }
  }
  let bytes: number;
  try {
    bytes = await writeCaptureFile(path, chunks(), ctx.signal);
  } finally {
    await stream.return?.(); // ends the call when writing failed before the stream did
  }

  if (ctx.json) {
    await printJson(ctx, { pid: opts.pid, kind: kind.kind, path, bytes });
    return;
  }
  await write(ctx.stdout, `${display}\n`, ctx.signal);
  await write(ctx.stderr, `view it with: go tool ${kind.goTool} ${shellQuote(display)}\n`, ctx.signal);
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
