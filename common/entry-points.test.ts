// `import { connect } from "gopsctl"` must not load gopsd's code (/proc readers, ELF parsers, the agent client):
// only the `gopsctl/local` entry joins client and server. A module hook in a child node records every file it
// loads; the check runs on the sources (through tsx) and on dist/ as published (`npm run build`, as `npm test` does).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const run = promisify(execFile);
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "gopsctl-entry-"));
  await writeFile(
    join(dir, "hooks.mjs"),
    `import { appendFileSync } from "node:fs";
export async function load(url, context, next) {
  if (url.startsWith("file:")) appendFileSync(process.env.GOPSCTL_LOADED_LOG, url + "\\n");
  return next(url, context);
}
`,
  );
  await writeFile(join(dir, "register.mjs"), `import { register } from "node:module";\nregister("./hooks.mjs", import.meta.url);\n`);
});
after(() => rm(dir, { recursive: true, force: true }));

/** Repository-relative files that `node -e 'await import(specifier)'` loads (run in the repository root). */
async function filesLoadedBy(specifier: string, opts: { tsx: boolean }): Promise<string[]> {
  const log = join(dir, `loaded-${Math.random().toString(36).slice(2)}.log`);
  const loader = pathToFileURL(join(dir, "register.mjs")).href;
  const args = [...(opts.tsx ? ["--import", "tsx"] : []), "--import", loader, "--input-type=module", "-e", `await import(${JSON.stringify(specifier)});`];
  await run(process.execPath, args, { cwd: root, env: { ...process.env, GOPSCTL_LOADED_LOG: log }, timeout: 60_000 });
  const urls = (await readFile(log, "utf8")).split("\n").filter(Boolean);
  return urls.map((u) => relative(root, fileURLToPath(u))).filter((f) => !f.startsWith("..") && !f.startsWith("node_modules"));
}

const underServer = (files: readonly string[]) => files.filter((f) => /^(dist\/)?server\//.test(f));

test("the sources: client/index.ts loads nothing under server/; client/local.ts does", async () => {
  const api = await filesLoadedBy("./client/index.ts", { tsx: true });
  assert.ok(api.includes("client/connect.ts"), `the hook saw: ${api.join(", ")}`);
  assert.deepEqual(underServer(api), []);
  const local = await filesLoadedBy("./client/local.ts", { tsx: true });
  assert.ok(local.includes("server/host-diagnostics.ts"), `the hook saw: ${local.join(", ")}`);
});

test('as published: import("gopsctl") loads nothing under dist/server/; import("gopsctl/local") does', async (t) => {
  if (!existsSync(join(root, "dist/client/index.js"))) {
    if (process.env.CI) assert.fail("dist/ is missing: npm test builds it before the tests");
    t.skip("dist/ is missing: run `npm run build` first (npm test does)");
    return;
  }
  const api = await filesLoadedBy("gopsctl", { tsx: false });
  assert.ok(api.includes("dist/client/index.js"), `the hook saw: ${api.join(", ")}`);
  assert.deepEqual(underServer(api), []);
  const local = await filesLoadedBy("gopsctl/local", { tsx: false });
  assert.ok(local.includes("dist/server/host-diagnostics.js"), `the hook saw: ${local.join(", ")}`);
});
