// The mTLS client certificate subject, carried from grpc-js to nice-grpc's CallContext. nice-grpc does not expose
// the grpc-js call (whose getAuthContext() has the peer certificate), so a grpc-js server interceptor copies the
// subject into a reserved metadata key, first deleting whatever the client sent under that key (a client cannot
// forge it). Install with `createServer({ interceptors: [peerCertInterceptor] })`; read with `certSubjectOf`.
import { ServerInterceptingCall, type ServerInterceptor } from "@grpc/grpc-js";
import type { PeerCertificate } from "node:tls";
import type { CallContext } from "nice-grpc";

export const CERT_SUBJECT_METADATA = "x-gopsd-peer-cert-subject-bin";

export const peerCertInterceptor: ServerInterceptor = (_method, call) =>
  new ServerInterceptingCall(call, {
    start(next) {
      next({
        onReceiveMetadata(metadata, nextMetadata) {
          metadata.remove(CERT_SUBJECT_METADATA);
          const subject = formatCertSubject(call.getAuthContext().sslPeerCertificate);
          if (subject !== undefined) metadata.set(CERT_SUBJECT_METADATA, Buffer.from(subject, "utf8"));
          nextMetadata(metadata);
        },
      });
    },
  });

/** "CN=alice,O=ops" in the certificate's order; undefined when there is no client certificate. */
function formatCertSubject(cert: PeerCertificate | undefined): string | undefined {
  const subject = cert?.subject as Record<string, string | string[]> | undefined;
  if (!subject || Object.keys(subject).length === 0) return undefined;
  return Object.entries(subject)
    .flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => `${k}=${x}`))
    .join(",");
}

/** The subject the interceptor recorded for this call, for AuditOptions.certSubject. */
export function certSubjectOf(context: CallContext): string | undefined {
  const v = context.metadata.get(CERT_SUBJECT_METADATA);
  return v === undefined ? undefined : Buffer.from(v).toString("utf8");
}
