// The version of the gopsctl package a file belongs to, for `gopsctl --version` and `gopsd --version`.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The version in gopsctl's package.json, found upwards from `fileUrl` (import.meta.url of the caller: cli/ or
 * server/ in the repository, dist/cli/ or dist/server/ installed), or in a single executable (`npm run release`) its
 * "package.json" asset; "unknown" when there is none.
 */
export function packageVersion(fileUrl: string): string {
  const sea = process.getBuiltinModule("node:sea");
  if (sea?.isSea() === true) return (JSON.parse(sea.getAsset("package.json", "utf8")) as { version: string }).version;
  for (let dir = dirname(fileURLToPath(fileUrl)); ; dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: string; version?: string };
      if (pkg.name === "gopsctl" && pkg.version !== undefined) return pkg.version;
    } catch {
      // no package.json here: keep looking upwards
    }
    if (dirname(dir) === dir) return "unknown";
  }
}
