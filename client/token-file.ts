// Reads a bearer token from a file, refusing a file others could read (as ssh does with private keys): a token is
// a credential. The file holds the token alone; surrounding whitespace (a trailing newline) is ignored.
import { open } from "node:fs/promises";
import { CredentialsError } from "./credentials-error.js";
import { checkToken } from "./bearer-middleware.js";

/** Larger files are not token files (a JWT is well under 8 KiB). */
export const TOKEN_FILE_MAX_BYTES = 64 * 1024;

/** The token in `path`; CredentialsError when the file is readable by others, too large, or not one token. */
export async function readTokenFile(path: string, opts: { signal?: AbortSignal } = {}): Promise<string> {
  opts.signal?.throwIfAborted();
  let fh;
  try {
    fh = await open(path, "r");
  } catch (e) {
    throw new CredentialsError(`cannot read token file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new CredentialsError(`token file ${path} is not a regular file`);
    const uid = process.getuid?.();
    if (uid !== undefined && st.uid !== uid) throw new CredentialsError(`token file ${path} is owned by uid ${st.uid}, not by you (uid ${uid})`);
    const mode = st.mode & 0o777;
    if ((mode & 0o077) !== 0) {
      const octal = mode.toString(8).padStart(4, "0");
      throw new CredentialsError(`token file ${path} is accessible by others (mode ${octal}); run: chmod 600 ${path}`);
    }
    if (st.size > TOKEN_FILE_MAX_BYTES) throw new CredentialsError(`token file ${path} is too large to be a token (${st.size} bytes)`);
    const text = await fh.readFile({ encoding: "utf8", signal: opts.signal });
    try {
      return checkToken(text);
    } catch (e) {
      throw new CredentialsError(`token file ${path}: ${(e as Error).message}`, { cause: e });
    }
  } finally {
    await fh.close();
  }
}

/**
 * Token files read for many connections at once (a fleet): every read of a path within `reuseMs` of the last one
 * gets that read's answer (or its error), so a fan-out over 1,000 hosts that share a tokenFile reads it a handful
 * of times rather than once per host (an open, fstat, read and close each, ~0.3 ms). A rotated token is still
 * picked up: by calls that start more than `reuseMs` after the rotation.
 */
export class TokenFileReads {
  private readonly recent = new Map<string, { read: Promise<string>; at: number }>();

  constructor(private readonly reuseMs = 1000) {}

  read(path: string): Promise<string> {
    const now = performance.now();
    const last = this.recent.get(path);
    if (last !== undefined && now - last.at < this.reuseMs) return last.read;
    const read = readTokenFile(path);
    // Settled or not, a read is never unhandled here: each caller awaits its own copy of the promise.
    read.catch(() => undefined);
    this.recent.set(path, { read, at: now });
    return read;
  }
}
