// The layers import one way (docs/ARCHITECTURE.md): cli -> client, analysis -> common, proto; server -> common,
// proto; client -> common, proto. client/local.ts (the `gopsctl/local` entry) is the one file that joins client and
// server. Tests may also reach server/ and integration/ to stand up the other side. Nothing shipped imports a
// test helper (*.testkit.ts, excluded from dist/). The imports are read with TypeScript's own pre-processor, so
// multi-line, type-only, re-exports and dynamic import("...") all count.
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** What each product folder may import besides itself. */
const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  proto: [],
  common: ["proto"],
  analysis: ["common", "proto"],
  server: ["common", "proto"],
  client: ["common", "proto"],
  cli: ["client", "analysis", "common", "proto"],
};
/** The one file allowed to join client and server, and what it may add. */
const LOCAL_ENTRY = { file: "client/local.ts", may: "server" };
/** Tests (and test helpers) may also stand up the other side. */
const TEST_EXTRA = ["server", "integration"];

const isTest = (file: string) => /\.(test|testkit)\.ts$/.test(file);

function tsFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = join(dir, e.name);
    if (e.isDirectory()) return rel === "proto/gen" ? [] : tsFiles(rel);
    return e.name.endsWith(".ts") && !e.name.endsWith(".d.ts") ? [rel] : [];
  });
}

/** Repository-relative targets of the relative imports in `file` ("../server/x.js" -> "server/x.js"). */
function importsOf(file: string, text = readFileSync(join(root, file), "utf8")): string[] {
  return ts
    .preProcessFile(text, true, true)
    .importedFiles.map((r) => r.fileName)
    .filter((name) => name.startsWith("."))
    .map((name) => relative(root, resolve(root, dirname(file), name)));
}

/** Every import in `files` that breaks a rule, as "from -> to: why". */
function violations(files: readonly string[], read: (file: string) => string[] = (f) => importsOf(f)): string[] {
  const found: string[] = [];
  for (const file of files) {
    const from = file.split("/")[0]!;
    const allowed = ALLOWED[from];
    if (allowed === undefined) continue; // integration/, bench/, examples/, scripts/ may use anything
    for (const target of read(file)) {
      const to = target.split("/")[0]!;
      const ok =
        to === from ||
        allowed.includes(to) ||
        (file === LOCAL_ENTRY.file && to === LOCAL_ENTRY.may) ||
        (isTest(file) && TEST_EXTRA.includes(to));
      if (!ok) found.push(`${file} -> ${target}: ${from}/ may import ${[...allowed].join(", ") || "nothing else"}`);
      else if (!isTest(file) && /\.testkit\.(js|ts)$/.test(target)) found.push(`${file} -> ${target}: test helpers stay out of dist/`);
    }
  }
  return found;
}

test("every import runs the allowed way between folders", () => {
  const files = Object.keys(ALLOWED).flatMap(tsFiles);
  assert.ok(files.length > 100, `found only ${files.length} files: is the root right?`);
  assert.deepEqual(violations(files), []);
});

test("the rules catch a forbidden direction, a multi-line and a dynamic import, and a testkit in product code", () => {
  const src: Record<string, string> = {
    "client/x.ts": `import {\n  a,\n} from "../server/host-diagnostics.js";`,
    "server/y.ts": `export * from "../client/connect.js";`,
    "analysis/z.ts": `const m = await import("../cli/main.js");`,
    "common/w.ts": `import type { T } from "../client/index.js";`,
    "cli/v.ts": `import { f } from "./fake.testkit.js";`,
    "client/local.ts": `import { createHostDiagnostics } from "../server/host-diagnostics.js";`,
    "client/u.test.ts": `import { loadVerifier } from "../server/auth/index.js";`,
    "cli/ok.ts": `import { connect } from "../client/index.js"; import "../common/errors.js";`,
  };
  const found = violations(Object.keys(src), (f) => importsOf(f, src[f]));
  assert.deepEqual(
    found.map((v) => v.split(":")[0]),
    [
      "client/x.ts -> server/host-diagnostics.js",
      "server/y.ts -> client/connect.js",
      "analysis/z.ts -> cli/main.js",
      "common/w.ts -> client/index.js",
      "cli/v.ts -> cli/fake.testkit.js",
    ],
  );
});
