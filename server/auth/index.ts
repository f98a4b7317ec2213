// gopsd's security layer. Chain on the server in this order (each states in its types what it adds and needs):
//   errorMiddleware → auditMiddleware (adds {audit}) → authnMiddleware (needs {audit}, adds {principal})
//   → limitsMiddleware (needs {principal}) → authzMiddleware (needs {principal}) → service
// For the mTLS certificate subject in audit lines: createServer({ interceptors: [peerCertInterceptor], ... }) and
// auditMiddleware({ certSubject: certSubjectOf, ... }).
export { AuthConfigError } from "./auth-errors.js";
export { openAuditFile, streamAuditSink, type AuditRecord, type AuditSink } from "./audit.js";
export { auditMiddleware, type AuditAnnotation, type AuditContext, type AuditOptions } from "./audit-middleware.js";
export { ANONYMOUS, authnMiddleware, isAnonymous, type AuthnContext } from "./authn-middleware.js";
export { authorize, authzMiddleware } from "./authz-middleware.js";
export { DEFAULT_LIMITS, DEFAULT_MAX_RECEIVE_MESSAGE_BYTES, createLimiter, type Limiter, type LimitsConfig } from "./limits.js";
export { limitsMiddleware } from "./limits-middleware.js";
export { CERT_SUBJECT_METADATA, certSubjectOf, peerCertInterceptor } from "./peer-cert.js";
export { METHOD_SCOPES, SCOPES, hostMatches, isPublicMethod, ruleFor, type AccessRule, type DiagnosticsMethod, type Scope } from "./policy.js";
export { createToken, generateDevKeys, signToken, signingKey, type CreateTokenOptions, type TokenClaims } from "./token.js";
export {
  ALGORITHMS,
  DEFAULT_CLOCK_TOLERANCE_SEC,
  DEFAULT_MAX_LIFETIME_SEC,
  algorithmOf,
  createVerifier,
  jwksKeys,
  loadVerifier,
  publicKey,
  secretKey,
  splitKid,
  type Algorithm,
  type Principal,
  type TokenVerifier,
  type VerificationKey,
  type VerifierConfig,
  type VerifyOptions,
} from "./verifier.js";
