// The gRPC face of a host's Diagnostics: a thin layer that hands each call, with its cancellation signal, to the
// same core the local backend uses. Validation lives in the core; status mapping in error-middleware.ts. The
// core says which backend served the call; that goes into the call's audit annotation when there is one.
import type { CallContext } from "nice-grpc";
import type { DiagnosticsServiceImplementation } from "../proto/index.js";
import type { AuditContext } from "./auth/index.js";
import type { CaptureService } from "./capture/service.js";
import type { HostDiagnostics } from "./host-diagnostics.js";

export function diagnosticsService(core: HostDiagnostics, captures: CaptureService): DiagnosticsServiceImplementation {
  const opts = (ctx: CallContext) => ({
    signal: ctx.signal,
    onBackend: (name: string) => {
      const audit = (ctx as CallContext & Partial<AuditContext>).audit;
      if (audit) audit.backend = name;
    },
  });
  return {
    listProcesses: (req, ctx) => core.listProcesses(req, opts(ctx)),
    getProcess: (req, ctx) => core.getProcess(req, opts(ctx)),
    getBuildInfo: (req, ctx) => core.getBuildInfo(req, opts(ctx)),
    stack: (req, ctx) => core.stack(req, opts(ctx)),
    memStats: (req, ctx) => core.memStats(req, opts(ctx)),
    stats: (req, ctx) => core.stats(req, opts(ctx)),
    version: (req, ctx) => core.version(req, opts(ctx)),
    forceGC: (req, ctx) => core.forceGC(req, opts(ctx)),
    setGCPercent: (req, ctx) => core.setGCPercent(req, opts(ctx)),
    streamProfile: (req, ctx) => core.streamProfile(req, opts(ctx)),
    streamTrace: (req, ctx) => core.streamTrace(req, opts(ctx)),
    streamBinary: (req, ctx) => core.streamBinary(req, opts(ctx)),
    watchStats: (req, ctx) => core.watchStats(req, opts(ctx)),
    listCaptures: (req) => captures.listCaptures(req),
    getCapture: (req, ctx) => captures.getCapture(req, { signal: ctx.signal }),
    deleteCapture: (req) => captures.deleteCapture(req),
  };
}
