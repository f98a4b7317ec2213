// The metrics port: GET /metrics over plain HTTP (loopback or a unix socket; config.ts refuses anything else) or
// HTTPS with gopsd's certificate, and then a bearer token with the gops:metrics scope (the gRPC side's verifier and
// policy table), a client certificate (mTLS, when tls.clientCa is set), or both when both are configured. Failed
// authentications are metered per source address like the gRPC side's (PeerLimiter). Every refusal is a one-line
// answer and is counted by reason; refusals also go to the audit refusal log (aggregated).
import { chmod, rm } from "node:fs/promises";
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { isGopsError, Status } from "../../common/errors.js";
import { firstLine } from "../../common/first-line.js";
import { authorize, METRICS_PATH, type PeerLimiter, type TokenVerifier } from "../auth/index.js";

export interface MetricsServerOptions {
  /** "host:port" or "unix:/path". */
  listen: string;
  /** PEM certificate chain and key, and the CA of client certificates (mTLS). */
  tls?: { cert: Buffer; key: Buffer; clientCa?: Buffer };
  /** With a verifier every scrape needs a bearer token with gops:metrics valid for `hostName`. */
  verifier?: TokenVerifier;
  hostName: string;
  peers?: PeerLimiter;
  scrape(accept: string | undefined): Promise<{ contentType: string; body: string }>;
  /** A request was refused: `reason` is a short word (counted), `message` the one-line answer. */
  onRefused?(reason: string, message: string, peer: string): void;
}

export interface RunningMetricsServer {
  /** "http://127.0.0.1:PORT/metrics", "https://..." or "unix:/path". */
  readonly address: string;
  close(): Promise<void>;
}

/** Connections the metrics port holds at once (a Prometheus server or two, and curl). */
const MAX_CONNECTIONS = 64;
/** Time a client has for its request head (TLS handshake included for HTTPS). */
const HEADERS_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 30_000;

export async function startMetricsServer(o: MetricsServerOptions): Promise<RunningMetricsServer> {
  const handler = (req: IncomingMessage, res: ServerResponse) => void handle(o, req, res);
  const server: Server = o.tls
    ? createHttpsServer(
        {
          cert: o.tls.cert,
          key: o.tls.key,
          minVersion: "TLSv1.2",
          handshakeTimeout: HEADERS_TIMEOUT_MS,
          ...(o.tls.clientCa ? { ca: o.tls.clientCa, requestCert: true, rejectUnauthorized: true } : {}),
        },
        handler,
      )
    : createHttpServer(handler);
  server.maxConnections = MAX_CONNECTIONS;
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  server.maxHeadersCount = 64;

  let address: string;
  if (o.listen.startsWith("unix:")) {
    const path = o.listen.slice(5);
    await rm(path, { force: true });
    const oldMask = process.umask(0o177); // owner-only from the moment the socket exists
    try {
      await listen(server, { path });
    } finally {
      process.umask(oldMask);
    }
    await chmod(path, 0o600);
    address = o.listen;
  } else {
    const m = /^\[?(.*?)\]?:(\d+)$/.exec(o.listen)!;
    await listen(server, { host: m[1]!, port: Number(m[2]) });
    const a = server.address() as AddressInfo;
    const host = a.family === "IPv6" ? `[${a.address}]` : a.address;
    address = `${o.tls ? "https" : "http"}://${host}:${a.port}/metrics`;
  }
  return {
    address,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function listen(server: Server, where: { path: string } | { host: string; port: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(where, () => (server.off("error", reject), resolve()));
  });
}

async function handle(o: MetricsServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const peer = req.socket.remoteAddress ?? "unix";
  const refuse = (status: number, reason: string, message: string, headers: Record<string, string> = {}) => {
    o.onRefused?.(reason, message, peer);
    answer(res, status, message, headers);
  };
  const path = (req.url ?? "").split("?", 1)[0];
  if (path !== "/metrics") return refuse(404, "not_found", "not found: gopsd serves GET /metrics here");
  if (req.method !== "GET" && req.method !== "HEAD") return refuse(405, "method", "only GET /metrics", { allow: "GET, HEAD" });
  if (o.verifier) {
    try {
      const principal = o.verifier.verify(bearerToken(req.headers.authorization));
      authorize(principal, METRICS_PATH, o.hostName);
    } catch (e) {
      const message = firstLine(e);
      if (isGopsError(e) && e.code === Status.PERMISSION_DENIED) return refuse(403, "forbidden", message);
      if (o.peers && !o.peers.take(peer)) return refuse(429, "rate_limited", `too many unauthenticated requests from ${peer}; retry later`);
      return refuse(401, "unauthenticated", message, { "www-authenticate": 'Bearer realm="gopsd"' });
    }
  }
  try {
    const { contentType, body } = await o.scrape(req.headers.accept);
    res.writeHead(200, { "content-type": contentType, "cache-control": "no-store" });
    res.end(req.method === "HEAD" ? undefined : body);
  } catch (e) {
    answer(res, 500, `cannot render the metrics: ${firstLine(e)}`);
  }
}

function answer(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8", ...headers });
  res.end(`${message}\n`);
}

/** The token of an `Authorization: Bearer <jwt>` header; throws a plain Error (401) otherwise. */
function bearerToken(header: string | undefined): string {
  if (header === undefined || header === "") throw new Error("no bearer token: send 'Authorization: Bearer <jwt>' with the gops:metrics scope");
  const m = /^Bearer +([^\s,]+)$/i.exec(header);
  if (!m) throw new Error("authorization header is not 'Bearer <jwt>'");
  return m[1]!;
}
