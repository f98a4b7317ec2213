// A gRPC client for one gopsd. grpc-js never times out a connection attempt by itself, so the channel is given a
// connect timeout, and every call may carry a deadline and an AbortSignal.
import {
  ChannelCredentials,
  ClientError,
  Status,
  createChannel,
  createClientFactory,
  type CallOptions,
  type ClientMiddlewareCall,
} from "nice-grpc";
import { deadlineMiddleware } from "nice-grpc-client-middleware-deadline";
import { DiagnosticsServiceDefinition } from "../proto/index.js";
import type { DiagnosticsHandle } from "./diagnostics.js";

export interface ConnectOptions {
  /** Bound on establishing the connection (TCP + HTTP/2 handshake), ms. Default 5000. */
  connectTimeoutMs?: number;
}

/** Largest message accepted from gopsd; streams send far smaller chunks. */
const MAX_RECEIVE_BYTES = 16 * 1024 * 1024;

/** `target` is "host:port", "[v6]:port" or "unix:/path". */
export function connect(target: string, opts: ConnectOptions = {}): DiagnosticsHandle {
  const channel = createChannel(channelAddress(target), ChannelCredentials.createInsecure(), {
    // nice-grpc reads this option as the connection-attempt timeout.
    "grpc.min_reconnect_backoff_ms": opts.connectTimeoutMs ?? 5000,
    "grpc.max_receive_message_length": MAX_RECEIVE_BYTES,
    "grpc-node.flow_control_window": 8 * 1024 * 1024,
  });
  const client = createClientFactory()
    .use(unreachableMiddleware(target))
    .use(deadlineMiddleware)
    .create(DiagnosticsServiceDefinition, channel);
  return Object.assign(client, { target, close: () => channel.close() });
}

/** grpc-js wants "unix:///abs/path"; nice-grpc would read "unix:/path" as a host named "unix". */
export function channelAddress(target: string): string {
  if (target.startsWith("unix:")) return `unix://${target.slice(5).replace(/^\/\//, "")}`;
  return target;
}

/**
 * grpc-js words a failed connection as "No connection established. Last error: Error: connect ECONNREFUSED ...
 * Resolution note: ". This says which gopsd could not be reached, and why, in one line.
 */
export function describeUnreachable(target: string, details: string): string | undefined {
  const m = /^No connection established\. Last error: (?:Error: )?(.*?)(?:\. Resolution note:.*)?$/s.exec(details);
  if (!m) return undefined;
  const why = (m[1] ?? "").trim() || "no connection";
  return `gopsd at ${target} is unreachable: ${why}`;
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
