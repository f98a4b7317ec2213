// Trust material or a token that cannot be used as configured: an unreadable or unprotected file, a token that
// cannot travel in metadata, a token on a connection without TLS. Messages name files, never a token's content.
/** TLS material or a token that cannot be used as configured (the message names the file, never the token). */
export class CredentialsError extends Error {
  override readonly name = "CredentialsError";
}
