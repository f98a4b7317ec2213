// gopsd's security layer. Chain on the server in this order (each states in its types what it adds and needs):
//   errorMiddleware → auditMiddleware (adds {audit}) → authnMiddleware (needs {audit}, adds {principal})
//   → limitsMiddleware (needs {principal}) → authzMiddleware (needs {principal}) → auditAdmitMiddleware → service
// with transportAuditInterceptor first in createServer({ interceptors }) for calls grpc-js ends on its own, and one
// RefusalLog shared by the two so that floods of refusals become summaries.
// For the mTLS certificate subject in audit lines: createServer({ interceptors: [peerCertInterceptor], ... }) and
// auditMiddleware({ certSubject: certSubjectOf, ... }).
export { ALGORITHMS, AuthConfigError, DEFAULT_MAX_LIFETIME_SEC, SCOPES, type Algorithm, type Scope } from "../../common/token.js";
export { MAX_AUDIT_FIELD, openAuditFile, streamAuditSink, type AuditRecord, type AuditSink } from "./audit.js";
export { auditAdmitMiddleware, auditMiddleware, type AuditAnnotation, type AuditContext, type AuditOptions } from "./audit-middleware.js";
export { OVERFLOW_PEER, createRefusalLog, peerAddress, type RefusalLog, type RefusalLogOptions } from "./refusals.js";
export { transportAuditInterceptor, transportRefusalRecord, type TransportRefusal } from "./transport-audit.js";
export { ANONYMOUS, authnMiddleware, isAnonymous, type AuthnContext } from "./authn-middleware.js";
export { authorize, authzMiddleware } from "./authz-middleware.js";
export {
  DEFAULT_LIMITS,
  DEFAULT_MAX_RECEIVE_MESSAGE_BYTES,
  DEFAULT_PEER_LIMITS,
  createLimiter,
  createPeerLimiter,
  type Limiter,
  type LimitsConfig,
  type PeerLimiter,
  type PeerLimitsConfig,
} from "./limits.js";
export { limitsMiddleware } from "./limits-middleware.js";
export { CERT_SUBJECT_METADATA, certSubjectOf, peerCertInterceptor } from "./peer-cert.js";
export { MAX_HOST_PATTERNS, MAX_HOST_PATTERN_LENGTH, METHOD_SCOPES, METRICS_PATH, globMatch, hostMatches, isPublicMethod, ruleFor, type AccessRule, type DiagnosticsMethod } from "./policy.js";
export { generateDevKeys } from "./token.js";
export {
  DEFAULT_CLOCK_TOLERANCE_SEC,
  createVerifier,
  jwksKeys,
  loadVerifier,
  publicKey,
  secretKey,
  splitKid,
  type Principal,
  type TokenVerifier,
  type VerificationKey,
  type VerifierConfig,
  type VerifyOptions,
} from "./verifier.js";
