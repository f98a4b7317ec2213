// The main script of the single-file gopsctl (scripts/release.mjs). It runs the npm bin's own CLI bundle, the
// files under dist/cli/ that cli/bin.ts loads (main.cjs and the chunks each command needs, with the V8 code caches
// the build trained), which the executable carries as SEA assets under the same names. Node's SEA code cache
// (useCodeCache) covers only what is compiled before a script runs, little more than a bundle's top level; these
// caches hold what the training runs compiled, and the chunks keep each start to the code its command uses.
//
// As in cli/bin.ts, chunks require each other by relative path ("./chunks/x.cjs"), resolved here (one module object
// per asset); node: built-ins go to the SEA's require, and "ssh2" (external to the npm bin, which resolves it from
// node_modules) to the asset ssh2.cjs, its one-file bundle; nothing else is there. V8 checks each cache against its version, flags and the
// source, and compiles from source when it does not fit: a stale cache costs time, never correctness.
"use strict";
const { isBuiltin } = require("node:module");
const { posix } = require("node:path");
const sea = require("node:sea");
const { Script } = require("node:vm");

const loaded = new Map();

function load(name) {
  const seen = loaded.get(name);
  if (seen !== undefined) return seen.exports;
  const module_ = { exports: {} };
  loaded.set(name, module_);
  // The bundles are ASCII (esbuild's charset: "ascii"): latin1 decodes them exactly.
  const source = sea.getAsset(name, "latin1");
  let cachedData;
  try {
    cachedData = Buffer.from(sea.getAsset(`${name}.v8cache`));
  } catch {
    // no cache for this asset: compile from source
  }
  // The same one-line wrapper as cli/bin.ts: the cache was made for exactly this source.
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: `gopsctl:${name}`,
    ...(cachedData !== undefined ? { cachedData } : {}),
  });
  const dir = posix.dirname(name);
  const requireFrom = (id) => {
    if (id.startsWith(".")) return load(posix.join(dir, id));
    if (id === "ssh2") return load("ssh2.cjs");
    if (isBuiltin(id)) return require(id);
    // ssh2's optional native parts (cpu-features, its crypto binding): it falls back to JavaScript without them.
    throw Object.assign(new Error(`Cannot find module '${id}' (not in the single executable)`), { code: "MODULE_NOT_FOUND" });
  };
  script.runInThisContext().call(module_.exports, module_.exports, requireFrom, module_, process.execPath, posix.dirname(process.execPath));
  return module_.exports;
}

load("main.cjs");
