// The bins as bundles: `npm run build` runs tsc first (the library's .js and .d.ts under dist/, which the package
// `exports` point at), then this script writes the two bins with esbuild:
//
// - gopsd, dist/server/main.js: one ES module bundle with code splitting; what it imports with import() (server
//   reflection) becomes a chunk under dist/chunks/, loaded only when first used.
// - gopsctl, dist/cli/gopsctl.cjs (the package's bin): cli/bin.ts, a small CommonJS loader, which loads the CLI
//   bundle dist/cli/main.cjs and its chunks under dist/cli/chunks/ with V8 code caches. The CLI is built as an ES
//   module graph with code splitting (a transport, the local backend, a fleet file parser: each a chunk required
//   only by the runs that need it), then each output file is turned into CommonJS: Node 20 compiles an ES module
//   from source on every start, while a CommonJS file compiled through vm.Script can take V8's cached data. The
//   caches (<file>.v8cache) come from training runs of the built bin (ps, a call to a gopsd, help); a build where
//   they fail still works, only slower to start.
//
// Both:
// - Pure-JS dependencies are bundled; ssh2 stays external (it loads a native addon from its own directory), so it
//   is still resolved from node_modules, where the package's `dependencies` put it. @grpc/proto-loader (with
//   protobufjs) is required only by grpc-js channelz, which gopsctl and gopsd never serve.
// - Whitespace and syntax are minified (names stay, for stack traces); ASCII output keeps V8's copy of the source
//   one byte per character.
// - build/bundle-meta.json (not shipped) records which inputs went into which output: common/entry-points.test.ts
//   reads it to check what each start-up path loads.
import { build, transform } from "esbuild";
import { spawnSync } from "node:child_process";
import { chmod, mkdir, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");

const common = {
  absWorkingDir: root,
  outdir: dist,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  external: ["ssh2", "@grpc/proto-loader"],
  legalComments: "linked",
  minifyWhitespace: true,
  minifySyntax: true,
  charset: "ascii",
  metafile: true,
  logLevel: "warning",
};

/**
 * For the CLI's bundled grpc-js, two built-ins as the CLI's start-up needs them (node:http2, which a call needs, loads
 * net, tls, crypto and http itself; these come on top):
 * - zlib and dns, required at load by grpc-js's compression filter (for messages the CLI never compresses) and DNS
 *   resolver (a host name's lookup; an IP address goes to grpc-js's IP resolver, client/connect.ts): proxies that
 *   load the module at its first use;
 * - net, whose isIPv6 grpc-js asks of every address it resolves: Node's IPv6 pattern is compiled at its first use,
 *   ~5-10 ms of one remote call; an address without a colon is not IPv6, so it answers those without the pattern.
 */
const grpcBuiltins = {
  name: "grpc-builtins",
  setup(b) {
    b.onResolve({ filter: /^(node:)?(zlib|dns|net)$/ }, (args) =>
      /node_modules\/@grpc\/grpc-js\//.test(args.importer) ? { path: args.path.replace(/^node:/, ""), namespace: "grpc-builtin" } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: "grpc-builtin" }, (args) => ({
      loader: "js",
      contents:
        args.path !== "net"
          ? `let m; const load = () => (m ??= process.getBuiltinModule("node:${args.path}"));
module.exports = new Proxy({}, { get: (_, k) => load()[k], has: (_, k) => k in load() });`
          : `const net = process.getBuiltinModule("node:net");
const isIPv6 = (s) => typeof s === "string" && s.includes(":") && net.isIPv6(s);
module.exports = new Proxy(net, { get: (t, k) => (k === "isIPv6" ? isIPv6 : t[k]) });`,
    }));
  },
};

// Last build's chunks and code caches (a cache left beside a rebuilt file would only be rejected, at a cost).
await Promise.all(["chunks", "cli/chunks", "cli/help", "cli/main.cjs.v8cache"].map((d) => rm(join(dist, d), { recursive: true, force: true })));
// One build per bin: within one build, code two entries share goes into a chunk holding the union of what both use,
// so the CLI would statically load what gopsd uses of the generated protobuf code.
const [server, cli, launcher] = await Promise.all([
  build({
    ...common,
    entryPoints: { "server/main": "server/main.ts" },
    chunkNames: "chunks/[name]-[hash]",
    // CommonJS dependencies (grpc-js, jsonwebtoken, yaml) call require() for Node's built-ins: an ES module has none.
    banner: { js: 'import { createRequire as __gopsctlCreateRequire } from "node:module"; const require = __gopsctlCreateRequire(import.meta.url);' },
  }),
  build({
    ...common,
    entryPoints: { "cli/main": "cli/main.ts" },
    chunkNames: "cli/chunks/[name]-[hash]",
    outExtension: { ".js": ".cjs" },
    plugins: [grpcBuiltins],
    write: false,
  }),
  build({
    ...common,
    entryPoints: { "cli/gopsctl": "cli/bin.ts" },
    splitting: false,
    format: "cjs",
    outExtension: { ".js": ".cjs" },
    banner: { js: "#!/usr/bin/env node" },
  }),
]);

// The CLI's ES module files, each turned into CommonJS: imports become require() calls (import() a promise of one),
// import.meta.url the file's URL.
for (const file of cli.outputFiles) {
  if (!file.path.endsWith(".cjs")) {
    await writeOutput(file.path, file.contents);
    continue;
  }
  // The entry's hashbang (cli/main.ts runs as a script under tsx too) is the launcher's now.
  let { code } = await transform(file.text.replace(/^#!.*\n/, ""), {
    format: "cjs",
    platform: "node",
    target: "node20",
    define: { "import.meta": "__gopsctlImportMeta" },
    // import() of a chunk becomes a promise of require(): the launcher resolves chunks itself.
    supported: { "dynamic-import": false },
    minifyWhitespace: true,
    minifySyntax: true,
    charset: "ascii",
    // The bundles' warnings were shown by build() (which mutes those of node_modules code, as these would not be).
    logLevel: "error",
  });
  // import.meta.url computed when asked (node:url is not loaded for nothing).
  if (code.includes("__gopsctlImportMeta")) {
    code = `var __gopsctlImportMeta={get url(){return require("node:url").pathToFileURL(__filename).href}};${code}`;
  }
  await writeOutput(file.path, code);
}

const metafile = { inputs: {}, outputs: {} };
for (const r of [server, cli, launcher]) Object.assign(metafile.inputs, r.metafile.inputs) && Object.assign(metafile.outputs, r.metafile.outputs);
await mkdir(join(root, "build"), { recursive: true });
await writeFile(join(root, "build", "bundle-meta.json"), JSON.stringify(metafile));
// tsc's unbundled ES module of the CLI's entry is not a bin: nothing should run it by mistake.
await rm(join(dist, "cli/main.js"), { force: true });
await Promise.all(["cli/gopsctl.cjs", "server/main.js"].map((f) => chmod(join(dist, f), 0o755)));

// Help pages for the bin's fast path, from the command table as tsc built it (dist/cli/commands/).
const { COMMANDS } = await import(join(dist, "cli/commands/index.js"));
const { helpPages } = await import(join(dist, "cli/commands/help.js"));
await mkdir(join(dist, "cli/help"), { recursive: true });
for (const [name, text] of helpPages(COMMANDS)) await writeFile(join(dist, "cli/help", `${name === "" ? "_overview" : name}.txt`), text);

// Code-cache training: each run writes the caches of the files it compiled that have none yet, so the first run
// to load a file decides what its cache holds: a local ps first (the start-up that matters most), then a call to
// a gopsd (one that is not there: the gRPC client is loaded and used up to the connection), then help.
const runs = [["ps", "-A"], ["--host", "127.0.0.1:1", "--timeout", "2s", "version", "1"], ["help"]];
for (const args of runs) {
  const run = spawnSync(process.execPath, ["--require", join(root, "scripts/train-code-cache.cjs"), join(dist, "cli/gopsctl.cjs"), ...args], {
    cwd: root,
    stdio: "ignore",
    env: { PATH: process.env.PATH, HOME: dist, XDG_CONFIG_HOME: join(dist, ".none") },
    timeout: 30_000,
  });
  if (run.error !== undefined) console.warn(`bundle: code-cache training run "${args.join(" ")}" failed: ${run.error.message}`);
}

async function writeOutput(path, contents) {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, contents);
}
