// Test helper: a signed token from a key file in one call (the product reads keys with a signal and its own
// messages: cli/commands/token.ts).
import { readFileSync } from "node:fs";
import { signToken, signingKey, type TokenClaims } from "./token.js";

export interface CreateTokenOptions extends TokenClaims {
  /** HS256: the secret file (its bytes as they are); RS256/ES256: a PEM private key. */
  readonly keyFile: string;
}

/** Reads the signing key from `keyFile` and returns a compact JWS. */
export function createToken(opts: CreateTokenOptions): string {
  return signToken(signingKey(readFileSync(opts.keyFile), opts.alg, opts.keyFile), opts);
}
