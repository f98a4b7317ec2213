// `import { connect } from "gopsctl"` must not load gopsd's code (/proc readers, ELF parsers, the agent client):
// only the `gopsctl/local` entry joins client and server. A module hook in a child node records every file it
// loads; the check runs on the sources (through tsx) and on dist/ as published (`npm run build`, as `npm test` does).
// The bins are esbuild bundles (scripts/bundle.mjs): a run loads its entry and some chunks, and
// build/bundle-meta.json says which sources and packages each chunk holds. The CLI's bin (dist/cli/gopsctl.cjs)
// loads its CommonJS chunks itself and, with a file preloaded that sets its hook, lists them. A command must load
// only what it needs: `help` nothing of the CLI bundle (its pages are built), a local `ps` no gRPC, ssh2, YAML, JWT
// or config-schema code, a remote call no ssh2, YAML or JWT code; gopsd loads its reflection service only when asked.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
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
  // The CLI bin's own record of the files it loads (cli/bin.ts: globalThis.__gopsctlBin.loaded).
  await writeFile(
    join(dir, "record-bin.cjs"),
    `const { appendFileSync } = require("node:fs");
const { pathToFileURL } = require("node:url");
globalThis.__gopsctlBin = { loaded: [] };
process.on("exit", () => { for (const f of globalThis.__gopsctlBin.loaded) appendFileSync(process.env.GOPSCTL_LOADED_LOG, pathToFileURL(f).href + "\\n"); });
`,
  );
});
after(() => rm(dir, { recursive: true, force: true }));

/** Repository-relative files that `node -e 'await import(specifier)'` loads (run in the repository root). */
async function filesLoadedBy(specifier: string, opts: { tsx: boolean }): Promise<string[]> {
  const urls = await urlsLoadedBy(["--input-type=module", "-e", `await import(${JSON.stringify(specifier)});`], opts);
  return urls.map((u) => relative(root, fileURLToPath(u))).filter((f) => !f.startsWith("..") && !f.startsWith("node_modules"));
}

/** file: URLs a node run with `args` loads (through the module hook), in order. */
async function urlsLoadedBy(args: readonly string[], opts: { tsx: boolean; env?: NodeJS.ProcessEnv }): Promise<string[]> {
  const log = join(dir, `loaded-${Math.random().toString(36).slice(2)}.log`);
  await writeFile(log, "");
  const loader = pathToFileURL(join(dir, "register.mjs")).href;
  await run(process.execPath, [...(opts.tsx ? ["--import", "tsx"] : []), "--import", loader, "--require", join(dir, "record-bin.cjs"), ...args], {
    cwd: root,
    env: { ...process.env, ...opts.env, GOPSCTL_LOADED_LOG: log },
    timeout: 60_000,
  }).catch((e: { code?: unknown }) => {
    if (typeof e.code !== "number") throw e; // a command that exits non-zero still loaded what it loaded
  });
  return (await readFile(log, "utf8")).split("\n").filter(Boolean);
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

interface BundleMeta {
  outputs: Record<string, { inputs: Record<string, unknown>; imports: { path: string; kind: string }[] }>;
}

/** The sources and packages (node_modules/NAME) inside the bundle files that `node BIN ARGS` loads. */
async function bundledInputsLoadedBy(args: readonly string[], meta: BundleMeta, env: NodeJS.ProcessEnv): Promise<{ files: string[]; inputs: Set<string> }> {
  const urls = await urlsLoadedBy(args, { tsx: false, env });
  const files = urls.map((u) => relative(root, fileURLToPath(u))).filter((f) => f.startsWith("dist/"));
  const inputs = new Set<string>();
  for (const f of files) {
    const out = meta.outputs[f];
    assert.ok(out !== undefined, `${f} is not in build/bundle-meta.json: dist/ and the metafile are from different builds`);
    for (const i of Object.keys(out.inputs)) inputs.add(i.includes("node_modules/") ? `node_modules/${/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(i)![1]}` : i);
  }
  return { files, inputs };
}

test("the bins as bundles: each command loads only what it needs", async (t) => {
  const metaFile = join(root, "build/bundle-meta.json");
  const bin = "dist/cli/gopsctl.cjs";
  if (!existsSync(metaFile) || !existsSync(join(root, bin))) {
    if (process.env.CI) assert.fail("dist/ or build/bundle-meta.json is missing: npm test builds them before the tests");
    t.skip("run `npm run build` first (npm test does)");
    return;
  }
  const meta = JSON.parse(await readFile(metaFile, "utf8")) as BundleMeta;
  // No config or fleet file of the user's.
  const home = await mkdtemp(join(tmpdir(), "gopsctl-entry-home-"));
  const env = { HOME: home, XDG_CONFIG_HOME: join(home, ".config"), GOPSCTL_HOST: "", GOPSCTL_FLEET: "" };
  try {
    const heavy = ["node_modules/@grpc/grpc-js", "node_modules/nice-grpc", "node_modules/ssh2", "node_modules/yaml", "node_modules/jsonwebtoken", "node_modules/valibot", "node_modules/ssh-config"];
    const present = (inputs: Set<string>, names: readonly string[]) => names.filter((n) => inputs.has(n));

    for (const args of [["help"], ["help", "stack"], ["--help"], ["stack", "-h"]]) {
      const help = await bundledInputsLoadedBy([bin, ...args], meta, env);
      assert.deepEqual(help.files, [bin], `gopsctl ${args.join(" ")} prints a built page: it loaded ${help.files.join(", ")}`);
    }
    // Help the bin cannot tell from the command line alone is the CLI's: still no transport, no gopsd code.
    const help = await bundledInputsLoadedBy([bin, "--json", "help", "stack"], meta, env);
    assert.ok(help.inputs.has("cli/commands/help.ts"), `help loaded: ${help.files.join(", ")}`);
    assert.deepEqual(present(help.inputs, heavy), []);
    assert.deepEqual([...help.inputs].filter((i) => i.startsWith("server/")), [], "help loads no gopsd code");

    const ps = await bundledInputsLoadedBy([bin, "ps"], meta, env);
    assert.ok(ps.inputs.has("server/host-diagnostics.ts"), `a local ps reads this machine itself: ${ps.files.join(", ")}`);
    assert.deepEqual(present(ps.inputs, heavy), []);

    // A gopsd that is not there: the run fails, after loading the gRPC transport and nothing else heavy.
    const remote = await bundledInputsLoadedBy([bin, "--host", "127.0.0.1:1", "--timeout", "1s", "version", "1"], meta, env);
    assert.ok(remote.inputs.has("client/connect.ts") && remote.inputs.has("node_modules/@grpc/grpc-js"), `remote loaded: ${remote.files.join(", ")}`);
    assert.deepEqual(present(remote.inputs, ["node_modules/ssh2", "node_modules/yaml", "node_modules/jsonwebtoken", "node_modules/valibot"]), []);
    assert.deepEqual([...remote.inputs].filter((i) => i.startsWith("server/")), [], "a remote call loads no gopsd code");

    // A config file is parsed (YAML, valibot) only when there is one.
    await mkdir(join(home, ".config/gopsctl"), { recursive: true });
    await writeFile(join(home, ".config/gopsctl/config.yaml"), "host: 127.0.0.1:1\n");
    const configured = await bundledInputsLoadedBy([bin, "--timeout", "1s", "version", "1"], meta, env);
    assert.ok(configured.inputs.has("node_modules/yaml") && configured.inputs.has("cli/config-parse.ts"), `with a config file: ${configured.files.join(", ")}`);
  } finally {
    await rm(home, { recursive: true, force: true });
  }

  // gopsd's start (its entry and the chunks it imports statically): the reflection service's implementation
  // (google-protobuf) is a chunk of its own, loaded at the first reflection call.
  const gopsdInputs = new Set<string>();
  const seen = new Set<string>();
  const walk = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const out = meta.outputs[file];
    assert.ok(out !== undefined, `${file} is not in build/bundle-meta.json`);
    for (const i of Object.keys(out.inputs)) gopsdInputs.add(i);
    for (const i of out.imports) if (i.kind === "import-statement" && meta.outputs[i.path] !== undefined) walk(i.path);
  };
  walk("dist/server/main.js");
  assert.ok(gopsdInputs.has("server/gopsd.ts"), "dist/server/main.js holds gopsd");
  assert.ok(![...gopsdInputs].some((i) => i.includes("node_modules/google-protobuf/")), "reflection's runtime is not in gopsd's entry");
});

test("the gopsd bin as bundled serves: health, and reflection from the descriptor set it finds beside dist/", async (t) => {
  if (!existsSync(join(root, "dist/server/main.js"))) {
    if (process.env.CI) assert.fail("dist/ is missing: npm test builds it before the tests");
    t.skip("run `npm run build` first (npm test does)");
    return;
  }
  const { spawn } = await import("node:child_process");
  const { createChannel, createClient } = await import("nice-grpc");
  const { HealthDefinition } = await import("nice-grpc-server-health");
  const { ServerReflectionService } = await import("nice-grpc-server-reflection");
  const { ServerReflectionRequest } = (await import("nice-grpc-server-reflection/lib/proto/grpc/reflection/v1/reflection_pb.js")).default;
  const gopsd = spawn(process.execPath, [join(root, "dist/server/main.js"), "--listen", "127.0.0.1:0", "--insecure"], { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  try {
    const { gopsdAddress } = await import("../integration/harness.js");
    const address = await gopsdAddress(gopsd);
    const channel = createChannel(address);
    try {
      const health = createClient(HealthDefinition, channel);
      assert.equal((await health.check({ service: "" }, { signal: AbortSignal.timeout(10_000) })).status, 1 /* SERVING */);
      const reflection = createClient(ServerReflectionService, channel);
      const req = new ServerReflectionRequest();
      req.setListServices("*");
      const names: string[] = [];
      for await (const answer of reflection.serverReflectionInfo((async function* () { yield req; })(), { signal: AbortSignal.timeout(10_000) })) {
        names.push(...answer.getListServicesResponse()!.getServiceList().map((x) => x.getName()));
      }
      assert.deepEqual(names.sort(), ["gops.v1.DiagnosticsService", "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"]);
    } finally {
      channel.close();
    }
  } finally {
    gopsd.kill("SIGTERM");
  }
});
