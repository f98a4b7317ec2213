// The gops agent client: one TCP connection per call, the request in one write right after connect, the
// reply is every byte until EOF (docs/agent-protocol.md §2.1). It does not know how the address was found; the caller
// (port-file lookup + socket ownership check) decides whether to dial at all.
//
// Every exit path destroys the socket: EOF, deadline, abort, maxBytes, socket error, and a consumer that
// stops iterating early. A call that never starts iterating never connects.
import type { Duplex } from "node:stream";
import { formatDurationMs } from "../../common/duration.js";
import { isLoopbackIp } from "../../common/loopback.js";
import {
  GopsError,
  agentDeadline,
  agentProtocol,
  agentReplyTooLarge,
  agentUnavailable,
  cancelled,
  invalidArgument,
} from "../../common/errors.js";
import { encodeRequest } from "./codec.js";
import { describeSignal, isKnownSignal, signalName } from "./signals.js";
import { AgentReplyMaxBytes, TEXT_REPLY_MAX_BYTES } from "./timeouts.js";

declare const loopbackOnly: unique symbol;

/**
 * Where a verified gops agent is dialled: an IP on loopback (127.0.0.0/8 or ::1) and a port. Only agentAddress()
 * makes one, so no path (calls, WatchStats, listings, the local CLI) can dial anything else; streamAgent checks
 * again before it connects.
 */
export interface AgentAddress {
  readonly host: string;
  readonly port: number;
  readonly [loopbackOnly]: true;
}

/** The AgentAddress for an IP and port; a GopsError (agentUnavailable) for anything not on loopback. */
export function agentAddress(host: string, port: number): AgentAddress {
  if (!isLoopbackIp(host)) {
    throw agentUnavailable(formatHostPort(host, port), "not a loopback address: gops agents are dialled on 127.0.0.0/8 or ::1 only");
  }
  if (!(Number.isInteger(port) && port >= 1 && port <= 65535)) throw invalidArgument(`agent port must be in 1..65535, got ${port}`);
  return { host, port } as AgentAddress;
}

/** An AgentAddress from its text form "IP:PORT" or "[IPv6]:PORT" (the Agent message's `address`). */
export function parseAgentAddress(address: string): AgentAddress {
  const m = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(address);
  if (!m) throw agentProtocol(address, "unparseable agent address");
  return agentAddress(m[1]!, Number(m[2]));
}

function formatHostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

export interface AgentCallOptions {
  signal?: AbortSignal;
  /** Limit on the TCP connect. */
  connectTimeoutMs: number;
  /** Limit on the whole call, counted from the start of the connect. */
  deadlineMs: number;
  /**
   * Fail (RESOURCE_EXHAUSTED) as soon as the reply grows beyond this many bytes. Default: the signal's limit
   * in AgentReplyMaxBytes (1 MiB for text replies and unknown bytes): no reply is ever unbounded.
   */
  maxBytes?: number;
  /**
   * How to open the connection (default: TCP from this process's network namespace). The stream must emit
   * "connect" once connected; an "error" that is a GopsError is reported as it is. See netns-dial.ts.
   */
  dial?: AgentDial;
  /** How the address is named in messages (default host:port). */
  where?: string;
}

/** Opens a connection to an agent; may throw a GopsError when it must not or cannot be opened. */
export type AgentDial = (addr: AgentAddress) => Duplex;

// node:net at the first dial: a local `gopsctl ps` never dials.
const tcpDial: AgentDial = (addr) => process.getBuiltinModule("node:net").connect({ host: addr.host, port: addr.port, noDelay: true });

// Received bytes not yet taken by the consumer above which the socket is paused (TCP back-pressure reaches
// the agent); reading resumes once the consumer has drained them.
const HIGH_WATER_BYTES = 1 << 20;

export function formatAgentAddress(addr: AgentAddress): string {
  return formatHostPort(addr.host, addr.port);
}

/**
 * Sends `sig` (and `arg`, for SetGCPercent) and yields the reply's chunks as they arrive until EOF.
 * An empty reply to a known signal is an agentProtocol error (the agent sends nothing back for signals it
 * does not serve); for an unknown byte it is the expected answer, which makes it usable as a probe.
 */
export async function* streamAgent(
  addr: AgentAddress,
  sig: number,
  arg: Buffer | undefined,
  opts: AgentCallOptions,
): AsyncGenerator<Buffer, void, undefined> {
  const where = opts.where ?? formatAgentAddress(addr);
  const what = describeSignal(sig);
  const request = encodeRequest(sig, arg);
  checkOptions(opts);
  // The type says so already; this checks it at run time too (it throws off loopback), for every dial, direct or relayed.
  agentAddress(addr.host, addr.port);
  const maxBytes = opts.maxBytes ?? defaultMaxBytes(sig);
  if (opts.signal?.aborted) throw cancelled(`${what} to gops agent at ${where}`);

  const chunks: Buffer[] = [];
  let buffered = 0;
  let received = 0;
  let ended = false;
  let failure: GopsError | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };

  const socket = (opts.dial ?? tcpDial)(addr);
  const fail = (e: GopsError) => {
    failure ??= e;
    socket.destroy();
    notify();
  };
  const connectTimer = setTimeout(
    () => fail(agentUnavailable(where, `no TCP connection within ${formatDurationMs(opts.connectTimeoutMs)}`)),
    opts.connectTimeoutMs,
  );
  const deadlineTimer = setTimeout(() => fail(agentDeadline(where, what, opts.deadlineMs)), opts.deadlineMs);
  const onAbort = () => fail(cancelled(`${what} to gops agent at ${where}`));
  opts.signal?.addEventListener("abort", onAbort, { once: true });

  try {
    socket.once("connect", () => {
      clearTimeout(connectTimer);
      socket.write(request);
    });
    socket.on("data", (chunk: Buffer) => {
      received += chunk.length;
      if (received > maxBytes) {
        fail(agentReplyTooLarge(where, what, maxBytes));
        return;
      }
      chunks.push(chunk);
      buffered += chunk.length;
      if (buffered > HIGH_WATER_BYTES) socket.pause();
      notify();
    });
    socket.once("end", () => {
      ended = true;
      clearTimeout(deadlineTimer);
      notify();
    });
    socket.on("error", (err: NodeJS.ErrnoException) =>
      fail(err instanceof GopsError ? err : agentUnavailable(where, describeSocketError(err))),
    );
    socket.once("close", () => {
      if (!ended) fail(agentUnavailable(where, `connection closed before the reply to ${what} ended`));
    });

    for (;;) {
      if (failure) throw failure;
      const chunk = chunks.shift();
      if (chunk !== undefined) {
        buffered -= chunk.length;
        if (buffered === 0 && socket.isPaused()) socket.resume();
        yield chunk;
        continue;
      }
      if (ended) break;
      await new Promise<void>((resolve) => (wake = resolve));
    }
    if (received === 0 && isKnownSignal(sig)) {
      throw agentProtocol(where, `empty reply to ${what} (the agent does not serve this signal)`);
    }
  } finally {
    clearTimeout(connectTimer);
    clearTimeout(deadlineTimer);
    opts.signal?.removeEventListener("abort", onAbort);
    socket.destroy();
  }
}

/** The reply limit of a signal when the caller sets none. */
export function defaultMaxBytes(sig: number): number {
  const name = signalName(sig);
  return name === undefined ? TEXT_REPLY_MAX_BYTES : AgentReplyMaxBytes[name];
}

/** streamAgent collected into one Buffer (bounded like every reply: see AgentCallOptions.maxBytes). */
export async function callAgent(
  addr: AgentAddress,
  sig: number,
  arg: Buffer | undefined,
  opts: AgentCallOptions,
): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of streamAgent(addr, sig, arg, opts)) parts.push(chunk);
  return Buffer.concat(parts);
}

function checkOptions(opts: AgentCallOptions): void {
  const positive = (name: string, v: number | undefined) => {
    if (v !== undefined && !(Number.isInteger(v) && v > 0)) {
      throw invalidArgument(`agent call option ${name} must be a positive integer, got ${v}`);
    }
  };
  positive("connectTimeoutMs", opts.connectTimeoutMs);
  positive("deadlineMs", opts.deadlineMs);
  positive("maxBytes", opts.maxBytes);
}

function describeSocketError(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case "ECONNREFUSED":
      return "connection refused (nothing listens on that port; the port file may be stale)";
    case "ECONNRESET":
      return "connection reset by the agent";
    case "EPIPE":
      return "the agent closed the connection while the request was being sent";
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return `no route to the agent (${err.code})`;
    default:
      return err.code ? `${err.code}: ${err.message}` : err.message;
  }
}
