// The one place gopsd loads native code: koffi (an FFI package with prebuilt binaries for each platform inside the
// npm package), for the three libc calls of netns-socket.ts (setns, socket, and the errno after them).
//
// Where it is loaded from (the contract with the single-file gopsd of the release, docs/ARCHITECTURE.md):
// - a Node single executable application (require("node:sea").isSea()): `require` inside the blob reaches only
//   built-ins and a native file cannot be loaded from the blob, so koffi is resolved from the executable's
//   directory with normal Node resolution: the release puts node_modules/koffi beside the executable;
// - otherwise (npm package, sources): from this module's place, i.e. the package's node_modules. The esbuild
//   bundle of gopsd keeps koffi external for that (scripts/bundle.mjs).
// Loading is tried once per process; its failure is returned (never thrown), and the caller falls back.
import { createRequire } from "node:module";
import path from "node:path";
import type * as Koffi from "koffi";

export type KoffiModule = typeof Koffi;

/** koffi, or why it could not be loaded (one line). */
export type FfiLoad = { ok: true; koffi: KoffiModule } | { ok: false; why: string };

let loaded: FfiLoad | undefined;

/** Whether this process runs as a single executable application. */
function isSea(): boolean {
  try {
    const sea = process.getBuiltinModule("node:sea") as { isSea?: () => boolean } | undefined;
    return sea?.isSea?.() === true;
  } catch {
    return false; // a Node without node:sea
  }
}

/** koffi, loaded at the first call (a local `gopsctl ps` never needs it). */
export function loadFfi(): FfiLoad {
  if (loaded !== undefined) return loaded;
  const sea = isSea();
  const from = sea ? path.join(path.dirname(process.execPath), "gopsd-native.cjs") : import.meta.url;
  try {
    loaded = { ok: true, koffi: createRequire(from)("koffi") as KoffiModule };
  } catch (e) {
    const where = sea ? ` (looked for node_modules/koffi beside ${process.execPath})` : "";
    loaded = { ok: false, why: `cannot load the FFI package koffi${where}: ${firstLine(e)}` };
  }
  return loaded;
}

function firstLine(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return text.split("\n")[0]!.slice(0, 300);
}
