// Where dev mode keeps its HS256 secret, shared by gopsd (`--dev` creates it) and gopsctl (`token create --dev`
// signs with it), and the claims a dev token carries. Pure: the caller passes the environment.
import { gopsctlConfigPath } from "./config-dir.js";

/** Issuer and audience of dev-mode tokens; gopsd --dev verifies exactly these. */
export const DEV_ISSUER = "gopsctl-dev";
export const DEV_AUDIENCE = "gopsd";
export const DEV_ALGORITHM = "HS256";

/**
 * `$XDG_CONFIG_HOME/gopsctl/dev/hs256.key`, else `$HOME/.config/gopsctl/dev/hs256.key` (HOME from `env`, else the
 * account's home directory). A relative XDG_CONFIG_HOME is ignored, as the XDG spec says.
 */
export function devSecretPath(env: Readonly<Record<string, string | undefined>>): string {
  return gopsctlConfigPath(env, ["dev", "hs256.key"]);
}
