// gopsd's security layer. Chain on the server in this order (each states in its types what it adds and needs):
//   errorMiddleware → auditMiddleware (adds {audit}) → authnMiddleware (needs {audit}, adds {principal})
//   → limitsMiddleware (needs {principal}) → authzMiddleware (needs {principal}) → service
// For the mTLS certificate subject in audit lines: createServer({ interceptors: [peerCertInterceptor], ... }) and
// auditMiddleware({ certSubject: certSubjectOf, ... }).
export { ALGORITHMS, AuthConfigError, DEFAULT_MAX_LIFETIME_SEC, SCOPES, type Algorithm, type Scope } from "../../common/token.js";
export { openAuditFile, streamAuditSink, type AuditRecord, type AuditSink } from "./audit.js";
export { auditMiddleware, type AuditAnnotation, type AuditContext, type AuditOptions } from "./audit-middleware.js";
export { ANONYMOUS, authnMiddleware, isAnonymous, type AuthnContext } from "./authn-middleware.js";
export { authorize, authzMiddleware } from "./authz-middleware.js";
export { DEFAULT_LIMITS, DEFAULT_MAX_RECEIVE_MESSAGE_BYTES, createLimiter, type Limiter, type LimitsConfig } from "./limits.js";
export { limitsMiddleware } from "./limits-middleware.js";
export { CERT_SUBJECT_METADATA, certSubjectOf, peerCertInterceptor } from "./peer-cert.js";
export { METHOD_SCOPES, hostMatches, isPublicMethod, ruleFor, type AccessRule, type DiagnosticsMethod } from "./policy.js";
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
