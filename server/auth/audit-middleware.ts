// Audit middleware: the first of the security chain, so that it also records refused calls. It gives later
// middlewares a per-call annotation slot (`context.audit`) where authn records the principal it verified, and
// `admit()`, which auditAdmitMiddleware (the last of the chain) calls as the call goes on to the service: that
// writes the call's "start" line at once, and its outcome line follows when it ends. A call that never got that far
// (refused by authn, limits or authz) was refused: it goes to the refusal log, which aggregates floods.
import type { CallContext, ServerMiddleware, ServerMiddlewareCall } from "nice-grpc";
import { ServerError, Status } from "nice-grpc-common";
import { DiagnosticsServiceDefinition } from "../../proto/index.js";
import { toGopsError, toServerError } from "../error-middleware.js";
import type { AuditRecord, AuditSink } from "./audit.js";
import { isPublicMethod } from "./policy.js";
import type { RefusalLog } from "./refusals.js";
import type { Principal } from "./verifier.js";

/** Per-call facts that middlewares after the audit one fill in. */
export interface AuditAnnotation {
  principal?: Principal;
  /** Which backend served the call ("gops-agent", "http-pprof"), set by the service once it has chosen. */
  backend?: string;
  /** Marks the call as going on to the service and writes its start line (once; none for public methods). */
  admit?: () => void;
  /** An unauthenticated call over its address's budget: its line is aggregated even when it succeeds. */
  quiet?: boolean;
}

export interface AuditContext {
  readonly audit: AuditAnnotation;
}

export interface AuditOptions {
  readonly hostName: string;
  readonly sink: AuditSink;
  /**
   * The subject of the client's TLS certificate. nice-grpc's CallContext does not expose the grpc-js call, so
   * this is read from what the transport put in the context (see peer-cert.ts).
   */
  readonly certSubject?: (context: CallContext) => string | undefined;
  /** Where refused calls go; without it they are written like any other line. */
  readonly refusals?: RefusalLog;
}

type Sizer = (message: unknown) => number;

const SIZERS: ReadonlyMap<string, Sizer> = new Map(
  Object.values(DiagnosticsServiceDefinition.methods).map((m) => {
    // Handlers may return partial messages (nice-grpc completes them when serializing): complete, then encode.
    const type = m.responseType as unknown as { fromPartial(x: unknown): unknown; encode(x: unknown): { finish(): Uint8Array } };
    const sizer: Sizer = (x) => chunkLength(x) ?? type.encode(type.fromPartial(x)).finish().length;
    return [`/${DiagnosticsServiceDefinition.fullName}/${m.name}`, sizer] as const;
  }),
);

/** Length of the bytes a chunk message carries (`{chunk}` or a `{payload: {$case: "chunk"}}` oneof). */
function chunkLength(x: unknown): number | undefined {
  const m = x as { chunk?: unknown; payload?: { $case?: unknown; value?: unknown } };
  if (m.chunk instanceof Uint8Array) return m.chunk.byteLength;
  if (m.payload?.$case === "chunk" && m.payload.value instanceof Uint8Array) return m.payload.value.byteLength;
  return undefined;
}

export function auditMiddleware(opts: AuditOptions): ServerMiddleware<AuditContext> {
  return async function* audit<Req, Res>(call: ServerMiddlewareCall<Req, Res, AuditContext>, context: CallContext) {
    const time = new Date().toISOString();
    const started = performance.now();
    const sizer = SIZERS.get(call.method.path);
    let bytes = 0;
    let outcome: Status | undefined;
    let error: string | undefined;
    let reason: string | undefined;
    let admitted = false;
    const base = () => {
      const p = annotation.principal;
      return {
        time,
        host: opts.hostName,
        subject: p?.subject ?? null,
        jti: p?.tokenId ?? null,
        peer: context.peer,
        certSubject: opts.certSubject?.(context) ?? null,
        method: call.method.path,
        pid: pidOf(call.requestStream ? undefined : call.request),
      };
    };
    const annotation: AuditAnnotation = {
      admit() {
        if (admitted) return;
        admitted = true;
        if (isPublicMethod(call.method.path)) return;
        opts.sink.write({ ...base(), outcome: "STARTED", bytes: null, durationMs: 0, phase: "start" });
      },
    };
    try {
      if (call.responseStream) {
        for await (const msg of call.next(call.request, { ...context, audit: annotation })) {
          if (sizer) bytes += sizer(msg);
          yield msg;
        }
        outcome = Status.OK;
        return;
      }
      const res = yield* call.next(call.request, { ...context, audit: annotation });
      if (sizer) bytes += sizer(res);
      outcome = Status.OK;
      return res;
    } catch (e) {
      const se = toServerError(e);
      outcome = se.code;
      error = se.details;
      if (!(e instanceof ServerError)) reason = toGopsError(e).reason;
      throw e;
    } finally {
      // No outcome: the generator was closed from outside, which nice-grpc does when the client cancels.
      const status = outcome ?? Status.CANCELLED;
      const record: AuditRecord = {
        ...base(),
        outcome: Status[status],
        ...(error !== undefined ? { error } : {}),
        ...(reason !== undefined ? { reason } : {}),
        ...(annotation.backend !== undefined ? { backend: annotation.backend } : {}),
        bytes: sizer ? bytes : null,
        durationMs: Math.round((performance.now() - started) * 1000) / 1000,
      };
      const refused = !admitted && status !== Status.OK;
      if ((refused || annotation.quiet) && opts.refusals) opts.refusals.refused(record);
      else opts.sink.write(record);
    }
  };
}

function pidOf(request: unknown): number | null {
  const pid = (request as { pid?: unknown } | undefined)?.pid;
  return typeof pid === "number" ? pid : null;
}

/** The last middleware before the service: the call is admitted, its start line is written now. */
export function auditAdmitMiddleware(): ServerMiddleware<{}, AuditContext> {
  return async function* auditAdmit<Req, Res>(call: ServerMiddlewareCall<Req, Res, AuditContext>, context: CallContext & AuditContext) {
    context.audit.admit?.();
    return yield* call.next(call.request, context);
  };
}
