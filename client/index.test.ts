// The public API stays small and chosen: named exports only (no `export *` that would leak generated internals),
// at most 42 names (40, and the two of issue 20's error reasons: GopsdCallError, reasonOf), and none of gopsd's code (see common/entry-points.test.ts).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import ts from "typescript";

const file = new URL("./index.ts", import.meta.url);
const source = ts.createSourceFile("index.ts", readFileSync(file, "utf8"), ts.ScriptTarget.ES2022, true);
const exports = source.statements.filter(ts.isExportDeclaration);

test("client/index.ts names every export and exports at most 42 names", () => {
  const star = exports.filter((e) => e.exportClause === undefined || ts.isNamespaceExport(e.exportClause));
  assert.deepEqual(star.map((e) => e.getText()), []);
  const names = exports.flatMap((e) => (e.exportClause && ts.isNamedExports(e.exportClause) ? e.exportClause.elements.map((x) => x.name.text) : []));
  assert.ok(names.length >= 20 && names.length <= 42, `${names.length} names: ${names.join(", ")}`);
  assert.equal(new Set(names).size, names.length);
  for (const internal of ["DeepPartial", "protobufPackage", "createLocalDiagnostics", "fanOut", "DiagnosticsServiceDefinition"]) {
    assert.ok(!names.includes(internal), `${internal} is internal`);
  }
});

test("the runtime exports are exactly the named value exports", async () => {
  const api = await import("./index.js");
  assert.deepEqual(Object.keys(api).sort(), [
    "AgentState", "ClientError", "CredentialsError", "GopsError", "GopsdCallError", "InventoryError",
    "ModuleQueryError", "ProfileKind", "Status", "connect", "findModule", "loadInventory", "openFleet", "parseModuleQuery",
    "readTokenFile", "reasonOf", "summarize",
  ].sort());
});
