// The bin as built (dist/cli/gopsctl.cjs, `npm run build`; npm test builds first): help pages printed without the
// CLI are the CLI's own, and the CLI's files load with the code caches the build made for them.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { COMMANDS } from "./commands/index.js";
import { helpPages } from "./commands/help.js";
import { helpTopic } from "./help-topic.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const bin = join(root, "dist/cli/gopsctl.cjs");
const run = promisify(execFile);

test("helpTopic: only command lines whose page depends on nothing else", () => {
  assert.equal(helpTopic(["help"]), "");
  assert.equal(helpTopic(["--help"]), "");
  assert.equal(helpTopic(["-h"]), "");
  assert.equal(helpTopic(["help", "stack"]), "stack");
  assert.equal(helpTopic(["-h", "stack"]), "stack");
  assert.equal(helpTopic(["stack", "--help"]), "stack");
  assert.equal(helpTopic(["stack", "-h"]), "stack");
  for (const argv of [[], ["ps"], ["help", "-h"], ["-h", "--help"], ["help", "stack", "x"], ["stack", "1", "-h"], ["--json", "help"], ["stack"]]) {
    assert.equal(helpTopic(argv), undefined, argv.join(" "));
  }
});

function builtOrSkip(t: { skip(msg: string): void }): boolean {
  if (existsSync(bin)) return true;
  if (process.env.CI) assert.fail("dist/cli/gopsctl.cjs is missing: npm test builds it before the tests");
  t.skip("run `npm run build` first (npm test does)");
  return false;
}

test("the bin prints the CLI's help pages, from the built pages and through the CLI alike", async (t) => {
  if (!builtOrSkip(t)) return;
  const pages = helpPages(COMMANDS);
  assert.ok(pages.size > COMMANDS.length, "a page per command and alias, and the overview");
  for (const [name, page] of pages) {
    const fast = await run(process.execPath, [bin, "help", ...(name === "" ? [] : [name])]);
    assert.equal(fast.stdout, page, `gopsctl help ${name}`);
    assert.equal(fast.stderr, "");
  }
  // Command lines the bin leaves to the CLI print the same pages.
  assert.equal((await run(process.execPath, [bin, "--json", "help", "stack"])).stdout, pages.get("stack"));
  assert.equal((await run(process.execPath, [bin, "-h", "no-such-command"])).stdout, pages.get(""));
  // A name that is not a command is the CLI's error, whatever files the page directory holds.
  for (const name of ["no-such-command", "_overview", "index"]) {
    await assert.rejects(run(process.execPath, [bin, "help", name]), (e: { code?: number; stderr?: string }) => {
      assert.equal(e.code, 2);
      assert.equal(e.stderr, `gopsctl: no help for unknown command "${name}"\n`);
      return true;
    });
  }
});

test("a local ps loads every CLI file with its build-time code cache", async (t) => {
  if (!builtOrSkip(t)) return;
  const dir = await mkdtemp(join(tmpdir(), "gopsctl-bin-"));
  try {
    const log = join(dir, "log.json");
    await writeFile(
      join(dir, "record.cjs"),
      `globalThis.__gopsctlBin = { loaded: [], rejected: [] };
process.on("exit", () => require("node:fs").writeFileSync(${JSON.stringify(log)}, JSON.stringify(globalThis.__gopsctlBin)));`,
    );
    await run(process.execPath, ["--require", join(dir, "record.cjs"), bin, "ps"], { env: { PATH: process.env.PATH, HOME: dir } });
    const { loaded, rejected } = JSON.parse(await readFile(log, "utf8")) as { loaded: string[]; rejected: string[] };
    assert.ok(loaded.some((f) => f.endsWith("dist/cli/main.cjs")), `loaded: ${loaded.join(", ")}`);
    assert.deepEqual(rejected, [], "files compiled from source: no cache, or V8 rejected it");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
