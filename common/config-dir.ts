// Where gopsctl and gopsd keep per-user files: `$XDG_CONFIG_HOME/gopsctl`, else `$HOME/.config/gopsctl`.
// Pure: the caller passes the environment (and the account's home directory as the last fallback).
import { homedir } from "node:os";
import { join, resolve } from "node:path";

/**
 * `parts` below `$XDG_CONFIG_HOME/gopsctl`, else below `$HOME/.config/gopsctl` (HOME from `env`, else `home`).
 * A relative or empty XDG_CONFIG_HOME is ignored, as the XDG spec says.
 */
export function gopsctlConfigPath(env: Readonly<Record<string, string | undefined>>, parts: readonly string[], home = homedir()): string {
  const xdg = env.XDG_CONFIG_HOME;
  const base = xdg && xdg.startsWith("/") ? xdg : join(env.HOME || home, ".config");
  return resolve(base, "gopsctl", ...parts);
}
