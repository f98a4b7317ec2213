// The main script of the single-file gopsctl (scripts/release.mjs): runs the CLI's one-file bundle with a V8 code
// cache trained at build time. Node's own SEA code cache (useCodeCache) holds only the code compiled before the
// script runs, which for a bundle is little more than its top level: every module's functions would still be
// compiled at each start. This loader compiles the bundle through vm.Script with cached data made by a training
// run of the built CLI (`gopsctl ps`), as cli/bin.ts does for the npm bin.
//
// In the executable, the bundle and its cache are SEA assets ("main.cjs", "main.cjs.v8cache"). Run by node (the
// build's training run), it reads them beside this file and, when scripts/train-code-cache.cjs was preloaded,
// writes the cache at exit. V8 checks the cache against its version, flags and the source, and compiles from source
// when it does not fit: a stale cache costs time, never correctness.
"use strict";
const path = require("node:path");
const sea = require("node:sea");
const { Script } = require("node:vm");

const inSea = sea.isSea();
const fs = inSea ? undefined : require("node:fs");
const asset = (name, encoding) => (inSea ? sea.getAsset(name, encoding) : fs.readFileSync(path.join(__dirname, name), encoding));
const source = asset("main.cjs", "latin1");
let cachedData;
try {
  cachedData = Buffer.from(asset("main.cjs.v8cache"));
} catch {
  // no cache (the training run itself): compile from source
}
// One line of wrapper, as Node's CommonJS loader does, so line numbers in stack traces stay the bundle's.
const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
  filename: "gopsctl.cjs",
  ...(cachedData !== undefined ? { cachedData } : {}),
});
if (!inSea && globalThis.__gopsctlBin?.trainCodeCache === true) {
  process.on("exit", () => fs.writeFileSync(path.join(__dirname, "main.cjs.v8cache"), script.createCachedData()));
}
const module_ = { exports: {} };
script.runInThisContext().call(module_.exports, module_.exports, require, module_, process.execPath, path.dirname(process.execPath));
