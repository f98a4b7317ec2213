// Ports for tests that need one nothing listens on, without assuming that any given port is free on this
// machine. Test-only (integration/ is not built into dist/); no side effects on import.
import { readFile } from "node:fs/promises";

/**
 * A TCP port nothing listens on in this network namespace now: the lowest one below 1024 (only root can bind
 * there, and no ephemeral port is ever one, unlike a port just closed, which another process may be given a
 * moment later) that no socket in /proc/net/tcp{,6} is listening on.
 */
export async function portNobodyListensOn(): Promise<number> {
  const listening = new Set<number>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    const text = await readFile(table, "utf8").catch(() => ""); // no IPv6: no table
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[3] === "0A") listening.add(parseInt(f[1]!.split(":")[1]!, 16));
    }
  }
  for (let port = 1; port < 1024; port++) if (!listening.has(port)) return port;
  throw new Error("every port below 1024 is listened on");
}
