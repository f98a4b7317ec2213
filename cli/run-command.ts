// The one runner of commands that ask each target one thing: on one target (this machine, or one gopsd) the
// answer's text or JSON; across hosts each host's result as it settles (an NDJSON line `{"host":..,"value":..}` or
// `{"host":..,"error":{"code":"DEADLINE_EXCEEDED","message":..,"afterMs":..}}` with --json; else the host's
// section or line, or nothing until the table; each failure on stderr), then the summary line on stderr
// (`31/32 hosts ok; web-7: DEADLINE_EXCEEDED after 5s`) and a HostsFailedError when any host failed (exit code:
// the first failure's status). Commands with their own runner use eachHost and finishAcross for the same output.
import { summarize, type HostResult } from "../client/fleet/fan-out.js";
import { Status } from "../common/errors.js";
import type { AskCommand, CommandContext, FleetRunner } from "./command.js";
import { HostsFailedError } from "./errors.js";
import { printJson, printJsonLine, write } from "./output/index.js";

export async function runAsk<O, A>(cmd: AskCommand<O, A>, opts: O, ctx: CommandContext): Promise<void> {
  const { render } = cmd;
  const fleet = ctx.fleet;
  if (fleet === undefined) {
    const answer = await cmd.call(ctx.diagnostics, opts, { host: undefined, signal: ctx.signal, ctx });
    if (ctx.json) return printJson(ctx, render.json(answer, opts));
    await write(ctx.stdout, render.text(answer, opts), ctx.signal);
    return printNotes(ctx, render.notes?.([answer], opts, ctx));
  }
  const across = render.across ?? { kind: "sections" };
  const results = fleet.run((client, where) => cmd.call(client, opts, { host: where.host, signal: where.signal, ctx }));
  // NDJSON needs nothing after each line is out: no host's answer is kept (1,000 hosts' answers need not be held).
  if (ctx.json) return finishAcross(ctx, await printEachHost(ctx, results, { json: (answer) => render.json(answer, opts) }));
  const settled = await eachHost(ctx, results, {
    json: (answer) => render.json(answer, opts),
    ...(across.kind === "table"
      ? {}
      : {
          text: (answer: A, host: string) => {
            const text = render.text(answer, opts, host);
            return across.kind === "lines" || text === "" ? text : `${hostHeading(host)}${text}\n`;
          },
        }),
  });
  const answered = answeredInHostOrder(fleet, settled);
  if (across.kind === "table") await write(ctx.stdout, across.table(answered, opts), ctx.signal);
  await printNotes(ctx, render.notes?.(answered.map((a) => a.value), opts, ctx));
  await finishAcross(ctx, settled);
}

async function printNotes(ctx: CommandContext, notes: readonly string[] | undefined): Promise<void> {
  if (notes !== undefined && notes.length > 0) await write(ctx.stderr, notes.map((n) => `${n}\n`).join(""), ctx.signal);
}

export interface HostView<T> {
  /** The NDJSON line's `value` for a host. */
  json(value: T, host: string): unknown;
  /** Text mode: this host's text, printed as it settles; absent = nothing until the command prints its table. */
  text?(value: T, host: string): string;
}

/** Prints each result as it arrives and returns them all, in arrival order. */
export async function eachHost<T>(ctx: CommandContext, results: AsyncIterable<HostResult<T>>, view: HostView<T>): Promise<HostResult<T>[]> {
  const settled: HostResult<T>[] = [];
  for await (const r of results) {
    settled.push(r);
    await printHostResult(ctx, r, view);
  }
  return settled;
}

/** Which host settled how, without its answer. */
export type HostOutcome = Pick<HostResult<unknown>, "host" | "error">;

/** Prints each result as it arrives, keeping only who failed (for finishAcross): memory does not grow with answers. */
export async function printEachHost<T>(ctx: CommandContext, results: AsyncIterable<HostResult<T>>, view: HostView<T>): Promise<HostOutcome[]> {
  const outcomes: HostOutcome[] = [];
  for await (const r of results) {
    outcomes.push(r.error === undefined ? { host: r.host } : { host: r.host, error: r.error });
    await printHostResult(ctx, r, view);
  }
  return outcomes;
}

async function printHostResult<T>(ctx: CommandContext, r: HostResult<T>, view: HostView<T>): Promise<void> {
  if (ctx.json) await printJsonLine(ctx, hostResultJson(r, view.json));
  else if (r.error !== undefined) await write(ctx.stderr, `${r.host}: ${statusName(r.error.code)}: ${r.error.message}\n`, ctx.signal);
  else if (view.text !== undefined) await write(ctx.stdout, view.text(r.value, r.host), ctx.signal);
}

function hostResultJson<T>(r: HostResult<T>, json: (value: T, host: string) => unknown): unknown {
  if (r.error !== undefined) {
    const { code, reason, message, afterMs } = r.error;
    return { host: r.host, error: { code: statusName(code), ...(reason !== undefined ? { reason } : {}), message, afterMs } };
  }
  return { host: r.host, value: json(r.value, r.host) };
}

/** The summary line on stderr; throws HostsFailedError when a host failed (or the run's abort reason on Ctrl-C). */
export async function finishAcross(ctx: CommandContext, settled: readonly HostOutcome[]): Promise<void> {
  ctx.signal.throwIfAborted();
  const line = summarize(settled);
  await write(ctx.stderr, `${line}\n`, ctx.signal);
  const failed = settled.find((r) => r.error !== undefined);
  if (failed?.error !== undefined) throw new HostsFailedError(failed.error.code, line, failed.error.reason);
}

/** The hosts that answered, in selection order (for tables), with their values. */
export function answeredInHostOrder<T>(fleet: FleetRunner, settled: readonly HostResult<T>[]): { host: string; value: T }[] {
  const order = new Map(fleet.hosts.map((h, i) => [h.name, i]));
  return settled
    .filter((r): r is HostResult<T> & { value: T } => r.error === undefined)
    .sort((a, b) => (order.get(a.host) ?? 0) - (order.get(b.host) ?? 0))
    .map((r) => ({ host: r.host, value: r.value }));
}

/** The line above a host's block of text (like `tail` over several files). */
export function hostHeading(host: string): string {
  return `==> ${host} <==\n`;
}

function statusName(code: Status): string {
  return Status[code] ?? String(code);
}
