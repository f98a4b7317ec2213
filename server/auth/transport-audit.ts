// Audit of calls that grpc-js ends before any middleware sees them: a request that does not decode (malformed
// protobuf: INTERNAL), one over grpc.max_receive_message_length (RESOURCE_EXHAUSTED), a deadline that passes
// while the request is still arriving, a stream the client resets before its request is complete (the partial-
// message flood). A grpc-js server interceptor, installed FIRST in the `interceptors` option so that the call it
// wraps is grpc-js's own: it watches that call's sendStatus (the only way such a status leaves) and its cancel
// notification. A call whose request reached the handler layer is left to the audit middleware; only calls that
// never got there are reported, as refusals (aggregated by refusals.ts).
//
// Not reachable from here (no call exists yet): headers that nghttp2 refuses as a whole (a header block over its
// HPACK limit, e.g. a 1 MB token, closes the connection with COMPRESSION_ERROR), unknown method paths (grpc-js
// answers UNIMPLEMENTED without interceptors) and connection-level errors. Those are bounded by the HTTP/2
// server limits, not audited per call.
import { ServerInterceptingCall, type ServerInterceptor } from "@grpc/grpc-js";
import { Status } from "nice-grpc-common";
import type { AuditRecord } from "./audit.js";

export interface TransportRefusal {
  readonly time: string;
  readonly peer: string;
  readonly method: string;
  readonly outcome: string;
  readonly error: string;
  readonly durationMs: number;
}

export function transportAuditInterceptor(onRefused: (r: TransportRefusal) => void): ServerInterceptor {
  return (method, call) => {
    const time = new Date().toISOString();
    const started = performance.now();
    // A streaming request goes to the handler as soon as the call starts; a unary one once it has decoded.
    let delivered = method.requestStream;
    let ended = false;
    const report = (code: number, details: string) => {
      if (ended) return;
      ended = true;
      if (delivered) return;
      onRefused({
        time,
        peer: call.getPeer(),
        method: method.path,
        outcome: Status[code] ?? `STATUS_${code}`,
        error: details,
        durationMs: Math.round((performance.now() - started) * 1000) / 1000,
      });
    };
    // Statuses grpc-js sends on its own (decode errors, size limits, deadlines) go straight to this call's
    // sendStatus, bypassing every interceptor's responder: watch the method on the instance.
    const ownSendStatus = call.sendStatus.bind(call);
    call.sendStatus = (status: Parameters<typeof call.sendStatus>[0]) => {
      report(status.code ?? Status.UNKNOWN, status.details ?? "");
      ownSendStatus(status);
    };
    return new ServerInterceptingCall(call, {
      start(next) {
        next({
          onReceiveMessage(message, nextMessage) {
            delivered = true;
            nextMessage(message);
          },
          onCancel() {
            report(Status.CANCELLED, "stream closed before the request was complete");
          },
        });
      },
    });
  };
}

/** A transport refusal as an audit record: no principal (no token was verified), no pid (nothing decoded). */
export function transportRefusalRecord(hostName: string, r: TransportRefusal): AuditRecord {
  return {
    time: r.time,
    host: hostName,
    subject: null,
    jti: null,
    peer: r.peer,
    certSubject: null,
    method: r.method,
    pid: null,
    outcome: r.outcome,
    error: r.error,
    bytes: null,
    durationMs: r.durationMs,
  };
}
