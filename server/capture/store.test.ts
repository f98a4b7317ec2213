import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { AgentKind, type CaptureInfo, type ProcessStats } from "../../proto/index.js";
import { CaptureStore, newCaptureId } from "./store.js";

const SAMPLE = { pid: 7, name: "svc", backend: AgentKind.AGENT_KIND_GOPS_AGENT, goroutines: 500, unknownFields: [], staleFields: [] } as unknown as ProcessStats;

function info(pid: number, at: number): CaptureInfo {
  return { id: newCaptureId(pid, new Date(at)), host: "h", pid, exe: "/bin/svc", name: "svc", modulePath: "m", container: "", pod: "", rule: "r", reason: "why", timeUnixMs: at, finishedUnixMs: 0, bytes: 0, files: [], errors: [] };
}

async function* bytes(n: number): AsyncGenerator<Uint8Array> {
  yield Buffer.alloc(n, 1);
}

async function add(store: CaptureStore, pid: number, at: number, size: number): Promise<CaptureInfo> {
  const w = await store.begin(info(pid, at), { ruleText: "goroutines>1", sample: SAMPLE });
  await w.addFile("goroutines.txt", bytes(size));
  return w.commit(at + 1);
}

describe("CaptureStore", () => {
  let root: string;
  let now = 1_800_000_000_000;
  const logs: string[] = [];
  const caps = { maxBytes: 1 << 20, maxCount: 3, maxAgeMs: 3_600_000 };
  const open = (dir: string, c = caps) => CaptureStore.open(dir, c, { log: (m) => logs.push(m), now: () => now });

  before(async () => {
    root = await mkdtemp(path.join(tmpdir(), "gopsctl-capture-store-"));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("keeps captures newest first, 0700/0600, with sizes and SHA-256, and reads them back after a restart", async () => {
    const dir = path.join(root, "a");
    const store = await open(dir);
    const one = await add(store, 1, now - 2000, 10);
    const two = await add(store, 2, now - 1000, 20);
    assert.deepEqual(store.list().map((c) => c.id), [two.id, one.id]);
    assert.deepEqual(one.files, [{ name: "goroutines.txt", bytes: 10, sha256: createHash("sha256").update(Buffer.alloc(10, 1)).digest("hex") }]);
    assert.equal((await stat(dir)).mode & 0o777, 0o700);
    assert.equal((await stat(path.join(dir, one.id))).mode & 0o777, 0o700);
    for (const f of await readdir(path.join(dir, one.id))) assert.equal((await stat(path.join(dir, one.id, f))).mode & 0o777, 0o600);
    const reopened = await open(dir);
    assert.deepEqual(reopened.list(), store.list());
    const chunks = [];
    for await (const m of reopened.read(one.id)) chunks.push(m.payload?.$case === "chunk" ? m.payload.value.file : "info");
    assert.deepEqual(chunks, ["info", "manifest.json", "goroutines.txt"]);
  });

  it("caps: the oldest go first past the count, the size, and the age", async () => {
    const dir = path.join(root, "b");
    const store = await open(dir);
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push((await add(store, 10 + i, now - 10_000 + i, 100)).id);
    assert.deepEqual(store.list().map((c) => c.id), ids.slice(2).reverse(), "count");
    await add(store, 20, now, 700 << 10);
    await add(store, 21, now + 1, 400 << 10);
    assert.deepEqual(store.list().map((c) => c.pid), [21], "size: the 700 KiB one and the small ones went");
    assert.ok(store.totalBytes() <= caps.maxBytes);
    now += caps.maxAgeMs + 10;
    await store.sweep();
    assert.deepEqual(store.list(), [], "age");
    assert.deepEqual(await readdir(dir), []);
  });

  it("a file over the cap fails alone; a failed capture leaves nothing; crash leftovers are removed at start", async () => {
    const dir = path.join(root, "c");
    const store = await open(dir, { ...caps, maxBytes: 1 << 20 });
    const w = await store.begin(info(30, now), { ruleText: "x>1", sample: SAMPLE });
    await assert.rejects(w.addFile("heap.pprof.gz", bytes(2 << 20)), /exceed the store's cap of 1048576 bytes/);
    await w.addFile("goroutines.txt", bytes(5));
    const saved = await w.commit(now);
    assert.deepEqual(saved.files.map((f) => f.name), ["goroutines.txt"]);
    const failed = await store.begin(info(31, now), { ruleText: "x>1", sample: SAMPLE });
    await assert.rejects(failed.addFile("goroutines.txt", (async function* () { yield Buffer.from("x"); throw new Error("disk full"); })()), /disk full/);
    await failed.abort();
    assert.deepEqual(await readdir(dir), [saved.id]);
    await mkdir(path.join(dir, ".tmp-20261207T000000Z-1-abcdef"));
    await writeFile(path.join(dir, ".tmp-20261207T000000Z-1-abcdef", "goroutines.txt"), "half");
    const reopened = await open(dir);
    assert.deepEqual(await readdir(dir), [saved.id]);
    assert.throws(() => reopened.get("../etc"), /is not a capture id/);
    assert.throws(() => reopened.get("20261207T000000Z-9-abcdef"), /no capture "20261207T000000Z-9-abcdef" on this host/);
  });
});
