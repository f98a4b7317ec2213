// `gopsctl top`: the Go runtime of every process of a host or a fleet, live. Each host streams WatchStats samples;
// a frame is drawn once every host being watched has sent its sample for the interval (or 1.5 intervals after
// the previous frame, for a host that lags). On a terminal: full screen, redrawn in place, sort keys, q quits.
// Elsewhere: one table per interval (blank line between), or with --json one NDJSON line per interval.
// Outliers (analysis/outliers.ts) are marked with ! in the table and listed in JSON (`"outlier": ["goroutines"]`).
import { formatDurationMs } from "../../common/duration.js";
import { Status } from "../../common/errors.js";
import { escapeLine } from "../../common/escape-text.js";
import { summarize, type HostResult } from "../../client/fleet/fan-out.js";
import type { WatchStatsResponse } from "../../proto/index.js";
import { parsePid } from "../arguments.js";
import { defineCommand, type CommandContext } from "../command.js";
import { parseDuration } from "../duration.js";
import { HostsFailedError, UsageError } from "../errors.js";
import { printJsonLine, write } from "../output/index.js";
import { flagValue } from "../parse-argv.js";
import { MARK, parseSort, renderTopTable, rowJson, SORT_BY_KEY, SORT_KEYS, TopModel, type TopSort } from "../top/top-model.js";
import { TopScreen } from "../top/top-screen.js";

export interface TopOptions {
  sort: TopSort;
  intervalMs: number;
  /** Stop after this many frames; undefined = until q / Ctrl-C. */
  iterations: number | undefined;
  pids: number[];
}

const MIN_INTERVAL_MS = 500;
const MAX_INTERVAL_MS = 3_600_000;

export const spec = defineCommand<TopOptions>({
  name: "top",
  args: "[--sort KEY] [--interval DUR] [--iterations N] [--pid PID,...]",
  summary: "live view of the Go runtime of every process (goroutines, heap, GC, CPU), outliers marked",
  flags: [
    { name: "sort", value: "KEY", help: "sort by cpu (default), rss, heap, goroutines or pause (GC pause in the last interval), largest first" },
    { name: "interval", value: "DUR", help: "time between samples (default 1s, at least 500ms)" },
    { name: "iterations", value: "N", help: "stop after N refreshes (default: until q or Ctrl-C)" },
    { name: "pid", value: "PID,...", repeatable: true, help: "only these processes (comma list or repeated; across hosts, on every host)" },
  ],
  details: [
    "On a terminal: full screen, refreshed in place. Keys: c cpu, m rss, h heap, g goroutines, p GC pause (sort); q quits.",
    "Not on a terminal: one table per interval; with --json one NDJSON line per interval ({time, processes:[...]}).",
    "Columns: CPU% over the interval (from /proc), RSS, threads, goroutines and +/- since top started, heap in use,",
    "  heap objects, GC cycles and total GC pause in the interval, GC CPU %, GOGC, GOMAXPROCS, VIA (agent or pprof).",
    `Marks: ${MARK.outlier} outlier among the processes of the same program (main module) across the hosts watched, on`,
    `  goroutines, heap or pause (robust z-score > 3.5, at least 3 processes; see README); ${MARK.stale} stale (the agent did`,
    `  not answer in time or is busy with a capture: last known value); ${MARK.unknown} unknown (no agent, or not told).`,
    "Across hosts (--hosts, -l, --all) rows gain a HOST column and are sorted across the fleet.",
  ],
  parse(args, parsed) {
    if (args.length > 0) throw new UsageError(`top takes no arguments, got "${args[0]}" (use --pid)`);
    const sortText = flagValue(parsed, "sort") ?? "cpu";
    const sort = parseSort(sortText);
    if (sort === undefined) throw new UsageError(`invalid --sort "${sortText}" (want one of: ${SORT_KEYS.join(", ")})`);
    const intervalText = flagValue(parsed, "interval");
    const intervalMs = intervalText === undefined ? 1000 : Math.ceil(parseDuration(intervalText, "interval"));
    if (intervalMs < MIN_INTERVAL_MS || intervalMs > MAX_INTERVAL_MS) {
      throw new UsageError(`invalid --interval "${intervalText}": use ${formatDurationMs(MIN_INTERVAL_MS)} to 1h`);
    }
    const itText = flagValue(parsed, "iterations");
    let iterations: number | undefined;
    if (itText !== undefined) {
      iterations = /^\d+$/.test(itText) ? Number(itText) : NaN;
      if (!(iterations >= 1 && iterations <= 1_000_000)) throw new UsageError(`invalid --iterations "${itText}" (want a whole number from 1)`);
    }
    const pids = (parsed.values.get("pid") ?? []).flatMap((v) => v.split(",")).filter((v) => v !== "").map(parsePid);
    return { sort, intervalMs, iterations, pids };
  },
  // A live view has no deadline of its own (--timeout still sets one).
  defaultTimeoutMs: () => undefined,
  run: runTop,
});
export const run = spec.run;

/** Where the keys come from on a terminal (tests pass their own). */
export interface TopIO {
  stdin: NodeJS.ReadStream | import("../top/top-screen.js").KeyInput;
}

export async function runTop(opts: TopOptions, ctx: CommandContext, io: TopIO = { stdin: process.stdin }): Promise<void> {
  const stop = new AbortController();
  const signal = AbortSignal.any([ctx.signal, stop.signal]);
  const model = new TopModel();
  const across = ctx.fleet !== undefined;
  const req = { intervalMs: opts.intervalMs, pids: opts.pids };
  let sort = opts.sort;
  let frames = 0;
  const live = new Set<string>(across ? ctx.fleet!.hosts.map((h) => h.name) : ["."]);
  const fresh = new Set<string>();
  let lagTimer: NodeJS.Timeout | undefined;
  let lastFrameAt = 0;
  const errors: HostResult<unknown>[] = [];
  let output: Promise<void> = Promise.resolve();

  const fullScreen = ctx.isTTY && !ctx.json;
  const screen = fullScreen
    ? new TopScreen(
        io.stdin as import("../top/top-screen.js").KeyInput,
        ctx.stdout as unknown as import("../top/top-screen.js").ScreenOutput,
        (key) => {
          if (key === "q" || key === "\x03") stop.abort();
          const s = SORT_BY_KEY[key];
          if (s !== undefined) {
            sort = s;
            redraw();
          }
        },
        () => redraw(),
      )
    : undefined;

  function screenLines(): string[] {
    const rows = model.rows(sort);
    const hosts = across ? `${live.size}/${ctx.fleet!.hosts.length} hosts` : "";
    const title = `gopsctl top  ${ctx.now().toISOString().slice(11, 19)}  ${rows.length} processes ${hosts}  every ${formatDurationMs(opts.intervalMs)}  sort: ${sort}`;
    const keys = "keys: c cpu  m rss  h heap  g goroutines  p pause  q quit";
    const legend = `${MARK.outlier} outlier within its program  ${MARK.stale} stale  ${MARK.unknown} unknown`;
    const problems = [...model.hostErrors].map(([h, why]) => `${h}: ${why}`);
    const table = renderTopTable(rows, across).split("\n").filter((l) => l !== "");
    const height = screen!.rows;
    const room = Math.max(2, height - 3 - problems.length);
    const shown = table.slice(0, room);
    return [title, ...shown, "", ...problems, `${legend}   ${keys}`].slice(0, height);
  }

  function redraw(): void {
    if (screen) screen.draw(screenLines());
  }

  function frame(): void {
    clearTimeout(lagTimer);
    lagTimer = undefined;
    fresh.clear();
    lastFrameAt = Date.now();
    frames++;
    if (screen) redraw();
    else if (ctx.json) {
      const rows = model.rows(sort);
      const line = { time: ctx.now().toISOString(), seq: frames, processes: rows.map(rowJson), errors: [...model.hostErrors].map(([host, message]) => ({ host, message })) };
      output = output.then(() => printJsonLine(ctx, line));
    } else {
      const text = renderTopTable(model.rows(sort), across);
      const sep = frames > 1 ? "\n" : "";
      output = output.then(() => write(ctx.stdout, sep + text, signal).catch(() => undefined));
    }
    if (opts.iterations !== undefined && frames >= opts.iterations) stop.abort();
  }

  function onSample(host: string, sample: WatchStatsResponse): void {
    if (stop.signal.aborted) return;
    model.update(across ? host : sample.host, sample);
    fresh.add(host);
    if ([...live].every((h) => fresh.has(h))) frame();
    else lagTimer ??= setTimeout(frame, Math.max(0, lastFrameAt + opts.intervalMs * 1.5 - Date.now()));
  }

  function onHostGone(host: string): void {
    live.delete(host);
    fresh.delete(host);
    if (live.size > 0 && fresh.size > 0 && [...live].every((h) => fresh.has(h))) frame();
    else if (live.size === 0) stop.abort();
    else if (screen) redraw();
  }

  screen?.start();
  try {
    if (!across) {
      try {
        for await (const s of ctx.diagnostics.watchStats(req, { signal })) onSample(".", s);
      } catch (e) {
        if (!stop.signal.aborted) throw e;
      }
    } else {
      const fleet = ctx.fleet!;
      const results = fleet.run(
        async (client, t) => {
          for await (const s of client.watchStats(req, { signal: t.signal })) onSample(t.host, s);
          if (!stop.signal.aborted) throw new Error("gopsd ended the stream");
        },
        { concurrency: Math.max(1, fleet.hosts.length), signal },
      );
      for await (const r of results) {
        if (r.error === undefined || stop.signal.aborted) continue;
        errors.push(r);
        const why = `${Status[r.error.code] ?? r.error.code}: ${escapeLine(r.error.message)}`;
        model.hostFailed(r.host, why);
        if (!screen && !ctx.json) await write(ctx.stderr, `${r.host}: ${why}\n`, ctx.signal);
        onHostGone(r.host);
      }
    }
  } finally {
    clearTimeout(lagTimer);
    screen?.close();
  }
  await output;
  ctx.signal.throwIfAborted();
  if (errors.length > 0) {
    const line = summarize([...errors, ...[...live].map((host) => ({ host, value: null, elapsedMs: 0 }))]);
    await write(ctx.stderr, `${line}\n`, ctx.signal);
    throw new HostsFailedError(errors[0]!.error!.code, line, errors[0]!.error!.reason);
  }
}
