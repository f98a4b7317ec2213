// Fleet: the client library across many gopsd hosts. One method per RPC, each fanning out with bounded
// concurrency and a per-host deadline, yielding `{ host, value | error }` as each host settles. Server streams are
// consumed per host by a function you pass (default: collect the messages), so a capture from every host can go to
// its own file without holding them in memory. One connection per host (one SSH tunnel for tunnelled hosts), reused
// by later calls while it is among the most recently used idle ones (maxIdleConnections), closed by close().
// Hosts that share TLS material share one secure context, and a shared token file is read once for many hosts.
//
//   const fleet = await openFleet({ selector: "role=web" });
//   for await (const r of fleet.memStats({ pid: 1234 })) console.log(r.host, r.value?.stats?.heapAlloc ?? r.error);
//   fleet.close();
import { DiagnosticsServiceDefinition, type CaptureMetadata, type WatchStatsResponse } from "../../proto/index.js";
import { connect, type ConnectOptions } from "../connect.js";
import type { Diagnostics, DiagnosticsHandle } from "../../common/diagnostics.js";
import { openSshTunnel, type SshTunnel } from "../ssh/index.js";
import { readTokenFile, TokenFileReads } from "../token-file.js";
import { TlsCredentialsCache } from "../tls-credentials.js";
import { GopsError, Status } from "../../common/errors.js";
import { DEFAULT_CONCURRENCY, fanOut, type HostError, type HostResult, type TaskContext } from "./fan-out.js";
import { loadInventory, type FleetHost, type Inventory, type HostTokenSource } from "./inventory.js";
import { selectHosts, type SelectionOptions } from "./selection.js";

type MethodName = keyof Diagnostics;
type RequestOf<K extends MethodName> = Parameters<Diagnostics[K]>[0];
type Returned<K extends MethodName> = ReturnType<Diagnostics[K]>;
export type UnaryMethod = { [K in MethodName]: Returned<K> extends Promise<unknown> ? K : never }[MethodName];
export type StreamMethod = Exclude<MethodName, UnaryMethod>;
type ResponseOf<K extends MethodName> =
  Returned<K> extends Promise<infer R> ? R : Returned<K> extends AsyncIterable<infer R> ? R : never;

/** A request for every host, or one per host (pids differ from host to host). */
export type FleetRequest<K extends MethodName> = RequestOf<K> | ((host: string) => RequestOf<K>);

/** Per-call options of a fleet call: cancel, per-host deadline, how many hosts at once. */
export interface FleetCallOptions {
  signal?: AbortSignal;
  /** Overrides the fleet's per-host deadline for this call. */
  perHostDeadlineMs?: number;
  concurrency?: number;
}

export interface StreamContext {
  host: string;
  signal: AbortSignal;
}

/** Consumes one host's stream; its result is the host's value. Runs inside the host's deadline and slot. */
export type StreamConsumer<T, R> = (stream: AsyncIterable<T>, ctx: StreamContext) => Promise<R>;

export type FleetUnaryMethods = {
  [K in UnaryMethod]: (req: FleetRequest<K>, opts?: FleetCallOptions) => AsyncIterable<HostResult<ResponseOf<K>>>;
};
export type FleetStreamMethods = {
  [K in Exclude<StreamMethod, "watchStats">]: <R = ResponseOf<K>[]>(
    req: FleetRequest<K>,
    consume?: StreamConsumer<ResponseOf<K>, R>,
    opts?: FleetCallOptions,
  ) => AsyncIterable<HostResult<R>>;
};

/** One item of fleet.watchStats: a host's sample, or the error that ended its stream. */
export type HostSample =
  | { host: string; sample: WatchStatsResponse; error?: undefined }
  | { host: string; sample?: undefined; error: HostError };

/** The Diagnostics calls across selected hosts: each method yields one HostResult per host as it finishes. */
export interface Fleet extends FleetUnaryMethods, FleetStreamMethods {
  /**
   * Every host's WatchStats samples merged as they arrive, until the caller stops iterating or the signal aborts.
   * A host whose stream fails yields one `error` item and is not retried; the others go on. No per-host deadline
   * unless `perHostDeadlineMs` is given (a watch has no natural end).
   */
  watchStats(req: FleetRequest<"watchStats">, opts?: FleetCallOptions): AsyncIterable<HostSample>;
  /** The selected hosts, in selection order. */
  readonly hosts: readonly FleetHost[];
  /**
   * Any per-host work (several calls, a call then a follow-up), fanned out like the RPC methods. The client is the
   * task's: once the task ends its connection may be closed as idle (maxIdleConnections).
   */
  run<T>(task: (client: Diagnostics, ctx: TaskContext) => Promise<T>, opts?: FleetCallOptions): AsyncIterable<HostResult<T>>;
  /** The shared client of one selected host (for single-host commands); connects (or tunnels) on first use. */
  client(host: string, signal?: AbortSignal): Promise<Diagnostics>;
  /** Closes every channel and SSH tunnel. Calls in flight fail with CANCELLED/UNAVAILABLE. */
  close(): void;
}

/** Which fleet file, which hosts (selector, names or all), and per-host deadline and concurrency. */
export interface OpenFleetOptions extends SelectionOptions {
  /** Fleet file; default $XDG_CONFIG_HOME/gopsctl/fleet.yaml or ~/.config/gopsctl/fleet.yaml. */
  inventoryPath?: string;
  /** An inventory already loaded (then inventoryPath and sshConfigPath are not read). */
  inventory?: Inventory;
  /** Default ~/.ssh/config; null ignores it. */
  sshConfigPath?: string | null;
  /** Hosts worked on at once. Default 128 (DEFAULT_CONCURRENCY: why, in fan-out.ts). */
  concurrency?: number;
  /**
   * Connections (and SSH tunnels) kept open while no call uses them, for the next call to the same host; beyond
   * this many the least recently used is closed. Default 100: a fleet of up to 100 hosts keeps all its
   * connections; a larger one's memory stays bounded (an idle TLS connection holds ~100 KiB) instead of growing
   * with the fleet. 0 closes each host's connection as soon as its task ends.
   */
  maxIdleConnections?: number;
  /** Deadline per host per fan-out (connect or tunnel + call + stream), ms. Default 10000. */
  perHostDeadlineMs?: number;
  /** Bound on a connection attempt (gRPC, and each SSH hop), ms. Default 5000. */
  connectTimeoutMs?: number;
  /** Cancels everything this fleet does. */
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
}

/** Loads the fleet file and selects hosts; connections (and SSH tunnels) open on first use. Close it when done. */
export async function openFleet(opts: OpenFleetOptions = {}): Promise<Fleet> {
  const inventory =
    opts.inventory ??
    (await loadInventory({
      ...(opts.inventoryPath !== undefined ? { path: opts.inventoryPath } : {}),
      ...(opts.sshConfigPath !== undefined ? { sshConfigPath: opts.sshConfigPath } : {}),
      ...(opts.env ? { env: opts.env } : {}),
    }));
  const hosts = selectHosts(inventory, opts);
  return createFleet(hosts, opts);
}

/** A Fleet over hosts chosen elsewhere (selection already done). */
export function createFleet(hosts: readonly FleetHost[], opts: OpenFleetOptions = {}): Fleet {
  const shared: SharedCredentials = { env: opts.env ?? process.env, tls: new TlsCredentialsCache(), tokenFiles: new TokenFileReads() };
  const links = new Map(hosts.map((h) => [h.name, new HostLink(h, opts.connectTimeoutMs ?? 5000, shared)]));
  const idle = new IdleLinks(opts.maxIdleConnections ?? 100);
  const names = hosts.map((h) => h.name);
  let closed = false;
  const closeAll = () => {
    closed = true;
    for (const link of links.values()) link.close();
  };
  opts.signal?.addEventListener("abort", closeAll, { once: true });

  const run = <T>(task: (client: Diagnostics, ctx: TaskContext) => Promise<T>, call: FleetCallOptions = {}) => {
    if (closed) throw new GopsError(Status.FAILED_PRECONDITION, "the fleet is closed");
    const signal = anySignal([opts.signal, call.signal]);
    return fanOut(
      names,
      async (ctx) => {
        const link = links.get(ctx.host)!;
        idle.take(link);
        try {
          return await task(await link.client(ctx.signal), ctx);
        } finally {
          idle.give(link);
        }
      },
      {
        concurrency: call.concurrency ?? opts.concurrency ?? DEFAULT_CONCURRENCY,
        perHostDeadlineMs: call.perHostDeadlineMs ?? opts.perHostDeadlineMs ?? 10_000,
        ...(signal ? { signal } : {}),
      },
    );
  };

  const requestFor = (req: unknown, host: string) => (typeof req === "function" ? req(host) : req);
  const methods: Record<string, unknown> = {};
  for (const [name, def] of Object.entries(DiagnosticsServiceDefinition.methods)) {
    const method = name as MethodName;
    if (def.responseStream) {
      methods[name] = (req: unknown, consume?: StreamConsumer<unknown, unknown>, call?: FleetCallOptions) =>
        run(async (client, ctx) => {
          const stream = (client[method] as (r: unknown, o: object) => AsyncIterable<unknown>)(requestFor(req, ctx.host), {
            signal: ctx.signal,
          });
          return (consume ?? collect)(stream, { host: ctx.host, signal: ctx.signal });
        }, call);
    } else {
      methods[name] = (req: unknown, call?: FleetCallOptions) =>
        run(
          (client, ctx) =>
            (client[method] as (r: unknown, o: object) => Promise<unknown>)(requestFor(req, ctx.host), { signal: ctx.signal }),
          call,
        );
    }
  }

  async function* watchStats(req: FleetRequest<"watchStats">, call: FleetCallOptions = {}): AsyncGenerator<HostSample> {
    const stop = new AbortController();
    const queue: HostSample[] = [];
    let wake: (() => void) | undefined;
    let finished = false;
    const push = (item: HostSample) => {
      queue.push(item);
      wake?.();
    };
    // Errors after the caller stopped (its signal, or leaving the loop) are the cancellation itself: not reported.
    const stopped = anySignal([opts.signal, call.signal, stop.signal])!;
    const results = run(
      async (client, ctx) => {
        for await (const sample of client.watchStats(requestFor(req, ctx.host), { signal: ctx.signal })) push({ host: ctx.host, sample });
        throw new GopsError(Status.UNAVAILABLE, "gopsd ended the stream");
      },
      {
        ...call,
        signal: anySignal([call.signal, stop.signal])!,
        concurrency: call.concurrency ?? Math.max(1, names.length),
        perHostDeadlineMs: call.perHostDeadlineMs ?? NO_DEADLINE_MS,
      },
    );
    const draining = (async () => {
      for await (const r of results) if (r.error !== undefined && !stopped.aborted) push({ host: r.host, error: r.error });
    })().finally(() => {
      finished = true;
      wake?.();
    });
    try {
      for (;;) {
        const item = queue.shift();
        if (item !== undefined) {
          yield item;
          continue;
        }
        if (finished) break;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    } finally {
      stop.abort();
      await draining.catch(() => undefined);
    }
  }

  return Object.assign(methods as unknown as FleetUnaryMethods & FleetStreamMethods, {
    watchStats,
    hosts,
    run,
    client: async (host: string, signal?: AbortSignal) => {
      const link = links.get(host);
      if (!link) throw new GopsError(Status.INVALID_ARGUMENT, `host "${host}" is not in this fleet (${names.join(", ")})`);
      // Held by the caller for as long as it likes: never closed as idle.
      idle.pin(link);
      return link.client(signal ?? new AbortController().signal);
    },
    close: () => {
      opts.signal?.removeEventListener("abort", closeAll);
      closeAll();
    },
  });
}

/** The largest timer Node takes (24.8 days): "no deadline" for fanOut's per-host timer. */
const NO_DEADLINE_MS = 2 ** 31 - 1;

async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const m of stream) out.push(m);
  return out;
}

/**
 * The bytes of a capture stream (StreamProfile, StreamTrace, StreamBinary): hands the first message's metadata to
 * `onMetadata` and yields the chunks. Use it in a StreamConsumer that writes to a file.
 */
export async function* captureBytes(
  stream: AsyncIterable<{ payload?: { $case: "metadata"; value: CaptureMetadata } | { $case: "chunk"; value: Uint8Array } | undefined }>,
  onMetadata?: (metadata: CaptureMetadata) => void,
): AsyncGenerator<Uint8Array> {
  for await (const message of stream) {
    const payload = message.payload;
    if (payload?.$case === "metadata") onMetadata?.(payload.value);
    else if (payload?.$case === "chunk") yield payload.value;
  }
}

function anySignal(signals: (AbortSignal | undefined)[]): AbortSignal | undefined {
  const present = signals.filter((s): s is AbortSignal => s !== undefined);
  return present.length <= 1 ? present[0] : AbortSignal.any(present);
}

/**
 * A token source as connect() takes it: read at call time, so a rotated token file is picked up. A token file must
 * be readable by its owner alone (readTokenFile), as for --token-file. With `files`, reads close together share one.
 */
export function tokenProvider(
  source: HostTokenSource,
  env: NodeJS.ProcessEnv = process.env,
  files?: TokenFileReads,
): string | (() => Promise<string>) {
  switch (source.kind) {
    case "literal":
      return source.value;
    case "file":
      return files !== undefined ? () => files.read(source.path) : () => readTokenFile(source.path);
    case "env":
      return async () => {
        const token = env[source.name]?.trim();
        if (!token) throw new GopsError(Status.UNAUTHENTICATED, `environment variable ${source.name} (tokenEnv) is not set`);
        return token;
      };
  }
}

/** What a fleet's hosts share: the environment (tokenEnv), secure contexts by TLS material, token file reads. */
interface SharedCredentials {
  env: NodeJS.ProcessEnv;
  tls: TlsCredentialsCache;
  tokenFiles: TokenFileReads;
}

/**
 * Which links no task is using, least recently used first; beyond `max` the oldest is disconnected (it reconnects
 * on its next use). A fan-out over N hosts thus holds about concurrency + max connections, not N.
 */
class IdleLinks {
  private readonly users = new Map<HostLink, number>();
  private readonly idle = new Set<HostLink>();
  private readonly pinned = new Set<HostLink>();

  constructor(private readonly max: number) {}

  take(link: HostLink): void {
    this.users.set(link, (this.users.get(link) ?? 0) + 1);
    this.idle.delete(link);
  }

  give(link: HostLink): void {
    const left = this.users.get(link)! - 1;
    if (left > 0) {
      this.users.set(link, left);
      return;
    }
    this.users.delete(link);
    if (this.pinned.has(link)) return;
    this.idle.add(link);
    for (const oldest of this.idle) {
      if (this.idle.size <= this.max) break;
      this.idle.delete(oldest);
      oldest.disconnect();
    }
  }

  pin(link: HostLink): void {
    this.pinned.add(link);
    this.idle.delete(link);
  }
}

/** One host's connection: a gRPC channel, direct or through a shared SSH tunnel that is reopened if it dies. */
class HostLink {
  private handle: DiagnosticsHandle | undefined;
  private tunnel: Promise<{ tunnel: SshTunnel; handle: DiagnosticsHandle }> | undefined;
  private readonly life = new AbortController();

  constructor(
    private readonly host: FleetHost,
    private readonly connectTimeoutMs: number,
    private readonly shared: SharedCredentials,
  ) {}

  private transport(): ConnectOptions {
    const t: ConnectOptions = { connectTimeoutMs: this.connectTimeoutMs };
    if (this.host.tls) {
      t.tls = this.host.tls;
      t.tlsCache = this.shared.tls;
    }
    if (this.host.token) t.token = tokenProvider(this.host.token, this.shared.env, this.shared.tokenFiles);
    return t;
  }

  async client(signal: AbortSignal): Promise<Diagnostics> {
    if (this.life.signal.aborted) throw new GopsError(Status.CANCELLED, `host ${this.host.name}: the fleet is closed`);
    if (!this.host.ssh) {
      this.handle ??= connect(this.host.address!, this.transport());
      return this.handle;
    }
    this.tunnel ??= this.openTunnel();
    const current = this.tunnel;
    const { tunnel, handle } = await raceAbort(current, signal, `host ${this.host.name}: ssh tunnel`);
    if (!tunnel.isOpen) {
      // Died since it was opened: open a fresh one for this and later calls.
      if (this.tunnel === current) this.tunnel = undefined;
      return this.client(signal);
    }
    return handle;
  }

  private openTunnel(): Promise<{ tunnel: SshTunnel; handle: DiagnosticsHandle }> {
    const ssh = this.host.ssh!;
    const hop = (h: { host: string; port: number; user: string; identityFiles: string[] }) => ({
      host: h.host,
      port: h.port,
      user: h.user,
      knownHostsFiles: ssh.knownHostsFiles,
      ...(h.identityFiles.length > 0 ? { identityFiles: h.identityFiles } : {}),
      ...(this.shared.env.SSH_AUTH_SOCK !== undefined ? { agentSocket: this.shared.env.SSH_AUTH_SOCK } : {}),
    });
    const opening = openSshTunnel({
      target: hop(ssh),
      ...(ssh.jump ? { jump: hop(ssh.jump) } : {}),
      forward: ssh.forward,
      signal: this.life.signal,
      connectTimeoutMs: this.connectTimeoutMs,
    }).then((tunnel) => {
      const handle = connect(tunnel.localAddress, this.transport());
      void tunnel.closed.then(() => handle.close());
      if (this.life.signal.aborted) tunnel.close();
      return { tunnel, handle };
    });
    // A failed attempt is forgotten so the next call tries again.
    opening.catch(() => {
      if (this.tunnel === opening) this.tunnel = undefined;
    });
    return opening;
  }

  /** Closes the connection (and tunnel) for good: later calls fail CANCELLED. */
  close(): void {
    this.life.abort(new Error("the fleet was closed"));
    this.disconnect();
  }

  /** Closes the connection (and tunnel); the next call opens a new one. */
  disconnect(): void {
    this.handle?.close();
    this.handle = undefined;
    const t = this.tunnel;
    this.tunnel = undefined;
    void t?.then(
      ({ tunnel, handle }) => {
        handle.close();
        tunnel.close();
      },
      () => undefined,
    );
  }
}

function raceAbort<T>(p: Promise<T>, signal: AbortSignal, what: string): Promise<T> {
  if (signal.aborted) return Promise.reject(new GopsError(Status.CANCELLED, `${what} was cancelled`));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new GopsError(Status.CANCELLED, `${what} was cancelled`));
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}
