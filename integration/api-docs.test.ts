// The API's contract files stay true: docs/ERRORS.md is what the error table generates, the table's reasons are
// stable names, docs/JSON.md has a section for every command, and the breaking-change check
// (scripts/api-breaking.ts, run by npm test) accepts exactly the recorded break.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { COMMANDS } from "../cli/commands/index.js";
import { ERROR_TABLE, Status, type ErrorKind } from "../common/errors.js";
import { ACCEPTED, parseFindings, runBufBreaking, staleExceptions, unexpectedBreaks } from "../scripts/api-breaking.js";
import { ERRORS_DOC, renderErrorsDoc } from "../scripts/errors-doc.js";

describe("the error table and docs/ERRORS.md", () => {
  it("docs/ERRORS.md is generated from the table (run `npm run docs:errors` after changing it)", () => {
    assert.equal(readFileSync(ERRORS_DOC, "utf8"), renderErrorsDoc());
  });

  it("reasons are unique UPPER_SNAKE_CASE names of at most 63 characters, codes are real, every row is documented", () => {
    const rows = Object.values(ERROR_TABLE as Record<string, ErrorKind>);
    const reasons = rows.map((r) => r.reason);
    assert.equal(new Set(reasons).size, reasons.length, `duplicate reason in ${reasons.join(", ")}`);
    for (const r of rows) {
      assert.match(r.reason, /^[A-Z][A-Z0-9_]{0,62}$/);
      assert.ok(Status[r.code] !== undefined && r.code !== Status.OK, `${r.reason}: code ${r.code}`);
      assert.ok(r.doc.length > 10, `${r.reason} is documented`);
      assert.ok(renderErrorsDoc().includes(`| \`${r.reason}\` |`), `${r.reason} in the doc`);
    }
    // The caller's refusals stay PERMISSION_DENIED; gopsd's own OS rights do not.
    assert.equal(ERROR_TABLE.scopeMissing.code, Status.PERMISSION_DENIED);
    assert.equal(ERROR_TABLE.osPermission.code, Status.FAILED_PRECONDITION);
  });
});

describe("buf breaking against the released API", () => {
  const accepted = ACCEPTED[0]!;
  const other = { path: "proto/gops/v1/diagnostics.proto", type: "FIELD_SAME_TYPE", message: 'Field "2" with name "cpu_sample_ms" on message "GetProcessRequest" changed type from "int32" to "int64".' };

  it("the accepted break passes; any other break, or a stale exception, fails", () => {
    assert.deepEqual(unexpectedBreaks([accepted]), []);
    assert.deepEqual(unexpectedBreaks([accepted, other]), [other]);
    // The same rule elsewhere is not covered by the exception.
    const elsewhere = { ...accepted, message: accepted.message.replace("SetGCPercentRequest", "GetProcessRequest") };
    assert.deepEqual(unexpectedBreaks([elsewhere]), [elsewhere]);
    assert.deepEqual(staleExceptions([]), [accepted]);
    assert.deepEqual(parseFindings(`${JSON.stringify(other)}\n\n`), [other]);
  });

  it("buf reports exactly the accepted break for the proto in the tree", { timeout: 120_000 }, async () => {
    const findings = await runBufBreaking();
    assert.deepEqual(
      findings.map(({ path, type, message }) => ({ path, type, message })),
      ACCEPTED.map(({ path, type, message }) => ({ path, type, message })),
    );
  });
});

describe("docs/JSON.md", () => {
  it("has a section for every command, and none for a command that does not exist", () => {
    const text = readFileSync(new URL("../docs/JSON.md", import.meta.url), "utf8");
    const documented = new Set([...text.matchAll(/^### (.+)$/gm)].flatMap((m) => [...m[1]!.matchAll(/`gopsctl ([a-z][a-z-]*)/g)].map((x) => x[1]!)));
    const names = COMMANDS.map((c) => c.name);
    assert.deepEqual(names.filter((n) => !documented.has(n)), [], "commands without a section");
    assert.deepEqual([...documented].filter((n) => !names.includes(n)), [], "sections for no command");
  });
});
