// A gRPC client for one gopsd. grpc-js never times out a connection attempt by itself, so the channel is given a
// connect timeout, and every call may carry a deadline and an AbortSignal. With `tls` the channel is TLS (mTLS
// with a client certificate); with `token` every call carries `authorization: Bearer <token>`.
import { splitHostPort } from "../common/host-port.js";
import {
  ClientError,
  Status,
  createChannel,
  createClientFactory,
  type CallOptions,
  type ClientMiddlewareCall,
} from "nice-grpc";
import { deadlineMiddleware } from "nice-grpc-client-middleware-deadline";
import { retryMiddleware } from "nice-grpc-client-middleware-retry";
import { DiagnosticsServiceDefinition } from "../proto/index.js";
import { bearerMiddleware, type TokenSource } from "./bearer-middleware.js";
import { CredentialsError } from "./credentials-error.js";
import { statusDetailsMiddleware } from "./status-details.js";
import type { DiagnosticsHandle } from "../common/diagnostics.js";
import { isLoopbackHost } from "../common/loopback.js";
import { channelCredentials, tlsChannelOptions, type TlsCredentialsCache, type TlsOptions } from "./tls-credentials.js";

/** How connect() reaches one gopsd: connect timeout, TLS, bearer token. */
export interface ConnectOptions {
  /** Bound on establishing the connection (TCP + TLS + HTTP/2 handshake), ms. Default 5000. */
  connectTimeoutMs?: number;
  /** Speak TLS: verify gopsd against `ca` (default the system roots), present `cert`+`key` for mTLS. */
  tls?: TlsOptions;
  /**
   * Bearer token (a JWT) sent with every call. Refused without `tls` unless the target is a unix socket or a
   * loopback address: a token must not cross a network in clear text.
   */
  token?: TokenSource;
  /** Where `tls` credentials come from when many connections share them (a fleet); default: built for this one. */
  tlsCache?: TlsCredentialsCache;
}

/** Largest message accepted from gopsd; streams send far smaller chunks. */
const MAX_RECEIVE_BYTES = 16 * 1024 * 1024;

/**
 * `target` is "host:port", "[v6]:port" or "unix:/path". Throws CredentialsError when the TLS files cannot be
 * read or a token would be sent in clear text.
 */
export function connect(target: string, opts: ConnectOptions = {}): DiagnosticsHandle {
  if (opts.token !== undefined && opts.tls === undefined && !isLocalTarget(target)) {
    throw new CredentialsError(`refusing to send a token to ${target} without TLS`);
  }
  const credentials = opts.tlsCache !== undefined ? opts.tlsCache.get(opts.tls) : channelCredentials(opts.tls);
  const channel = createChannel(channelAddress(target), credentials, {
    // nice-grpc reads this option as the connection-attempt timeout.
    "grpc.min_reconnect_backoff_ms": opts.connectTimeoutMs ?? 5000,
    "grpc.max_receive_message_length": MAX_RECEIVE_BYTES,
    "grpc-node.flow_control_window": 8 * 1024 * 1024,
    // Retries are the retry middleware's job (read-only RPCs only); grpc-js's own retry buffering and channelz
    // bookkeeping cost ~0.1 ms per call on loopback.
    "grpc.enable_retries": 0,
    "grpc.enable_channelz": 0,
    // Each handle has its own connection anyway; grpc-js's process-wide pool would keep a closed handle's connection
    // up to 10 s more and scan every connection ever made on each close (quadratic across a 1,000-host fan-out).
    "grpc.use_local_subchannel_pool": 1,
    ...tlsChannelOptions(opts.tls),
  });
  // Deadline first, so it bounds every attempt; read-only RPCs (NO_SIDE_EFFECTS in the proto) are retried once
  // after a short pause when gopsd was unavailable; GC, SetGCPercent and captures never are (docs/ARCHITECTURE.md rule 5).
  // Status details last, next to the wire: each attempt's error carries its ErrorInfo reason.
  const base = createClientFactory()
    .use(unreachableMiddleware(target))
    .use(deadlineMiddleware)
    .use(retryMiddleware)
    .use(statusDetailsMiddleware());
  const factory = opts.token !== undefined ? base.use(bearerMiddleware(opts.token)) : base;
  // One retry, 200 ms later, and only when gopsd could not take the call (UNAVAILABLE).
  const client = factory.create(DiagnosticsServiceDefinition, channel, {
    "*": { retryBaseDelayMs: 200, retryMaxAttempts: 1, retryableStatuses: [Status.UNAVAILABLE] },
  });
  return Object.assign(client, { target, close: () => channel.close() });
}

/**
 * grpc-js wants "unix:///abs/path"; nice-grpc would read "unix:/path" as a host named "unix". An IP address goes
 * to grpc-js's ipv4:/ipv6: resolver: its default DNS resolver would build a c-ares resolver per channel only to
 * find the address is literal (~0.1 ms per host in a fan-out) and load node:dns's promises API (a few ms of a CLI
 * call). The authority sent (and the TLS name checked) is the same "host:port". Told apart by pattern, not
 * net.isIP: a host name would make Node compile its IPv6 pattern (5-10 ms at its first use).
 */
export function channelAddress(target: string): string {
  if (target.startsWith("unix:")) return `unix://${target.slice(5).replace(/^\/\//, "")}`;
  if (/^\d{1,3}(\.\d{1,3}){3}:\d+$/.test(target)) return `ipv4:${target}`;
  if (/^\[[0-9a-fA-F:.]+\]:\d+$/.test(target)) return `ipv6:${target}`;
  return target;
}

/** A unix socket, "localhost", or a loopback IP (127.0.0.0/8, ::1): traffic that never leaves the machine. */
export function isLocalTarget(target: string): boolean {
  if (target.startsWith("unix:")) return true;
  // "[v6]:port", "host:port", or a bare host (a bare IPv6 address has several colons)
  const host = splitHostPort(target, { portOptional: true })?.host ?? target;
  return isLoopbackHost(host);
}

/**
 * grpc-js words a failed connection as "No connection established. Last error: Error: connect ECONNREFUSED ...
 * Resolution note: ". This says which gopsd could not be reached, and why, in one line; a failed certificate
 * check says so.
 */
export function describeUnreachable(target: string, details: string): string | undefined {
  const m = /^No connection established\. Last error: (?:Error(?: \[([A-Z0-9_]+)\])?: )?(.*?)(?:\. Resolution note:.*)?$/s.exec(details);
  if (!m) return undefined;
  const why = (m[2] ?? "").trim() || "no connection";
  return `gopsd at ${target} is unreachable: ${isCertificateFailure(m[1], why) ? `TLS certificate check failed: ${why}` : why}`;
}

function isCertificateFailure(code: string | undefined, why: string): boolean {
  return code?.startsWith("ERR_TLS_CERT") === true || /certificate|altnames/i.test(why);
}

function unreachableMiddleware(target: string) {
  return async function* unreachable<Req, Res>(call: ClientMiddlewareCall<Req, Res>, options: CallOptions) {
    try {
      return yield* call.next(call.request, options);
    } catch (e) {
      if (e instanceof ClientError && e.code === Status.UNAVAILABLE) {
        const msg = describeUnreachable(target, e.details);
        if (msg !== undefined) throw new ClientError(e.path, e.code, msg);
      }
      throw e;
    }
  };
}

