// gc, setgc, memstats, stats, version, buildinfo: one call each, text on a terminal, JSON when asked or piped.
import assert from "node:assert/strict";
import { test } from "node:test";
import { GetBuildInfoResponse, MemStatsResponse } from "../../proto/index.js";
import { fakeContext } from "../fake-context.testkit.js";
import { buildInfoText, run as runBuildinfo } from "./buildinfo.js";
import { run as runGc } from "./gc.js";
import { run as runMemstats } from "./memstats.js";
import { run as runSetgc } from "./setgc.js";
import { run as runStats } from "./stats.js";
import { run as runVersion } from "./version.js";

test("gc prints nothing on success, even piped; --json prints {pid, ok}", async () => {
  for (const isTTY of [true, false]) {
    const f = fakeContext({ forceGC: async () => ({}) }, { isTTY });
    await runGc({ pid: 9 }, f.ctx);
    assert.equal(f.stdout.text(), "");
    assert.deepEqual(f.calls.map((c) => [c.method, c.request]), [["forceGC", { pid: 9 }]]);
  }
  const f = fakeContext({ forceGC: async () => ({}) }, { json: true });
  await runGc({ pid: 9 }, f.ctx);
  assert.deepEqual(JSON.parse(f.stdout.text()), { pid: 9, ok: true });
});

test("setgc sends the percentage and prints the agent's line; JSON has the typed values", async () => {
  const reply = { previous: 100, current: -1, raw: "New GC percent set to -1. Previous value was 100.\n" };
  const f = fakeContext({ setGCPercent: async () => reply });
  await runSetgc({ pid: 9, percent: -1 }, f.ctx);
  assert.deepEqual(f.calls[0]!.request, { pid: 9, percent: -1 });
  assert.equal(f.stdout.text(), "New GC percent set to -1. Previous value was 100.\n");
  const piped = fakeContext({ setGCPercent: async () => ({ ...reply, raw: "New GC percent set to -1. Previous value was 100." }) }, { isTTY: false, json: true });
  await runSetgc({ pid: 9, percent: -1 }, piped.ctx);
  assert.deepEqual(JSON.parse(piped.stdout.text()), { pid: 9, previous: 100, current: -1, raw: "New GC percent set to -1. Previous value was 100." });
});

const raw = "alloc: 134.91KB (138152 bytes)\ntotal-alloc: 134.91KB (138152 bytes)\n";

test("memstats: the agent's raw text on a terminal; typed fields, raw and unknown keys in JSON", async () => {
  const reply = MemStatsResponse.fromPartial({ stats: { alloc: 138152, totalAlloc: 138152, enableGc: true, lastGc: "-" }, raw, unknownKeys: ["new-key"] });
  const f = fakeContext({ memStats: async () => reply });
  await runMemstats({ pid: 9 }, f.ctx);
  assert.equal(f.stdout.text(), raw);
  const j = fakeContext({ memStats: async () => reply }, { json: true });
  await runMemstats({ pid: 9 }, j.ctx);
  const out = JSON.parse(j.stdout.text());
  assert.equal(out.pid, 9);
  assert.equal(out.stats.alloc, 138152);
  assert.equal(out.stats.enableGc, true);
  assert.equal(out.stats.numGc, 0);
  assert.equal(out.raw, raw);
  assert.deepEqual(out.unknownKeys, ["new-key"]);
});

test("stats: raw text on a terminal, typed JSON otherwise", async () => {
  const reply = { goroutines: 7, osThreads: 9, gomaxprocs: 2, numCpu: 2, raw: "goroutines: 7\nOS threads: 9\nGOMAXPROCS: 2\nnum CPU: 2\n" };
  const f = fakeContext({ stats: async () => reply });
  await runStats({ pid: 9 }, f.ctx);
  assert.equal(f.stdout.text(), reply.raw);
  const j = fakeContext({ stats: async () => reply }, { isTTY: false, json: true });
  await runStats({ pid: 9 }, j.ctx);
  assert.deepEqual(JSON.parse(j.stdout.text()), { pid: 9, ...reply, unknownFields: [] });
});

test("version: the target's Go version", async () => {
  const f = fakeContext({ version: async () => ({ goVersion: "go1.19.8" }) });
  await runVersion({ pid: 9 }, f.ctx);
  assert.equal(f.stdout.text(), "go1.19.8\n");
  const j = fakeContext({ version: async () => ({ goVersion: "go1.19.8" }) }, { isTTY: false, json: true });
  await runVersion({ pid: 9 }, j.ctx);
  assert.deepEqual(JSON.parse(j.stdout.text()), { pid: 9, goVersion: "go1.19.8" });
});

const buildInfo = GetBuildInfoResponse.fromPartial({
  pid: 9,
  exe: "/usr/bin/foops",
  buildInfo: {
    goVersion: "go1.19.8",
    path: "example.com/foops/cmd/foops",
    main: { path: "example.com/foops", version: "(devel)" },
    deps: [
      { path: "golang.org/x/sys", version: "v0.1.0", sum: "h1:abc=" },
      { path: "example.com/lib", version: "v1.0.0", replace: { path: "../lib", version: "(devel)" } },
    ],
    settings: [
      { key: "-compiler", value: "gc" },
      { key: "-ldflags", value: "-s -w" },
      { key: "CGO_ENABLED", value: "0" },
      { key: "weird=key", value: "v" },
    ],
  },
});

test("buildinfo prints like go version -m", async () => {
  const f = fakeContext({ getBuildInfo: async () => buildInfo });
  await runBuildinfo({ pid: 9 }, f.ctx);
  assert.deepEqual(f.calls[0]!.request, { pid: 9 });
  assert.equal(
    f.stdout.text(),
    [
      "/usr/bin/foops: go1.19.8",
      "\tpath\texample.com/foops/cmd/foops",
      "\tmod\texample.com/foops\t(devel)\t",
      "\tdep\tgolang.org/x/sys\tv0.1.0\th1:abc=",
      "\tdep\texample.com/lib\tv1.0.0",
      "\t=>\t../lib\t(devel)\t",
      "\tbuild\t-compiler=gc",
      '\tbuild\t-ldflags="-s -w"',
      "\tbuild\tCGO_ENABLED=0",
      '\tbuild\t"weird=key"=v',
      "",
    ].join("\n"),
  );
  assert.equal(buildInfoText(GetBuildInfoResponse.fromPartial({ exe: "/x" })), "/x: \n");
});

test("buildinfo quotes build settings as Go does: \\a for BEL, \\u00a0 for a no-break space", () => {
  const res = GetBuildInfoResponse.fromPartial({
    exe: "/x",
    buildInfo: { goVersion: "go1.19", path: "x", settings: [{ key: "k", value: "a\u0007 b\u00a0c" }] },
  });
  assert.equal(buildInfoText(res), '/x: go1.19\n\tpath\tx\n\tbuild\tk="a\\a b\\u00a0c"\n');
});

test("buildinfo JSON has the structured build info", async () => {
  const f = fakeContext({ getBuildInfo: async () => buildInfo }, { isTTY: false, json: true });
  await runBuildinfo({ pid: 9 }, f.ctx);
  const out = JSON.parse(f.stdout.text());
  assert.equal(out.exe, "/usr/bin/foops");
  assert.equal(out.buildInfo.deps[1].replace.path, "../lib");
  assert.equal(out.buildInfo.deps[0].replace, undefined);
});
