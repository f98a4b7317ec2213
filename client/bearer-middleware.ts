// Sends the bearer token with every call. A client middleware rather than default metadata: in nice-grpc a call's
// own `metadata` replaces the client's defaults, so the header is added to whatever metadata the caller passed
// (copied, never mutated). The token is never part of an error message.
import { Metadata, type CallOptions, type ClientMiddleware, type ClientMiddlewareCall } from "nice-grpc";
import { CredentialsError } from "./credentials-error.js";

/** A token, or a function asked before every call (for tokens that are re-read or refreshed). */
export type TokenSource = string | (() => string | Promise<string>);

/** Visible ASCII only: what an HTTP/2 header value may hold, and all a compact JWS is made of. */
const TOKEN_CHARS = /^[\x21-\x7e]+$/;

export function bearerMiddleware(token: TokenSource): ClientMiddleware {
  return async function* bearer<Req, Res>(call: ClientMiddlewareCall<Req, Res>, options: CallOptions) {
    const value = checkToken(typeof token === "string" ? token : await token());
    const metadata = Metadata(options.metadata);
    metadata.set("authorization", `Bearer ${value}`);
    return yield* call.next(call.request, { ...options, metadata });
  };
}

/** The token without surrounding whitespace; a CredentialsError (not quoting it) when it cannot be sent. */
export function checkToken(token: string): string {
  const t = token.trim();
  if (t === "") throw new CredentialsError("the token is empty");
  if (!TOKEN_CHARS.test(t)) throw new CredentialsError("the token holds spaces or characters a metadata header cannot carry");
  return t;
}
