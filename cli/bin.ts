// The gopsctl bin (bundled by scripts/bundle.mjs as dist/cli/gopsctl.cjs, CommonJS): loads the CLI bundle
// (dist/cli/main.cjs and its chunks under dist/cli/chunks/, CommonJS too) with V8 code caches made at build time.
//
// Why: a start of `node` is ~20 ms; compiling the CLI's JavaScript was most of what came on top of it (an ES module
// graph is compiled from source on every start, and Node 20 has no compile cache for it). A CommonJS file compiled
// through vm.Script can take V8's cached data instead: a chunk's `<file>.v8cache`, written by the build's training
// runs next to the file it belongs to (same owner, same trust as the code). V8 checks the cache against its own
// version, flags and the source, and compiles from source when it does not fit (`cachedDataRejected`), so a stale
// or missing cache costs time, never correctness.
//
// Help is printed from pages the build wrote (dist/cli/help/<name>.txt, from the command table), without loading the
// CLI: `gopsctl help`, `gopsctl help stack`, `gopsctl --help`, `gopsctl stack -h` and the like. Any other command line,
// or a page that is not there, goes to the CLI, which prints the same pages (or the error) itself.
//
// Bundled chunks require each other by relative path ("./chunks/x.cjs"): this loader resolves those itself (one
// module object per file, like require's cache); anything else (node: built-ins, ssh2) goes to Node's require.
import { readFileSync, writeFileSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import { Script } from "node:vm";
import { helpTopic } from "./help-topic.js";

interface LoadedModule {
  exports: unknown;
}

type CompiledWrapper = (exports: unknown, require: (id: string) => unknown, module: LoadedModule, filename: string, dirname: string) => void;

const loaded = new Map<string, LoadedModule>();
/**
 * Set by a file preloaded with --require (never by anything a user's environment could set): the build's code-cache
 * training (scripts/train-code-cache.cjs) and the test that checks what each command loads (entry-points.test.ts).
 */
const hooks = (globalThis as { __gopsctlBin?: { trainCodeCache?: boolean; loaded?: string[]; rejected?: string[] } }).__gopsctlBin ?? {};
const training = hooks.trainCodeCache === true;
/** Scripts compiled in this run, when the build's training asks for their caches (see writeCodeCaches). */
const compiled: { file: string; script: Script }[] = [];

function load(file: string): unknown {
  const seen = loaded.get(file);
  if (seen !== undefined) return seen.exports;
  const module: LoadedModule = { exports: {} };
  loaded.set(file, module);
  hooks.loaded?.push(file);
  // The bundles are ASCII (esbuild's charset: "ascii"): latin1 decodes them exactly, and fastest.
  const source = readFileSync(file, "latin1");
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(`${file}.v8cache`);
  } catch {
    // no cache for this file (a build without training): compile from source
  }
  // One line of wrapper, as Node's own CommonJS loader does, so line numbers in stack traces stay the file's.
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: file,
    ...(cachedData !== undefined ? { cachedData } : {}),
  });
  if (training) compiled.push({ file, script });
  if (cachedData === undefined || script.cachedDataRejected === true) hooks.rejected?.push(file);
  const dir = dirname(file);
  const wrapper = script.runInThisContext() as CompiledWrapper;
  wrapper.call(module.exports, module.exports, (id) => (id.startsWith(".") ? load(join(dir, id)) : require(id)), module, file, dir);
  return module.exports;
}

/**
 * Training (scripts/bundle.mjs runs a few commands with --require scripts/train-code-cache.cjs): at exit, each file
 * this run compiled gets its cache, with the functions the run compiled, unless an earlier training run wrote one.
 */
function writeCodeCaches(): void {
  for (const { file, script } of compiled) {
    try {
      writeFileSync(`${file}.v8cache`, script.createCachedData(), { flag: "wx" });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
  }
}

/** Prints a built help page; false when there is none by that name. */
function printHelpPage(topic: string): boolean {
  if (!/^[a-z][a-z0-9-]*$|^$/.test(topic)) return false;
  let page: Buffer;
  try {
    page = readFileSync(join(__dirname, "help", `${topic === "" ? "_overview" : topic}.txt`));
  } catch {
    return false;
  }
  // fd 1 written directly: process.stdout would load the stream and socket modules for a few kilobytes.
  let at = 0;
  try {
    while (at < page.length) at += writeSync(1, page, at);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EPIPE") return true; // the reader left (`gopsctl help | head`)
    if ((err as NodeJS.ErrnoException).code !== "EAGAIN") throw err;
    process.stdout.write(page.subarray(at)); // a non-blocking stdout that is full: the stream waits for it
  }
  return true;
}

const topic = helpTopic(process.argv.slice(2));
if (topic === undefined || training || !printHelpPage(topic)) {
  if (training) process.on("exit", writeCodeCaches);
  load(join(__dirname, "main.cjs"));
}
