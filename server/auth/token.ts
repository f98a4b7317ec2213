// Dev mode's key: creates the HS256 secret that gopsd --dev verifies and `gopsctl token create --dev` signs with
// (signing itself lives in common/token.ts, shared with the CLI).
import { randomBytes } from "node:crypto";
import { constants as fsConstants } from "node:fs";
import { chmod, mkdir, open, readFile } from "node:fs/promises";
import { dirname } from "node:path";
import { AuthConfigError, MIN_HS256_SECRET_BYTES } from "../../common/token.js";

/**
 * Makes `hsSecretFile` an HS256 secret of 32 random bytes (mode 0600, its directory 0700) for dev mode, or reuses
 * the one already there (modes narrowed). The path comes from common/dev-key.ts, shared with gopsctl.
 */
export async function generateDevKeys(
  hsSecretFile: string,
  opts: { signal?: AbortSignal } = {},
): Promise<{ hsSecretFile: string; created: boolean }> {
  const dir = dirname(hsSecretFile);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  opts.signal?.throwIfAborted();
  try {
    const fh = await open(hsSecretFile, "wx", 0o600);
    try {
      await fh.writeFile(randomBytes(32));
    } finally {
      await fh.close();
    }
    return { hsSecretFile, created: true };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
  }
  const fh = await open(hsSecretFile, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW);
  try {
    if (((await fh.stat()).mode & 0o777) !== 0o600) await fh.chmod(0o600);
  } finally {
    await fh.close();
  }
  const existing = await readFile(hsSecretFile, { signal: opts.signal });
  if (existing.length < MIN_HS256_SECRET_BYTES) {
    throw new AuthConfigError(`${hsSecretFile} has ${existing.length} bytes; delete it to generate a new dev secret`);
  }
  return { hsSecretFile, created: false };
}
