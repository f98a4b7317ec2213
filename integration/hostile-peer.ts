// A hostile, unauthenticated network peer of gopsd, run by integration/hostile-wire.e2e.test.ts as uid 65534,
// bundled into a world-readable temp dir first (harness scriptForOtherUsers: uid 65534 loads nothing from the checkout):
//   node <tmp>/hostile-peer.mjs '<json Plan>'
// It never sends a token. Every loop is bounded by count and by time; it exits by itself and prints one JSON
// line (the Report) on stdout; "HOLDING" is printed once every connection of an `idle` plan has been tried.
//
// - streams: keeps `connections` HTTP/2 sessions open (reopening closed ones until `durationMs`), each opening
//   up to `streamsPerConnection` gRPC streams that send a message header promising 60 KiB and 56 KiB of it,
//   never the rest;
// - idle: opens `count` connections (raw TCP that sends nothing, or a completed TLS handshake that sends
//   nothing more) and records, for each, when it was started, when gopsd was seen to admit it and when gopsd
//   closed it, for at most `waitMs`.
import http2 from "node:http2";
import net from "node:net";
import tls from "node:tls";

interface Target {
  host: string;
  port: number;
  /** Source address of the attacker's connections (a loopback address of its own). */
  localAddress: string;
  tls: boolean;
}
type Plan =
  | (Target & { kind: "streams"; connections: number; streamsPerConnection: number; durationMs: number })
  | (Target & { kind: "idle"; count: number; waitMs: number });

export interface StreamsReport {
  sessions: number;
  sessionsClosedByServer: number;
  streamsOpened: number;
  streamsRefused: number;
}
/** One connection of an `idle` plan; times in ms since the plan started, -1 for "never". */
export interface IdleConnection {
  /** Just before connect(2) was asked for: no later than gopsd's accept of it. */
  startedAt: number;
  /**
   * When the attacker first saw that gopsd had admitted the connection (took it past its caps): the TLS
   * handshake completed, or (plaintext) a first byte from gopsd, its HTTP/2 SETTINGS. A connection refused at
   * a cap is closed at accept and never gets a byte. -1 when not seen, and always for raw TCP to a TLS port
   * (gopsd sends nothing before a ClientHello).
   */
  admittedAt: number;
  /** When the attacker saw gopsd close it (no earlier than gopsd did), or -1 if still open after waitMs. */
  closedAt: number;
}
export interface IdleReport {
  /** Connections whose TCP (and, with tls, TLS) handshake completed. */
  connected: number;
  connections: IdleConnection[];
}

const plan = JSON.parse(process.argv[2] ?? "{}") as Plan;
const deadline = setTimeout(() => process.exit(3), 120_000); // a hard stop, whatever happens
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function connectSocket(t: Target): net.Socket {
  return t.tls
    ? tls.connect({
        socket: net.connect({ host: t.host, port: t.port, localAddress: t.localAddress }),
        ALPNProtocols: ["h2"],
        rejectUnauthorized: false,
        servername: "localhost",
      })
    : net.connect({ host: t.host, port: t.port, localAddress: t.localAddress });
}

async function streams(p: Extract<Plan, { kind: "streams" }>): Promise<StreamsReport> {
  const report: StreamsReport = { sessions: 0, sessionsClosedByServer: 0, streamsOpened: 0, streamsRefused: 0 };
  const end = Date.now() + p.durationMs;
  const header = Buffer.alloc(5);
  header.writeUInt32BE(60 << 10, 1); // uncompressed message of 60 KiB...
  const part = Buffer.alloc(56 << 10, 0x0a); // ...of which 56 KiB arrive (within the stream's first flow-control window)
  const sessions = new Set<http2.ClientHttp2Session>();
  let stopping = false;

  const open = async () => {
    const session = http2.connect(`${p.tls ? "https" : "http"}://localhost:${p.port}`, {
      createConnection: () => connectSocket(p),
      // Do not wait for the server's SETTINGS before opening streams.
      peerMaxConcurrentStreams: 100_000,
    });
    report.sessions++;
    sessions.add(session);
    session.on("error", () => {});
    session.once("close", () => {
      sessions.delete(session);
      if (!stopping) report.sessionsClosedByServer++;
    });
    for (let i = 0; i < p.streamsPerConnection && !session.destroyed && Date.now() < end; i++) {
      let stream: http2.ClientHttp2Stream;
      try {
        stream = session.request(
          { ":method": "POST", ":path": "/gops.v1.DiagnosticsService/MemStats", "content-type": "application/grpc", te: "trailers" },
          { endStream: false },
        );
      } catch {
        report.streamsRefused++;
        break;
      }
      report.streamsOpened++;
      stream.on("error", () => report.streamsRefused++);
      stream.write(header);
      stream.write(part);
      // Let the sockets breathe (and closes be seen) every 200 streams.
      if (i % 200 === 199) await new Promise((r) => setImmediate(r));
    }
  };

  while (Date.now() < end) {
    const opening: Promise<void>[] = [];
    while (sessions.size < p.connections && Date.now() < end) opening.push(open());
    await Promise.all(opening);
    await sleep(100);
  }
  stopping = true;
  for (const s of sessions) s.destroy();
  return report;
}

async function idle(p: Extract<Plan, { kind: "idle" }>): Promise<IdleReport> {
  const report: IdleReport = { connected: 0, connections: [] };
  const t0 = Date.now();
  const since = () => Date.now() - t0;
  // One TLS context for all (a context per connection costs more than the handshake on a slow machine).
  const secureContext = p.tls ? tls.createSecureContext() : undefined;
  const sockets: net.Socket[] = [];
  let tried = 0;
  const done = Array.from({ length: p.count }, () => {
    const conn: IdleConnection = { startedAt: since(), admittedAt: -1, closedAt: -1 };
    report.connections.push(conn);
    const raw = net.connect({ host: p.host, port: p.port, localAddress: p.localAddress });
    const socket = p.tls
      ? tls.connect({ socket: raw, secureContext, ALPNProtocols: ["h2"], rejectUnauthorized: false, servername: "localhost" })
      : raw;
    sockets.push(socket);
    let settled = false;
    const settle = () => {
      if (!settled) tried++;
      settled = true;
    };
    const admitted = () => {
      if (conn.admittedAt === -1) conn.admittedAt = since();
    };
    return new Promise<void>((resolve) => {
      socket.once(p.tls ? "secureConnect" : "connect", () => {
        report.connected++;
        if (p.tls) admitted();
        settle();
      });
      socket.on("error", () => {});
      socket.on("data", () => {
        // Plaintext: gopsd's HTTP/2 SETTINGS, sent once grpc-js has the connection. TLS: session tickets. Dropped.
        admitted();
      });
      socket.once("close", () => {
        settle();
        conn.closedAt = since();
        resolve();
      });
    });
  });
  // Every connection has been tried once it connected or closed (3 s at most).
  for (let i = 0; i < 60 && tried < p.count; i++) await sleep(50);
  process.stdout.write("HOLDING\n");
  const all = Promise.all(done);
  const timedOut = await Promise.race([all.then(() => false), sleep(p.waitMs).then(() => true)]);
  if (timedOut) {
    for (const s of sockets) {
      s.removeAllListeners("close");
      s.destroy();
    }
  }
  return report;
}

const result = plan.kind === "streams" ? await streams(plan) : await idle(plan);
process.stdout.write(`${JSON.stringify(result)}\n`);
clearTimeout(deadline);
process.exit(0);
