// Bounds what a peer can hold before it has done anything: every accepted connection counts against a total
// and a per-source-address cap (beyond them it is closed at once), and every connection has a timer that runs
// while no call of it is in progress: `setupTimeoutMs` until its first call starts (TLS handshake, HTTP/2
// preface and the first request must all fit in it), `idleTimeoutMs` after its last call ended. A connection
// whose timer fires is destroyed. Calls are matched to connections by the peer string grpc-js gives a call
// ("<remoteAddress>:<remotePort>", the same socket's fields). No I/O but on the sockets it is handed.
import type { Socket } from "node:net";

export interface ConnectionLimits {
  /** Open connections in all. */
  readonly maxConnections: number;
  /** Open connections per source address (IPv4-mapped IPv6 counts as its IPv4 address). */
  readonly maxConnectionsPerSource: number;
  /** How long a new connection may take to start its first call. */
  readonly setupTimeoutMs: number;
  /** How long a connection may stay open with no call in progress once it has made one. */
  readonly idleTimeoutMs: number;
}

export interface ConnectionGuard {
  /** Tracks `socket` and returns true, or destroys it and returns false when a cap is reached. */
  admit(socket: Socket): boolean;
  /** Marks a call of the connection `peer` as started; call the result (idempotent) when it ends. */
  callStarted(peer: string): () => void;
  /** Open connections, in all and for one source address. */
  open(source?: string): number;
  /** Destroys every tracked connection. */
  destroyAll(): void;
}

interface Conn {
  readonly socket: Socket;
  readonly source: string;
  calls: number;
  timer: NodeJS.Timeout | undefined;
}

/** The source address a cap applies to: "::ffff:127.0.0.1" and "127.0.0.1" are one source. */
export function sourceOf(remoteAddress: string | undefined): string {
  if (remoteAddress === undefined) return "local";
  return remoteAddress.startsWith("::ffff:") && remoteAddress.includes(".") ? remoteAddress.slice(7) : remoteAddress;
}

export function createConnectionGuard(limits: ConnectionLimits): ConnectionGuard {
  const byPeer = new Map<string, Conn>();
  const all = new Set<Conn>();
  const perSource = new Map<string, number>();

  const arm = (c: Conn, ms: number) => {
    clearTimeout(c.timer);
    c.timer = setTimeout(() => c.socket.destroy(), ms);
    c.timer.unref();
  };

  return {
    admit(socket) {
      const source = sourceOf(socket.remoteAddress);
      const count = perSource.get(source) ?? 0;
      // Unix-socket peers (no address) share one source: only the total cap applies to them.
      const perSourceFull = socket.remoteAddress !== undefined && count >= limits.maxConnectionsPerSource;
      if (all.size >= limits.maxConnections || perSourceFull) {
        socket.destroy();
        return false;
      }
      const c: Conn = { socket, source, calls: 0, timer: undefined };
      const peer = socket.remoteAddress !== undefined ? `${socket.remoteAddress}:${socket.remotePort}` : undefined;
      all.add(c);
      perSource.set(source, count + 1);
      if (peer !== undefined) byPeer.set(peer, c);
      socket.once("close", () => {
        clearTimeout(c.timer);
        all.delete(c);
        if (peer !== undefined && byPeer.get(peer) === c) byPeer.delete(peer);
        const left = (perSource.get(source) ?? 1) - 1;
        if (left > 0) perSource.set(source, left);
        else perSource.delete(source);
      });
      // Unix-socket peers cannot be matched to calls (grpc-js names them "unknown"): no timer for them, the
      // socket is owner-only; grpc-js's own idle timeout still closes their idle HTTP/2 sessions.
      if (peer !== undefined) arm(c, limits.setupTimeoutMs);
      return true;
    },
    callStarted(peer) {
      const c = byPeer.get(peer);
      if (c === undefined) return () => {};
      c.calls++;
      clearTimeout(c.timer);
      c.timer = undefined;
      let ended = false;
      return () => {
        if (ended) return;
        ended = true;
        c.calls--;
        if (c.calls === 0 && !c.socket.destroyed) arm(c, limits.idleTimeoutMs);
      };
    },
    open(source) {
      return source === undefined ? all.size : (perSource.get(sourceOf(source)) ?? 0);
    },
    destroyAll() {
      for (const c of all) c.socket.destroy();
    },
  };
}
