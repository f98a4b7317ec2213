// /proc/PID/cmdline and /proc/PID/environ: NUL-separated strings.

export function parseCmdline(raw: Buffer): string[] {
  if (raw.length === 0) return [];
  const end = raw[raw.length - 1] === 0 ? raw.length - 1 : raw.length;
  return raw.toString("utf8", 0, end).split("\0");
}

/** Environment as a map; when a name repeats, the first value wins (as getenv does). */
export function parseEnviron(raw: Buffer): Map<string, string> {
  const env = new Map<string, string>();
  for (const entry of parseCmdline(raw)) {
    const eq = entry.indexOf("=");
    if (eq <= 0) continue;
    const name = entry.slice(0, eq);
    if (!env.has(name)) env.set(name, entry.slice(eq + 1));
  }
  return env;
}
