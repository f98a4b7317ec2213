// The statuses the security layer answers with. Messages are one line and never echo a token, key or signature.
import { GopsError, Status } from "../errors.js";

/** Missing or invalid credentials: UNAUTHENTICATED with a fixed, non-secret reason ("token expired"). */
export const unauthenticated = (reason: string) => new GopsError(Status.UNAUTHENTICATED, reason);

/** A valid token that may not do this: PERMISSION_DENIED. */
export const forbidden = (reason: string) => new GopsError(Status.PERMISSION_DENIED, reason);

/** An abuse limit was hit: RESOURCE_EXHAUSTED. */
export const limitExceeded = (reason: string) => new GopsError(Status.RESOURCE_EXHAUSTED, reason);

/** A security configuration that cannot work (bad key file, unknown algorithm). Thrown at start-up only. */
export class AuthConfigError extends Error {
  override readonly name = "AuthConfigError";
}
