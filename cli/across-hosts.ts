// The shared body of every command run across hosts: print each host's result as it settles (an NDJSON line
// `{"host":..,"value":..}` or `{"host":..,"error":{"code":"DEADLINE_EXCEEDED","message":..,"afterMs":..}}` when
// JSON is wanted; on a terminal, a host's block of text, or nothing until the command's table, and each failure on
// stderr), then the summary line on stderr (`31/32 hosts ok; web-7: DEADLINE_EXCEEDED after 5s`) and a
// HostsFailedError when any host failed (exit code: the first failure's status).
import { Status, summarize, type HostResult } from "../client/index.js";
import type { CommandContext, FleetRunner } from "./command.js";
import { HostsFailedError } from "./errors.js";
import { printJsonLine, wantsJson, write } from "./output/index.js";

export interface HostView<T> {
  /** The NDJSON line's `value` for a host. */
  json(value: T, host: string): unknown;
  /** Text mode: this host's block, printed as it settles; absent = nothing until the command prints its table. */
  text?(value: T, host: string): string;
}

/** Prints each result as it arrives and returns them all, in arrival order. */
export async function eachHost<T>(ctx: CommandContext, results: AsyncIterable<HostResult<T>>, view: HostView<T>): Promise<HostResult<T>[]> {
  const settled: HostResult<T>[] = [];
  const json = wantsJson(ctx);
  for await (const r of results) {
    settled.push(r);
    if (json) await printJsonLine(ctx, hostResultJson(r, view.json));
    else if (r.error !== undefined) await write(ctx.stderr, `${r.host}: ${statusName(r.error.code)}: ${r.error.message}\n`, ctx.signal);
    else if (view.text !== undefined) await write(ctx.stdout, view.text(r.value, r.host), ctx.signal);
  }
  return settled;
}

function hostResultJson<T>(r: HostResult<T>, json: (value: T, host: string) => unknown): unknown {
  if (r.error !== undefined) {
    return { host: r.host, error: { code: statusName(r.error.code), message: r.error.message, afterMs: r.error.afterMs } };
  }
  return { host: r.host, value: json(r.value, r.host) };
}

/** The summary line on stderr; throws HostsFailedError when a host failed (or the run's abort reason on Ctrl-C). */
export async function finishAcross(ctx: CommandContext, settled: readonly HostResult<unknown>[]): Promise<void> {
  ctx.signal.throwIfAborted();
  const line = summarize(settled);
  await write(ctx.stderr, `${line}\n`, ctx.signal);
  const failed = settled.find((r) => r.error !== undefined);
  if (failed?.error !== undefined) throw new HostsFailedError(failed.error.code, line);
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
