// The one HTTP client of the net/http/pprof backend: a single ordinary HTTP/1.1 GET on a fresh connection (no
// keep-alive agent), loopback addresses only, no request body, redirects never followed (a 3xx is just a
// status), a connect timeout, a deadline on the whole exchange, a byte limit on the body, and an AbortSignal.
// Every exit path destroys the request: end of body, deadline, abort, limit, error, a consumer that stops
// early, and close() on a response whose body is never read.
//
// A port in another network namespace (a container with its own network) is reached only from inside it: the
// request goes over the same kind of connection as a gops agent's (../agent/netns-dial.ts: a socket made in that
// namespace, or the relay where that is not possible), opened after re-checking the namespace the port was found
// in (same process, same namespace), and given to http.request as its connection. The rules above hold
// unchanged: loopback of THAT namespace only.
import type http from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { agentAddress } from "../agent/client.js";
import { dialInNamespace, type VerifiedNamespace } from "../agent/netns-dial.js";
import type { ProcFs } from "../proc/proc-fs.js";
import { formatDurationMs } from "../../common/duration.js";
import {
  cancelled,
  endpointDeadline,
  endpointReplyTooLarge,
  endpointUnavailable,
  invalidArgument,
  isGopsError,
  type GopsError,
} from "../../common/errors.js";

export interface HttpTarget {
  /** An IP literal on loopback: 127.0.0.0/8 or ::1 (of the target's own network namespace when `netns` is set). */
  host: string;
  port: number;
  /** Set when the port is in another network namespace than ours: dialled only from inside it (netns-dial.ts). */
  netns?: RelayedNamespace;
}

/** The namespace a port was found in (the process holding it, checked again before each request). */
export interface RelayedNamespace {
  fs: ProcFs;
  ns: VerifiedNamespace;
}

export interface HttpGetOptions {
  signal?: AbortSignal;
  connectTimeoutMs: number;
  /** Limit on the whole exchange, counted from the start of the connect, until the body is read. */
  deadlineMs: number;
  /** The body may not exceed this many bytes (RESOURCE_EXHAUSTED as soon as it does). */
  maxBytes: number;
  /** Names the request in messages, e.g. "a CPU profile". */
  what: string;
}

export interface HttpResponse {
  status: number;
  contentType: string;
  /** The body's chunks until its end; iterate at most once. Ends the request when done or stopped. */
  body: AsyncGenerator<Buffer, void, undefined>;
  /** Ends the request without reading (more of) the body. Idempotent. */
  close(): void;
}

/** host:port (as shown in a listing's httpAddress: an address inside the process's own namespace). */
export function formatTarget(t: HttpTarget): string {
  return t.host.includes(":") ? `[${t.host}]:${t.port}` : `${t.host}:${t.port}`;
}

/** For messages: host:port, and "in net:[N] of pid P" for a port in another network namespace. */
export function describeTarget(t: HttpTarget): string {
  return t.netns === undefined ? formatTarget(t) : `${formatTarget(t)} in ${t.netns.ns.netns} of pid ${t.netns.ns.pid}`;
}

/** A connection made inside the target's namespace to its host:port there (throws NOT_FOUND / UNAVAILABLE / PERMISSION_DENIED). */
function dialInside(t: HttpTarget & { netns: RelayedNamespace }, where: string): Duplex {
  return dialInNamespace(t.netns.fs, t.netns.ns, agentAddress(t.host, t.port), where);
}

export function isLoopbackIp(host: string): boolean {
  if (process.getBuiltinModule("node:net").isIP(host) === 4) return host.startsWith("127.");
  return host === "::1";
}

/** Sends the GET and resolves once the status line and headers have arrived. */
export async function httpGet(target: HttpTarget, path: string, opts: HttpGetOptions): Promise<HttpResponse> {
  const where = describeTarget(target);
  if (!isLoopbackIp(target.host)) throw invalidArgument(`refusing to send an HTTP request to ${where}: not a loopback address`);
  if (!/^\/[\x21-\x7e]*$/.test(path)) throw invalidArgument(`not a plain request path: ${JSON.stringify(path)}`);
  for (const [name, v] of [["connectTimeoutMs", opts.connectTimeoutMs], ["deadlineMs", opts.deadlineMs], ["maxBytes", opts.maxBytes]] as const) {
    if (!(Number.isInteger(v) && v > 0)) throw invalidArgument(`HTTP option ${name} must be a positive integer, got ${v}`);
  }
  if (opts.signal?.aborted) throw cancelled(`${opts.what} from ${where}`);

  const inside = target.netns === undefined ? undefined : dialInside({ ...target, netns: target.netns }, where);
  let failure: GopsError | undefined;
  let closed = false;
  let req: http.ClientRequest;
  try {
    // node:http at the first request: it is most of a local `gopsctl ps`'s start otherwise.
    req = process.getBuiltinModule("node:http").request({
      // The connection made in the namespace carries the one request (headers only, written at once) and the reply.
      // No agent then: Node uses createConnection only without one (agent: false would dial from here).
      ...(inside !== undefined ? { createConnection: () => inside as unknown as Socket } : { agent: false }),
      host: target.host,
      port: target.port,
      path,
      method: "GET",
      headers: { "User-Agent": "gopsd", Accept: "*/*", Connection: "close" },
      maxHeaderSize: 16 * 1024,
    });
  } catch (e) {
    inside?.destroy();
    throw e;
  }
  const fail = (e: GopsError) => {
    failure ??= e;
    req.destroy(e);
  };
  const connectTimer = setTimeout(
    () => fail(endpointUnavailable(where, `no TCP connection within ${formatDurationMs(opts.connectTimeoutMs)}`)),
    opts.connectTimeoutMs,
  );
  const deadlineTimer = setTimeout(() => fail(endpointDeadline(where, opts.what, opts.deadlineMs)), opts.deadlineMs);
  const onAbort = () => fail(cancelled(`${opts.what} from ${where}`));
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  req.once("socket", (s) => {
    if (typeof (s as Partial<Socket>).setNoDelay === "function") s.setNoDelay(true);
    s.once("connect", () => clearTimeout(connectTimer));
  });
  const close = () => {
    if (closed) return;
    closed = true;
    clearTimeout(connectTimer);
    clearTimeout(deadlineTimer);
    opts.signal?.removeEventListener("abort", onAbort);
    req.destroy();
  };
  const asError = (e: unknown): GopsError => failure ?? (isGopsError(e) ? e : endpointUnavailable(where, describeError(e)));

  let res: http.IncomingMessage;
  try {
    res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      req.once("response", resolve);
      req.once("error", reject);
      req.end();
    });
  } catch (e) {
    close();
    throw asError(e);
  }
  clearTimeout(connectTimer);
  res.on("error", () => {}); // surfaces through the body's iteration

  async function* body(): AsyncGenerator<Buffer, void, undefined> {
    let received = 0;
    try {
      for await (const chunk of res as AsyncIterable<Buffer>) {
        if (failure) throw failure;
        received += chunk.length;
        if (received > opts.maxBytes) throw endpointReplyTooLarge(where, opts.what, opts.maxBytes);
        yield chunk;
      }
      if (failure) throw failure;
      if (!res.complete) throw endpointUnavailable(where, `connection closed before the reply to ${opts.what} ended`);
    } catch (e) {
      throw asError(e);
    } finally {
      close();
    }
  }
  const type = res.headers["content-type"];
  return { status: res.statusCode ?? 0, contentType: typeof type === "string" ? type : "", body: body(), close };
}

/** The whole body (bounded by the request's maxBytes). */
export async function readBody(res: HttpResponse): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of res.body) parts.push(chunk);
  return Buffer.concat(parts);
}

/** The first `max` bytes of the body, then the request is ended (for error texts and header lines). */
export async function readHead(res: HttpResponse, max: number, stopAt?: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  try {
    for await (const chunk of res.body) {
      parts.push(chunk);
      n += chunk.length;
      if (n >= max || (stopAt !== undefined && chunk.includes(stopAt))) break;
    }
  } finally {
    res.close();
  }
  return Buffer.concat(parts).subarray(0, max);
}

/** A target's text made safe for a one-line message: first line, printable ASCII, at most 200 characters. */
export function printableLine(b: Buffer): string {
  const line = b.toString("latin1").split(/\r?\n/, 1)[0] ?? "";
  const clean = line.replace(/[^\x20-\x7e]/g, "?");
  return clean.length > 200 ? `${clean.slice(0, 200)}...` : clean;
}

function describeError(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  switch (err?.code) {
    case "ECONNREFUSED":
      return "connection refused (nothing listens on that port any more)";
    case "ECONNRESET":
      return "connection reset by the program";
    case "HPE_HEADER_OVERFLOW":
      return "response headers larger than 16 KiB";
    default:
      if (typeof err?.code === "string" && err.code.startsWith("HPE_")) return `not a valid HTTP response (${err.code})`;
      return err?.code ? `${err.code}: ${err.message}` : String(err?.message ?? e);
  }
}
