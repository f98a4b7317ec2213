// A security configuration that cannot work (bad key file, unknown algorithm). Thrown at start-up only. The
// statuses the security layer answers with live with the other domain errors in ../errors.ts.
export class AuthConfigError extends Error {
  override readonly name = "AuthConfigError";
}
