import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { ClientError, Status } from "nice-grpc-common";
import type { CaptureInfo, GetCaptureResponse } from "../../proto/index.js";
import { HostsFailedError } from "../errors.js";
import { fakeContext, fakeFleet, streamOf } from "../fake-context.testkit.js";
import { parseCommandLine, resolveCommand } from "./index.js";
import { run } from "./captures.js";

const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

const ID = "20261207T212500Z-4132-3fa9c1";
const info = (over: Partial<CaptureInfo> = {}): CaptureInfo => ({
  id: ID, host: "web-1", pid: 4132, exe: "/bin/api", name: "api", modulePath: "example.com/api", container: "", pod: "",
  rule: "leak", reason: "goroutines 412 > 300", timeUnixMs: Date.UTC(2026, 11, 7, 21, 25, 0), finishedUnixMs: Date.UTC(2026, 11, 7, 21, 25, 2),
  bytes: 2048, files: [{ name: "goroutines.txt", bytes: 2048, sha256: "ab" }], errors: [], ...over,
});
const chunk = (file: string, data: string): GetCaptureResponse => ({ payload: { $case: "chunk", value: { file, data: Buffer.from(data) } } });
const head: GetCaptureResponse = { payload: { $case: "info", value: info() } };

const parse = (...argv: string[]) => resolveCommand(parseCommandLine(argv, {})).opts;

test("captures: parses list, get and rm, and refuses what it cannot mean", () => {
  assert.deepEqual(parse("captures"), { action: "list" });
  assert.deepEqual(parse("captures", "get", ID, "-o", "x"), { action: "get", id: ID, output: "x" });
  assert.deepEqual(parse("captures", "rm", ID), { action: "rm", id: ID });
  assert.throws(() => parse("captures", "get"), /captures get needs a capture id/);
  assert.throws(() => parse("captures", "rm", "../etc"), /"..\/etc" is not a capture id/);
  assert.throws(() => parse("captures", "show", ID), /unknown subcommand "captures show"/);
  assert.throws(() => parse("captures", "-o", "x"), /-o applies to captures get/);
});

test("captures: a table; --json one object per capture with id, pid, rule and time", async () => {
  const two = [info(), info({ id: "20261207T213000Z-77-aaaaaa", pid: 77, rule: "fat", timeUnixMs: Date.UTC(2026, 11, 7, 21, 30, 0), errors: ["heap.pprof.gz: boom"] })];
  const t = fakeContext({ listCaptures: async () => ({ host: "web-1", captures: two }) });
  await run({ action: "list" }, t.ctx);
  const lines = t.stdout.text().split("\n");
  assert.match(lines[0]!, /^ID\s+TIME\s+PID\s+NAME\s+RULE\s+SIZE\s+WHY$/);
  assert.match(lines[1]!, new RegExp(`^${ID}\\s+2026-12-07T21:25:00Z\\s+4132\\s+api\\s+leak\\s+2kB\\s+goroutines 412 > 300$`));
  assert.match(lines[2]!, /\(1 failed\)$/);
  const j = fakeContext({ listCaptures: async () => ({ host: "web-1", captures: two }) }, { json: true });
  await run({ action: "list" }, j.ctx);
  const objs = j.stdout.text().trim().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(objs.map((o) => [o.id, o.pid, o.rule, o.time, o.host]), [
    [ID, 4132, "leak", "2026-12-07T21:25:00.000Z", "web-1"],
    ["20261207T213000Z-77-aaaaaa", 77, "fat", "2026-12-07T21:30:00.000Z", "web-1"],
  ]);
});

test("captures across hosts: one table with HOST, a failed host named and the exit code of its failure", async () => {
  const fleet = fakeFleet({
    "web-1": { listCaptures: async () => ({ host: "web-1", captures: [info()] }) },
    "web-2": { listCaptures: async () => { throw new ClientError("/gops.v1.DiagnosticsService/ListCaptures", Status.PERMISSION_DENIED, "token lacks scope gops:captures"); } },
  });
  const f = fakeContext({}, { fleet });
  await assert.rejects(run({ action: "list" }, f.ctx), HostsFailedError);
  assert.match(f.stdout.text(), /^HOST\s+ID\s+TIME/);
  assert.match(f.stdout.text(), /\nweb-1\s+20261207T212500Z-4132-3fa9c1\s/);
  assert.match(f.stderr.text(), /web-2: PERMISSION_DENIED: token lacks scope gops:captures\n/);
});

test("captures get: the files into DIR (0700, files 0600); a hostile file name leaves nothing", async () => {
  const cwd = await mkdtemp(join(tmpdir(), "gopsctl-captures-"));
  dirs.push(cwd);
  const f = fakeContext({ getCapture: () => streamOf([head, chunk("manifest.json", "{}"), chunk("goroutines.txt", "goroutine 1"), chunk("goroutines.txt", " [running]:\n")]) }, { cwd });
  await run({ action: "get", id: ID, output: "out" }, f.ctx);
  assert.equal(f.stdout.text(), `saved capture ${ID}: 2 files, 25B in ${join(cwd, "out")}\n`);
  assert.deepEqual((await readdir(join(cwd, "out"))).sort(), ["goroutines.txt", "manifest.json"]);
  assert.equal(await readFile(join(cwd, "out", "goroutines.txt"), "utf8"), "goroutine 1 [running]:\n");
  assert.equal((await stat(join(cwd, "out"))).mode & 0o777, 0o700);
  assert.equal((await stat(join(cwd, "out", "goroutines.txt"))).mode & 0o777, 0o600);

  const bad = fakeContext({ getCapture: () => streamOf([head, chunk("manifest.json", "{}"), chunk("../escape", "x")]) }, { cwd });
  await assert.rejects(run({ action: "get", id: ID, output: "bad" }, bad.ctx), /gopsd named a capture file "..\/escape": refusing it/);
  assert.deepEqual(await readdir(join(cwd, "bad")), []);
  assert.deepEqual((await readdir(cwd)).sort(), ["bad", "out"]);
});

test("captures rm", async () => {
  const f = fakeContext({ deleteCapture: async () => ({}) });
  await run({ action: "rm", id: ID }, f.ctx);
  assert.deepEqual(f.calls.map((c) => [c.method, c.request]), [["deleteCapture", { id: ID }]]);
  assert.equal(f.stdout.text(), `removed capture ${ID}\n`);
});
