// The shared body of the capture commands (trace, pprof-cpu, pprof-heap, binary): read the stream's metadata, write the
// bytes to -o FILE or a default name in the working directory (with a progress line on a terminal's stderr),
// and hand the saved capture to the command, which reports on it. Across hosts, one file per host named after it.
import { join, resolve } from "node:path";
import { parseDurationMs } from "../common/duration.js";
import { shellQuote } from "../common/shell-quote.js";
import { CaptureKind, type CaptureMetadata } from "../proto/index.js";
import type { Diagnostics } from "../client/index.js";
import type { CallSite, CommandContext } from "./command.js";
import { parseOnlyPid } from "./arguments.js";
import { defaultCaptureName, hostCaptureName, writeCaptureFile } from "./capture-file.js";
import { UsageError } from "./errors.js";
import { printJson, write } from "./output/index.js";
import type { FlagSpec } from "./parse-argv.js";
import { progressFor, type Progress } from "./progress.js";

export interface CaptureOptions {
  pid: number;
  /** -o FILE; undefined = default name in the working directory. */
  output: string | undefined;
  /** --duration in whole seconds (CPU profiles and traces); undefined = the backend's default. */
  durationSeconds?: number | undefined;
}

type CaptureMessage = { payload: { $case: "metadata"; value: CaptureMetadata } | { $case: "chunk"; value: Buffer } | undefined };

export interface CaptureKindSpec {
  /** Used in default file names and JSON: "cpu", "heap", "trace", "binary". */
  kind: string;
  /** For messages: "CPU profile". */
  what: string;
  /** Extension when gopsd suggests none ("" for none at all). */
  defaultExtension: string;
  /** `durationSeconds`: --duration (kinds that take one), undefined = the backend's default. */
  start(diagnostics: Diagnostics, pid: number, signal: AbortSignal, durationSeconds?: number): AsyncIterable<CaptureMessage>;
}

/** A capture that a Go tool opens (`go tool pprof FILE`), which the plain report names. */
export interface ToolCaptureKindSpec extends CaptureKindSpec {
  /** The Go tool that opens the file: "pprof". */
  goTool: string;
}

/** A capture written to disk, with its bytes kept for reports. */
export interface SavedCapture {
  pid: number;
  /** The file as the user named it (-o) or the default name, relative to the working directory. */
  display: string;
  /** The absolute path. */
  path: string;
  bytes: number;
  /** The file's content. */
  data: Buffer;
  metadata: CaptureMetadata;
}

/** -o: where a capture goes. */
export const OUTPUT_FLAG: FlagSpec = {
  name: "output",
  short: "o",
  value: "FILE",
  help: "the capture's file (default <pid>-<kind>-<date>-<time>...; across hosts: the directory for the hosts' files)",
};

/** The positional arguments of a capture command: exactly one pid. */
export function parseCaptureArgs(args: readonly string[], output: string | undefined): CaptureOptions {
  return { pid: parseOnlyPid(args), output };
}

/** Runs the capture into its file; the partial file is removed when the call fails or is aborted (Ctrl-C). */
export function saveCapture(kind: CaptureKindSpec, opts: CaptureOptions, ctx: CommandContext): Promise<SavedCapture> {
  return streamToFile(kind, kind.start(ctx.diagnostics, opts.pid, ctx.signal, opts.durationSeconds), {
    pid: opts.pid,
    name: (ext, kindName) => opts.output ?? defaultCaptureName(opts.pid, kindName, ctx.now(), ext),
    cwd: ctx.cwd,
    signal: ctx.signal,
    progress: (metadata) => progressFor(ctx, `${kind.what} of pid ${opts.pid}`, metadata.expectedDurationMs),
  });
}

/** Across hosts: where the files go (-o DIR, else the working directory) and the one time stamp in their names. */
export interface HostCapturePlace {
  /** As the user gave it (-o), or "" for the working directory. */
  dir: string;
  cwd: string;
  now: Date;
}

/** Across hosts: -o DIR (created with its parents when missing), else the working directory, and the time stamp. */
export async function hostCapturePlace(output: string | undefined, ctx: Pick<CommandContext, "cwd" | "now">): Promise<HostCapturePlace> {
  const place = { dir: output ?? "", cwd: ctx.cwd, now: ctx.now() };
  if (place.dir !== "") await process.getBuiltinModule("node:fs/promises").mkdir(resolve(place.cwd, place.dir), { recursive: true });
  return place;
}

/** One host's capture into `<dir>/<host>-<pid>-<kind>-<time><ext>`, written as it streams (removed on failure). */
export function saveHostCapture(
  kind: CaptureKindSpec,
  client: Diagnostics,
  pid: number,
  where: { host: string; signal: AbortSignal },
  place: HostCapturePlace,
  durationSeconds?: number,
): Promise<SavedCapture> {
  return streamToFile(kind, kind.start(client, pid, where.signal, durationSeconds), {
    pid,
    name: (ext, kindName) => join(place.dir, hostCaptureName(where.host, pid, kindName, place.now, ext)),
    cwd: place.cwd,
    signal: where.signal,
  });
}

/** The kind's word in file names, from what gopsd says it captured: <pid>-<word>-<date>-<time><ext>. */
const CAPTURE_FILE_KINDS: ReadonlyMap<CaptureKind, string> = new Map([
  [CaptureKind.CAPTURE_KIND_CPU_PROFILE, "cpu"],
  [CaptureKind.CAPTURE_KIND_HEAP_PROFILE, "heap"],
  [CaptureKind.CAPTURE_KIND_TRACE, "trace"],
  [CaptureKind.CAPTURE_KIND_BINARY, "binary"],
  [CaptureKind.CAPTURE_KIND_ALLOCS_PROFILE, "allocs"],
  [CaptureKind.CAPTURE_KIND_BLOCK_PROFILE, "block"],
  [CaptureKind.CAPTURE_KIND_MUTEX_PROFILE, "mutex"],
  [CaptureKind.CAPTURE_KIND_GOROUTINE_PROFILE, "goroutine"],
  [CaptureKind.CAPTURE_KIND_THREADCREATE_PROFILE, "threadcreate"],
]);

interface StreamToFileOptions {
  pid: number;
  /** The file's name (relative to cwd, or absolute) once the extension and the kind (from the metadata) are known. */
  name: (ext: string, kindName: string) => string;
  cwd: string;
  signal: AbortSignal;
  progress?: (metadata: CaptureMetadata) => Progress | undefined;
}

async function streamToFile(kind: CaptureKindSpec, messages: AsyncIterable<CaptureMessage>, opts: StreamToFileOptions): Promise<SavedCapture> {
  const stream = messages[Symbol.asyncIterator]();
  const first = await stream.next();
  if (first.done === true || first.value.payload?.$case !== "metadata") {
    await stream.return?.();
    throw new Error(`gopsd did not start the ${kind.what} stream with its metadata`);
  }
  const metadata = first.value.payload.value;
  const ext = metadata.fileExtension !== "" ? metadata.fileExtension : kind.defaultExtension;
  const display = opts.name(ext, CAPTURE_FILE_KINDS.get(metadata.kind) ?? kind.kind);
  const path = resolve(opts.cwd, display);
  const progress = opts.progress?.(metadata);

  const received: Buffer[] = [];
  let count = 0;
  async function* chunks(): AsyncGenerator<Uint8Array> {
    for (let r = await stream.next(); r.done !== true; r = await stream.next()) {
      if (r.value.payload?.$case !== "chunk") continue;
      const chunk = r.value.payload.value;
      received.push(chunk);
      count += chunk.length;
      progress?.received(count);
      yield chunk;
    }
  }
  let bytes: number;
  try {
    bytes = await writeCaptureFile(path, chunks(), opts.signal);
  } finally {
    progress?.stop();
    await stream.return?.(); // ends the call when writing failed before the stream did
  }
  return { pid: opts.pid, display, path, bytes, data: Buffer.concat(received, count), metadata };
}

/** The plain report: the file's name on stdout and how to open it on stderr; `{pid, kind, path, bytes}` with --json. */
export async function printSavedCapture(kind: ToolCaptureKindSpec, saved: SavedCapture, ctx: CommandContext): Promise<void> {
  if (ctx.json) {
    await printJson(ctx, { pid: saved.pid, kind: kind.kind, path: saved.path, bytes: saved.bytes });
    return;
  }
  await write(ctx.stdout, `${saved.display}\n`, ctx.signal);
  await printOpenHint(kind, saved, ctx);
}

/** How to open the saved file, on stderr. */
export async function printOpenHint(kind: ToolCaptureKindSpec, saved: SavedCapture, ctx: CommandContext): Promise<void> {
  await write(ctx.stderr, `view it with: go tool ${kind.goTool} ${shellQuote(saved.display)}\n`, ctx.signal);
}

/** An error met while reporting on a capture that is safely on disk: say where it is. */
export function afterSaving(saved: SavedCapture, err: unknown): Error {
  const message = err instanceof Error ? err.message : String(err);
  return new Error(`saved ${saved.display}, but ${message}`, { cause: err });
}

/** Across hosts, the one place (and time stamp) of a run's files, made once per run. */
const places = new WeakMap<CommandContext, Promise<HostCapturePlace>>();

/**
 * The call of a capture summarised in one line per saved file: on one target into -o FILE or the default name
 * (with a progress line), across hosts into `<dir>/<host>-<pid>-<kind>-<time><ext>`. `describe` turns a saved
 * capture into its line and its JSON (only these are kept, not the bytes).
 */
export function summarizedCapture<D extends { line: string; json: unknown }>(kind: CaptureKindSpec, describe: (saved: SavedCapture) => D) {
  return {
    call: async (diagnostics: Diagnostics, opts: CaptureOptions, site: CallSite): Promise<D> => {
      if (site.host === undefined) return describe(await saveCapture(kind, opts, site.ctx));
      let place = places.get(site.ctx);
      if (place === undefined) places.set(site.ctx, (place = hostCapturePlace(opts.output, site.ctx)));
      return describe(await saveHostCapture(kind, diagnostics, opts.pid, { host: site.host, signal: site.signal }, await place, opts.durationSeconds));
    },
    render: { text: (d: D) => `${d.line}\n`, json: (d: D) => d.json, across: { kind: "lines" as const } },
  };
}

/** Longest capture a backend is asked for (StreamProfile/StreamTrace duration_seconds: 1..600). */
export const MAX_CAPTURE_SECONDS = 600;

/** --duration on pprof-cpu and trace: how long to profile or trace (a net/http/pprof endpoint; gops agents are fixed). */
export function durationFlag(defaultText: string): FlagSpec {
  return {
    name: "duration",
    value: "DUR",
    help: `how long to capture, whole seconds from 1s to 10m (e.g. 10s, 2m; default ${defaultText}); a gops agent only does its default`,
  };
}

/**
 * --duration's text (Go syntax or a number of seconds) as whole seconds 1..600; undefined when not given (the
 * backend's default). Anything else is a UsageError.
 */
export function parseCaptureDuration(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = parseDurationMs(text);
  if (ms === undefined || !Number.isFinite(ms)) throw new UsageError(`invalid --duration "${text}" (want e.g. 10s, 2m or a number of seconds)`);
  if (ms % 1000 !== 0 || ms < 1000 || ms > MAX_CAPTURE_SECONDS * 1000) {
    throw new UsageError(`invalid --duration "${text}" (want whole seconds from 1s to 10m)`);
  }
  return ms / 1000;
}
