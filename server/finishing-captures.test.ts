import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { fileFinishingStore, finishingDir, memoryFinishingStore } from "./finishing-captures.js";

const root = mkdtempSync(path.join(tmpdir(), "gopsctl-finishing-test-"));
after(() => rmSync(root, { recursive: true, force: true }));
const soon = () => Date.now() + 3_000;

describe("finishing captures", () => {
  it("memory: kept until the capture's end, forgotten when the pid names another process", () => {
    let start: number | undefined = 100;
    const s = memoryFinishingStore(() => start);
    const until = soon();
    s.save(7, { label: "a trace", untilMs: until });
    assert.deepEqual(s.load(7), { label: "a trace", untilMs: until });
    assert.equal(s.load(8), undefined);
    start = 101;
    assert.equal(s.load(7), undefined);
    s.save(9, { label: "a trace", untilMs: Date.now() - 1 });
    assert.equal(s.load(9), undefined);
  });

  it("file: another store on the same dir (the next gopsctl run) sees it; owner-only dir and file", () => {
    const dir = path.join(root, "a", "captures");
    const until = soon();
    fileFinishingStore(dir, () => 100).save(7, { label: "a CPU profile", untilMs: until });
    assert.deepEqual(fileFinishingStore(dir, () => 100).load(7), { label: "a CPU profile", untilMs: until });
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(statSync(path.join(dir, "7")).mode & 0o777, 0o600);
    // Another process under that pid now, or a record past its end: forgotten and removed.
    assert.equal(fileFinishingStore(dir, () => 101).load(7), undefined);
    assert.deepEqual(readdirSync(dir), []);
    fileFinishingStore(dir, () => 100).save(8, { label: "a trace", untilMs: Date.now() - 1 });
    assert.equal(fileFinishingStore(dir, () => 100).load(8), undefined);
    writeFileSync(path.join(dir, "9"), "not json", { mode: 0o600 });
    assert.equal(fileFinishingStore(dir, () => 100).load(9), undefined);
  });

  it("file: a directory others can write to is not used", () => {
    const shared = path.join(root, "shared");
    mkdirSync(shared, { mode: 0o777 });
    chmodSync(shared, 0o777);
    const dir = path.join(shared, "captures");
    fileFinishingStore(dir, () => 100).save(7, { label: "a trace", untilMs: soon() });
    assert.equal(fileFinishingStore(dir, () => 100).load(7), undefined);
  });

  it("the dir: under $XDG_RUNTIME_DIR, else a per-uid dir in the temp dir", () => {
    assert.equal(finishingDir({ XDG_RUNTIME_DIR: "/run/user/1000" }), "/run/user/1000/gopsctl/captures");
    assert.equal(finishingDir({}), path.join(tmpdir(), `gopsctl-${process.getuid!()}`, "captures"));
  });
});
