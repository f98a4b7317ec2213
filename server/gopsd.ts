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
  METRICS_PATH,
  type AuditRecord,
  type AuditSink,
  type RefusalLog,
} from "./auth/index.js";
import { ConfigError } from "./config-error.js";
import type { GopsdConfig, TlsConfig } from "./config.js";
import { errorMiddleware } from "./error-middleware.js";
import { createGuardedServer } from "./grpc-server.js";
import { createHostDiagnostics, type HostDiagnostics } from "./host-diagnostics.js";
import { startCapture, type RunningCapture } from "./capture/index.js";
import { setNamespaceDialLog } from "./agent/netns-dial.js";
import { withSharedWatchStatsEncoding } from "./stats-watch/encode.js";
import { createProcFs } from "./proc/index.js";
import { diagnosticsService } from "./service.js";
import { LazyServerReflectionService, LazyServerReflectionV1AlphaService, REFLECTION_SERVICE_NAMES, lazyServerReflection } from "./reflection.js";
import { startIdleGc } from "./idle-gc.js";
import { firstLine } from "../common/first-line.js";
import { namespaceDials } from "./agent/netns-dial.js";
import { MetricsExporter, startMetricsServer, type RunningMetricsServer } from "./metrics/index.js";

export interface RunningGopsd {
  /** The address clients dial: "127.0.0.1:PORT" or "unix:/path". */
  readonly address: string;
  /** Where GET /metrics is served ("http://127.0.0.1:PORT/metrics", "https://...", "unix:/path"), when configured. */
  readonly metricsAddress?: string;
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
  core?: Diagnostics | HostDiagnostics;
}

export async function startGopsd(config: GopsdConfig, log: GopsdLog, deps: GopsdDeps = {}): Promise<RunningGopsd> {
  const signal = AbortSignal.timeout(STARTUP_IO_TIMEOUT_MS);
  const verifier = config.auth ? await loadVerifier(config.auth, { signal }) : undefined;
  const tlsFiles = config.tls ? await readTlsFiles(config.tls, signal) : undefined;
  const credentials = tlsFiles ? tlsCredentials(tlsFiles) : ServerCredentials.createInsecure();
  const audit = config.audit;
  const sink: AuditSink =
    audit.kind === "file"
      ? await openAuditFile(audit.path, { signal, onError: (e) => log.error(`audit log ${audit.path}: ${e.message}`) })
      : streamAuditSink(process.stdout);

  let capture: RunningCapture | undefined;
  try {
    // Once per process and reason: agents in other network namespaces reached through the relay fallback.
    setNamespaceDialLog((line) => log.error(line));
    const host = deps.core
      ? undefined
      : createHostDiagnostics({
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
    const core = deps.core ?? host!;
    // Incident capture (capture.*): the store, and the rules as one more subscriber of the shared sampler.
    capture = await startCapture(config.capture, { host: config.hostName, core, audit: (r) => sink.write(r), log: (m) => log.error(m) });
    const health = HealthState();
    const l = config.limits;
    // Refused calls by status, for the metrics port (gopsd_refused_calls_total).
    const refusedCalls = new Map<string, number>();
    const refusalLog = createRefusalLog(sink);
    const refusals: RefusalLog = {
      ...refusalLog,
      refused(record) {
        if (record.outcome !== "OK") refusedCalls.set(record.outcome, (refusedCalls.get(record.outcome) ?? 0) + 1);
        refusalLog.refused(record);
      },
    };
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
    const { ratePerSec, burst, maxConcurrentPerSubject, maxConcurrentStreams, maxWatchStreams, maxWatchStreamsPerSubject } = config.limits;
    const server: Server<object> = verifier
      ? base
          .use(authnMiddleware(verifier, { peers: createPeerLimiter(DEFAULT_PEER_LIMITS) }))
          .use(limitsMiddleware(createLimiter({ ratePerSec, burst, maxConcurrentPerSubject, maxConcurrentStreams, maxWatchStreams, maxWatchStreamsPerSubject })))
          .use(authzMiddleware({ hostName: config.hostName }))
          .use(auditAdmitMiddleware())
      : base.use(auditAdmitMiddleware());
    server.add(withSharedWatchStatsEncoding(DiagnosticsServiceDefinition), diagnosticsService(core, capture.service));
    server.add(HealthDefinition, HealthServiceImpl(health));
    // Reflection v1 and v1alpha share one implementation; every service it lists is described by the descriptor set.
    const reflection = lazyServerReflection(readDescriptorSet, [
      DiagnosticsServiceDefinition.fullName,
      HealthDefinition.fullName,
      ...REFLECTION_SERVICE_NAMES,
    ]);
    server.add(LazyServerReflectionService, reflection);
    server.add(LazyServerReflectionV1AlphaService, reflection);

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
    let metrics: { exporter: MetricsExporter; server: RunningMetricsServer } | undefined;
    if (config.metrics) {
      if (host === undefined) throw new ConfigError("metrics.listen: the metrics port needs the host's own sampler");
      const m = config.metrics;
      const refusedScrapes = new Map<string, number>();
      const exporter = new MetricsExporter({
        source: host.sampler.hub,
        fs: host.sampler.fs,
        intervalMs: m.intervalMs,
        maxProcesses: m.maxProcesses,
        counters: () => ({ namespaceDials, refusedCalls, refusedScrapes }),
      });
      try {
        const port = await startMetricsServer({
          listen: m.listen,
          ...(tlsFiles && !m.listen.startsWith("unix:") ? { tls: tlsFiles } : {}),
          ...(verifier ? { verifier, peers: createPeerLimiter(DEFAULT_PEER_LIMITS) } : {}),
          hostName: config.hostName,
          scrape: (accept) => exporter.scrape(accept),
          onRefused(reason, message, peer) {
            refusedScrapes.set(reason, (refusedScrapes.get(reason) ?? 0) + 1);
            if (reason === "not_found" || reason === "method") return;
            refusals.refused(metricsRefusalRecord(config.hostName, peer, reason, message));
          },
        });
        metrics = { exporter, server: port };
      } catch (e) {
        server.forceShutdown(); // the gRPC port already listens
        throw new MetricsListenError(m.listen, e);
      }
      exporter.start();
    }
    health.setStatus("healthy", DiagnosticsServiceDefinition.fullName);
    return {
      address,
      ...(metrics ? { metricsAddress: metrics.server.address } : {}),
      async close() {
        health.setStatus("unhealthy");
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([server.shutdown(), new Promise((resolve) => (timer = setTimeout(resolve, SHUTDOWN_GRACE_MS)))]);
        clearTimeout(timer);
        server.forceShutdown();
        metrics?.exporter.close();
        await metrics?.server.close();
        await capture?.stop();
        idleGc.stop();
        refusals.close();
        await sink.close();
      },
    };
  } catch (e) {
    await capture?.stop();
    await sink.close();
    throw e;
  }
}

const NO_CA = Buffer.alloc(0);

/** The metrics port could not listen (the gRPC port could). */
export class MetricsListenError extends Error {
  constructor(listen: string, cause: unknown) {
    super(`cannot serve metrics on ${listen}: ${firstLine(cause)}`, { cause });
  }
}

/** A refused request to the metrics port as an audit line (to the refusal log, which aggregates floods). */
function metricsRefusalRecord(host: string, peer: string, reason: string, message: string): AuditRecord {
  const outcome = reason === "forbidden" ? "PERMISSION_DENIED" : reason === "rate_limited" ? "RESOURCE_EXHAUSTED" : "UNAUTHENTICATED";
  return {
    time: new Date().toISOString(),
    host,
    subject: null,
    jti: null,
    peer,
    certSubject: null,
    method: METRICS_PATH,
    pid: null,
    outcome,
    error: message,
    bytes: null,
    durationMs: 0,
  };
}

interface TlsFiles {
  cert: Buffer;
  key: Buffer;
  clientCa?: Buffer;
}

/** The PEM files of the TLS config (shared by the gRPC port and the metrics port). */
async function readTlsFiles(tls: TlsConfig, signal: AbortSignal): Promise<TlsFiles> {
  const read = async (key: string, path: string) => {
    try {
      return await readFile(path, { signal });
    } catch (e) {
      throw new ConfigError(`${key}: cannot read ${path}: ${firstLine(e)}`);
    }
  };
  const [cert, key, clientCa] = await Promise.all([
    read("tls.cert", tls.cert),
    read("tls.key", tls.key),
    tls.clientCa !== undefined ? read("tls.clientCa", tls.clientCa) : undefined,
  ]);
  return { cert, key, ...(clientCa ? { clientCa } : {}) };
}

/** Server TLS from the PEM files; with a client CA every client must present a certificate it signed. */
function tlsCredentials({ cert, key, clientCa: ca }: TlsFiles): ServerCredentials {
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
