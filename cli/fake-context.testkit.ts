// A CommandContext for tests: a scripted Diagnostics that records every call, and stdout/stderr that capture
// what the command wrote.
import { Writable } from "node:stream";
import type { Diagnostics } from "../client/index.js";
import { fanOut } from "../client/fleet/fan-out.js";
import type { CommandContext, FleetRunner } from "./command.js";

export interface RecordedCall {
  method: keyof Diagnostics;
  request: unknown;
  signal: AbortSignal | undefined;
}

/** A Diagnostics whose methods are the given ones; any other method fails the test when called. */
export function fakeDiagnostics(methods: Partial<Diagnostics>, calls: RecordedCall[] = []): Diagnostics {
  return new Proxy({} as Diagnostics, {
    get(_target, name: string) {
      const method = name as keyof Diagnostics;
      const impl = methods[method] as ((req: unknown, opts?: { signal?: AbortSignal }) => unknown) | undefined;
      return (request: unknown, opts?: { signal?: AbortSignal }) => {
        calls.push({ method, request, signal: opts?.signal });
        if (impl === undefined) throw new Error(`unexpected call to ${method}`);
        return impl(request, opts);
      };
    },
  });
}

export class CapturedStream extends Writable {
  readonly chunks: Buffer[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.chunks.push(chunk);
    done();
  }
  text(): string {
    return Buffer.concat(this.chunks).toString("utf8");
  }
}

export interface FakeContext {
  ctx: CommandContext;
  calls: RecordedCall[];
  stdout: CapturedStream;
  stderr: CapturedStream;
}

export function fakeContext(
  methods: Partial<Diagnostics>,
  opts: {
    isTTY?: boolean;
    stderrIsTTY?: boolean;
    json?: boolean;
    cwd?: string;
    now?: Date;
    signal?: AbortSignal;
    env?: Record<string, string | undefined>;
    fleet?: FleetRunner;
    reader?: { root: boolean };
  } = {},
): FakeContext {
  const calls: RecordedCall[] = [];
  const stdout = new CapturedStream();
  const stderr = new CapturedStream();
  const ctx: CommandContext = {
    diagnostics: fakeDiagnostics(methods, calls),
    stdout,
    stderr,
    isTTY: opts.isTTY ?? true,
    stderrIsTTY: opts.stderrIsTTY ?? false,
    json: opts.json ?? false,
    signal: opts.signal ?? new AbortController().signal,
    cwd: opts.cwd ?? "/nonexistent",
    env: opts.env ?? {},
    now: () => opts.now ?? new Date(2026, 10, 26, 11, 2, 57),
    ...(opts.fleet !== undefined ? { fleet: opts.fleet } : {}),
    ...(opts.reader !== undefined ? { reader: opts.reader } : {}),
  };
  return { ctx, calls, stdout, stderr };
}

/** An async iterable yielding `items` and then, if given, throwing `error`. */
export async function* streamOf<T>(items: readonly T[], error?: Error): AsyncGenerator<T> {
  for (const item of items) yield item;
  if (error !== undefined) throw error;
}

/**
 * A fleet of scripted hosts (in this order) for commands run across hosts: each host's calls go to its own fake
 * Diagnostics through the real fan-out (bounded, a per-host deadline, results as hosts settle).
 */
export function fakeFleet(hosts: Record<string, Partial<Diagnostics>>, opts: { perHostDeadlineMs?: number } = {}): FleetRunner & { calls: Map<string, RecordedCall[]> } {
  const names = Object.keys(hosts);
  const calls = new Map(names.map((n) => [n, [] as RecordedCall[]]));
  const clients = new Map(names.map((n) => [n, fakeDiagnostics(hosts[n]!, calls.get(n)!)]));
  return {
    hosts: names.map((name) => ({ name, address: `${name}:4677`, labels: {}, source: "fleet" as const })),
    run: (task, call) =>
      fanOut(names, (ctx) => task(clients.get(ctx.host)!, ctx), {
        perHostDeadlineMs: call?.perHostDeadlineMs ?? opts.perHostDeadlineMs ?? 5000,
        ...(call?.signal !== undefined ? { signal: call.signal } : {}),
      }),
    calls,
  };
}
