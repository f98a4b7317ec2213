// The bins as bundles: `npm run build` runs tsc first (the library's .js and .d.ts under dist/, which the package
// `exports` point at), then this script overwrites the two bins, dist/cli/main.js and dist/server/main.js, with one
// esbuild bundle each (ESM, code splitting). What a bin imports with import() (a transport, the local backend, a
// fleet file parser, gopsd's reflection) becomes a chunk under dist/chunks/, loaded only by the runs that need it;
// everything else is one file, so a start-up reads one or a few files instead of hundreds (issue 12: the module
// loader was ~60% of a local `ps`).
//
// - Pure-JS dependencies are bundled into the bins; ssh2 stays external (it loads a native addon from its own
//   directory), so it is still resolved from node_modules, where the package's `dependencies` put it.
// - Chunks live in dist/chunks/, one level under dist/ like dist/server/: gopsd's `new URL("../proto/gen/gops.binpb",
//   import.meta.url)` finds the descriptor set from the entry and from a chunk alike.
// - CommonJS dependencies (grpc-js, jsonwebtoken, yaml) call require() for Node's built-ins; an ESM bundle has no
//   require, so each output file starts by making one.
// - build/bundle-meta.json (not shipped) records which inputs went into which output: common/entry-points.test.ts
//   reads it to check what each start-up path loads.
import { build } from "esbuild";
import { chmod, mkdir, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");

await rm(join(dist, "chunks"), { recursive: true, force: true });
// One build per bin: within one build, code two entries share goes into a chunk holding the union of what both use,
// so the CLI would statically load what gopsd uses of the generated protobuf code.
const bins = { "cli/main": "cli/main.ts", "server/main": "server/main.ts" };
const results = await Promise.all(Object.entries(bins).map(([out, entry]) => build({
  absWorkingDir: root,
  entryPoints: { [out]: entry },
  outdir: dist,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  chunkNames: "chunks/[name]-[hash]",
  // @grpc/proto-loader (with protobufjs) is required only by grpc-js channelz, which gopsctl and gopsd never serve.
  external: ["ssh2", "@grpc/proto-loader"],
  banner: { js: 'import { createRequire as __gopsctlCreateRequire } from "node:module"; const require = __gopsctlCreateRequire(import.meta.url);' },
  legalComments: "linked",
  // Whitespace and syntax only (names stay, for stack traces in gopsd's error log): half the source text a start
  // reads and keeps in memory. ASCII output keeps V8's copy of the source one byte per character.
  minifyWhitespace: true,
  minifySyntax: true,
  charset: "ascii",
  metafile: true,
  logLevel: "warning",
})));
const metafile = { inputs: {}, outputs: {} };
for (const r of results) Object.assign(metafile.inputs, r.metafile.inputs) && Object.assign(metafile.outputs, r.metafile.outputs);
await mkdir(join(root, "build"), { recursive: true });
await writeFile(join(root, "build", "bundle-meta.json"), JSON.stringify(metafile));
await Promise.all(["cli/main.js", "server/main.js"].map((f) => chmod(join(dist, f), 0o755)));
