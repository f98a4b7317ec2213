// Builds and starts a gopsd server from a config: the Diagnostics service behind the middleware chain, plus
// grpc.health.v1 (public) and server reflection. With auth the chain is
//   errors → audit → authn → limits → authz → audit-admit → service      (see auth/index.ts)
// and without auth (unix socket, or loopback with --insecure) errors → audit → audit-admit → service. The
// transport-audit interceptor (first) reports calls grpc-js ends before the chain; refusals from both are
// aggregated per source address and reason. TLS, and mTLS with a
// client CA, come from the config; the peer-cert interceptor then puts the client certificate subject in audit
// lines. Used by main.ts and by tests that need a real server.
import { readFileSync } from "node:fs";
import { chmod, readFile, rm } from "node:fs/promises";
import { ServerCredentials, ServerInterceptingCall, type ServerInterceptor } from "@grpc/grpc-js";
import type { Server } from "nice-grpc";
import { HealthDefinition, HealthServiceImpl, HealthState } from "nice-grpc-server-health";
import type { Diagnostics } from "../common/diagnostics.js";
import { DiagnosticsServiceDefinition } from "../proto/index.js";
import {
  DEFAULT_PEER_LIMITS,
  auditAdmitMiddleware,
  auditMiddleware,
  authnMiddleware,
  authzMiddleware,
  certSubjectOf,
  createLimiter,
  createPeerLimiter,
  createRefusalLog,
  transportAuditInterceptor,
  transportRefusalRecord,
  limitsMiddleware,
  loadVerifier,
  openAuditFile,
  peerCertInterceptor,
  streamAuditSink,
  type AuditSink,
} from "./auth/index.js";
import { ConfigError } from "./config-error.js";
import type { GopsdConfig, TlsConfig } from "./config.js";
import { errorMiddleware } from "./error-middleware.js";
import { createGuardedServer } from "./grpc-server.js";
import { createHostDiagnostics } from "./host-diagnostics.js";
import { createProcFs } from "./proc/index.js";
import { diagnosticsService } from "./service.js";
import { LazyServerReflectionService, lazyServerReflection } from "./reflection.js";
import { startIdleGc } from "./idle-gc.js";
import { firstLine } from "../common/first-line.js";

export interface RunningGopsd {
  /** The address clients dial: "127.0.0.1:PORT" or "unix:/path". */
  readonly address: string;
  /** Stops taking calls, lets running ones finish for a short grace period, then closes the audit log. */
  close(): Promise<void>;
}

export interface GopsdLog {
  error(msg: string): void;
}

/** How long start-up may spend reading key, certificate and audit files. */
const STARTUP_IO_TIMEOUT_MS = 10_000;
/** How long gopsd waits for the answer to its keepalive ping before closing the connection. */
const KEEPALIVE_TIMEOUT_MS = 20_000;
/** After grpc-js's GOAWAY to an idle connection, how long its peer has to close it. */
const IDLE_CLOSE_GRACE_MS = 1_000;
/** How long close() waits for running calls before cutting them. */
const SHUTDOWN_GRACE_MS = 2_000;

/** What a caller may put in place of the real host: the fleet benchmark serves recorded answers through the real stack. */
export interface GopsdDeps {
  core?: Diagnostics;
}

export async function startGopsd(config: GopsdConfig, log: GopsdLog, deps: GopsdDeps = {}): Promise<RunningGopsd> {
  const signal = AbortSignal.timeout(STARTUP_IO_TIMEOUT_MS);
  const verifier = config.auth ? await loadVerifier(config.auth, { signal }) : undefined;
  const credentials = config.tls ? await tlsCredentials(config.tls, signal) : ServerCredentials.createInsecure();
  const audit = config.audit;
  const sink: AuditSink =
    audit.kind === "file"
      ? await openAuditFile(audit.path, { signal, onError: (e) => log.error(`audit log ${audit.path}: ${e.message}`) })
      : streamAuditSink(process.stdout);

  try {
    const core =
      deps.core ??
      createHostDiagnostics({
        hostName: config.hostName,
        agentTimeouts: config.agentTimeouts,
        ...(config.procRoot !== undefined ? { procFs: createProcFs(config.procRoot) } : {}),
        containerSources: config.containers,
        pprof: {
          probeOnList: config.pprof.probeOnList,
          declared: config.pprof.endpoints,
          ...(config.pprof.probeExe ? { probeExe: config.pprof.probeExe } : {}),
        },
      });
    const health = HealthState();
    const l = config.limits;
    const refusals = createRefusalLog(sink);
    const idleGc = startIdleGc();
    const idleGcInterceptor: ServerInterceptor = (_method, call) => (idleGc.activity(), new ServerInterceptingCall(call));
    const transportAudit = transportAuditInterceptor((r) => refusals.refused(transportRefusalRecord(config.hostName, r)));
    const options = {
      "grpc.max_receive_message_length": l.maxRequestBytes,
      // Bounds on what one connection can make gopsd hold before any authentication: streams, nghttp2 memory
      // (grpc-js lifts Node's 10 MB default to "unlimited" unless this is set; beyond it new streams get
      // ENHANCE_YOUR_CALM), an idle connection is sent GOAWAY, and silent peers are found by pings.
      "grpc.max_concurrent_streams": l.maxStreamsPerConnection,
      "grpc-node.max_session_memory": Math.max(1, Math.ceil(l.maxSessionMemoryBytes / 2 ** 20)),
      "grpc.max_connection_idle_ms": l.idleTimeoutMs,
      "grpc.keepalive_time_ms": l.keepaliveTimeMs,
      "grpc.keepalive_timeout_ms": KEEPALIVE_TIMEOUT_MS,
      // channelz bookkeeping costs ~0.05 ms per call and nothing here reads it.
      "grpc.enable_channelz": 0,
      // The transport audit must come first: it wraps grpc-js's own call (see auth/transport-audit.ts).
      // The idle collector only counts calls: it hands grpc-js's own call on untouched.
      interceptors: [transportAudit, ...(config.tls?.clientCa !== undefined ? [peerCertInterceptor] : []), idleGcInterceptor],
    };
    // The listening socket is gopsd's own (see grpc-server.ts): connection caps and set-up/idle timers apply
    // before grpc-js sees a byte.
    const base = createGuardedServer(options, {
      maxConnections: l.maxConnections,
      maxConnectionsPerSource: l.maxConnectionsPerSource,
      setupTimeoutMs: l.handshakeTimeoutMs,
      // grpc-js sends GOAWAY at idleTimeoutMs; a peer that ignores it is cut a little later.
      idleTimeoutMs: l.idleTimeoutMs + IDLE_CLOSE_GRACE_MS,
    })
      .use(errorMiddleware((method, e) => log.error(`${method}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`)))
      .use(
        auditMiddleware({ hostName: config.hostName, sink, refusals, ...(config.tls?.clientCa !== undefined ? { certSubject: certSubjectOf } : {}) }),
      );
    const { ratePerSec, burst, maxConcurrentPerSubject, maxConcurrentStreams } = config.limits;
    const server: Server<object> = verifier
      ? base
          .use(authnMiddleware(verifier, { peers: createPeerLimiter(DEFAULT_PEER_LIMITS) }))
          .use(limitsMiddleware(createLimiter({ ratePerSec, burst, maxConcurrentPerSubject, maxConcurrentStreams })))
          .use(authzMiddleware({ hostName: config.hostName }))
          .use(auditAdmitMiddleware())
      : base.use(auditAdmitMiddleware());
    server.add(DiagnosticsServiceDefinition, diagnosticsService(core));
    server.add(HealthDefinition, HealthServiceImpl(health));
    server.add(
      LazyServerReflectionService,
      lazyServerReflection(readDescriptorSet, [DiagnosticsServiceDefinition.fullName, "grpc.health.v1.Health"]),
    );

    let address: string;
    if (config.listen.startsWith("unix:")) {
      const path = config.listen.slice(5);
      await rm(path, { force: true });
      // Owner-only from the moment the socket exists: no window where another user could connect.
      const oldMask = process.umask(0o177);
      try {
        await server.listen(config.listen, credentials);
      } finally {
        process.umask(oldMask);
      }
      await chmod(path, 0o600);
      address = config.listen;
    } else {
      const port = await server.listen(config.listen, credentials);
      address = config.listen.replace(/:\d+$/, `:${port}`);
    }
    health.setStatus("healthy", DiagnosticsServiceDefinition.fullName);
    return {
      address,
      async close() {
        health.setStatus("unhealthy");
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([server.shutdown(), new Promise((resolve) => (timer = setTimeout(resolve, SHUTDOWN_GRACE_MS)))]);
        clearTimeout(timer);
        server.forceShutdown();
        idleGc.stop();
        refusals.close();
        await sink.close();
      },
    };
  } catch (e) {
    await sink.close();
    throw e;
  }
}

const NO_CA = Buffer.alloc(0);

/** Server TLS from PEM files; with a client CA every client must present a certificate it signed. */
async function tlsCredentials(tls: TlsConfig, signal: AbortSignal): Promise<ServerCredentials> {
  const read = async (key: string, path: string) => {
    try {
      return await readFile(path, { signal });
    } catch (e) {
      throw new ConfigError(`${key}: cannot read ${path}: ${firstLine(e)}`);
    }
  };
  const [cert, key, ca] = await Promise.all([
    read("tls.cert", tls.cert),
    read("tls.key", tls.key),
    tls.clientCa !== undefined ? read("tls.clientCa", tls.clientCa) : undefined,
  ]);
  try {
    // Without a client CA gopsd verifies no certificate, so it needs no trust store: an empty CA list (not null)
    // keeps grpc-js from reading GRPC_DEFAULT_SSL_ROOTS_FILE_PATH into the context and Node from building its
    // bundled root store for it (~1.5-2 MB of parsed certificates held for the daemon's life).
    return ServerCredentials.createSsl(ca ?? NO_CA, [{ cert_chain: cert, private_key: key }], ca !== undefined);
  } catch (e) {
    throw new ConfigError(`tls: unusable certificate or key: ${firstLine(e)}`);
  }
}

/**
 * The FileDescriptorSet built by `npm run generate`: next to the generated code (source tree or dist/), or in the
 * single executable (`npm run release`), its asset of that name.
 */
function readDescriptorSet(): Uint8Array {
  const sea = process.getBuiltinModule("node:sea");
  if (sea?.isSea() === true) return new Uint8Array(sea.getAsset("gops.binpb"));
  return readFileSync(new URL("../proto/gen/gops.binpb", import.meta.url));
}
