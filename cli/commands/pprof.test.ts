import assert from "node:assert/strict";
import { mkdtemp, open, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { encodeProfile, formatTop, topFunctions } from "../../analysis/index.js";
import { UsageError } from "../errors.js";
import { fakeContext } from "../fake-context.testkit.js";
import { parseCommandLine as parseArgv } from "./index.js";
import { cpuProfile } from "../sample-profiles.testkit.js";
import { COMMANDS, resolveCommand } from "./index.js";
import { run } from "./pprof.js";

const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
async function withProfile(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "gopsctl-pprof-"));
  dirs.push(d);
  await writeFile(join(d, "cpu.pb.gz"), encodeProfile(cpuProfile));
  return d;
}
const resolve = (...argv: string[]) => resolveCommand(parseArgv(argv, {}));

test("pprof FILE parses offline; the top table is the default report", () => {
  const inv = resolve("pprof", "cpu.pb.gz");
  assert.equal(inv.spec.offline, "it reads a local file");
  assert.deepEqual(inv.opts, { file: "cpu.pb.gz", top: 10, sampleIndex: undefined, flame: undefined });
  assert.deepEqual(resolve("pprof", "cpu.pb.gz", "--top").opts, { file: "cpu.pb.gz", top: 10, sampleIndex: undefined, flame: undefined });
  assert.deepEqual(resolve("pprof", "--top", "3", "cpu.pb.gz", "--sample-index", "samples").opts, { file: "cpu.pb.gz", top: 3, sampleIndex: "samples", flame: undefined });
  assert.deepEqual(resolve("pprof", "cpu.pb.gz", "--flame", "f.html").opts, { file: "cpu.pb.gz", top: undefined, sampleIndex: undefined, flame: "f.html" });
  for (const [argv, message] of [
    [["pprof"], /missing profile file/],
    [["pprof", "a", "b"], /too many arguments/],
    [["pprof", "a", "--host", "h:1"], /--host does not apply to pprof/],
    [["pprof", "a", "--token-file", "t"], /--token-file does not apply to pprof/],
    [["pprof", "a", "--summary"], /--summary does not apply to pprof/],
  ] as const) {
    assert.throws(() => resolve(...argv), (e: unknown) => e instanceof UsageError && message.test(e.message), argv.join(" "));
  }
  assert.ok(COMMANDS.some((c) => c.name === "pprof"));
});

test("pprof FILE: the same table as for the capture; never calls gopsd", async () => {
  const cwd = await withProfile();
  const f = fakeContext({}, { cwd });
  await run({ file: "cpu.pb.gz", top: 10, sampleIndex: undefined, flame: undefined }, f.ctx);
  assert.equal(f.stdout.text(), formatTop(topFunctions(cpuProfile, { limit: 10 })));
  assert.equal(f.calls.length, 0);
});

test("pprof FILE --flame --json: {path, bytes, flame} and the page titled with the file", async () => {
  const cwd = await withProfile();
  const f = fakeContext({}, { cwd, json: true });
  await run({ file: "cpu.pb.gz", top: undefined, sampleIndex: "samples", flame: "out/../f.html" }, f.ctx);
  const bytes = (await readFile(join(cwd, "cpu.pb.gz"))).length;
  assert.deepEqual(JSON.parse(f.stdout.text()), { path: join(cwd, "cpu.pb.gz"), bytes, flame: join(cwd, "f.html") });
  assert.match(await readFile(join(cwd, "f.html"), "utf8"), /<title>cpu\.pb\.gz \(samples\)<\/title>/);
  assert.deepEqual((await readdir(cwd)).sort(), ["cpu.pb.gz", "f.html"]);
});

test("pprof FILE: a file larger than any profile is refused unread (issue 17 item 2)", async () => {
  const cwd = await withProfile();
  // Sparse: 130 MiB that take no disk.
  const big = await open(join(cwd, "huge.pb.gz"), "w");
  await big.truncate(130 << 20);
  await big.close();
  await assert.rejects(
    run({ file: "huge.pb.gz", top: 10, sampleIndex: undefined, flame: undefined }, fakeContext({}, { cwd }).ctx),
    { message: "not a pprof profile: the file has more than 128 MiB (the limit for a profile)" },
  );
});

test("pprof FILE: a missing file, or a sample index the profile lacks, is an error", async () => {
  const cwd = await withProfile();
  await assert.rejects(run({ file: "nope.pb.gz", top: 10, sampleIndex: undefined, flame: undefined }, fakeContext({}, { cwd }).ctx), { code: "ENOENT" });
  await assert.rejects(
    run({ file: "cpu.pb.gz", top: 10, sampleIndex: "alloc_space", flame: undefined }, fakeContext({}, { cwd }).ctx),
    /sample index "alloc_space" must be one of: samples, cpu/,
  );
});
