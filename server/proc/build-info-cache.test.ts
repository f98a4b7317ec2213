import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BuildInfoCache } from "./build-info-cache.js";

const id = (ino: number, mtimeMs = 1) => ({ dev: 1, ino, size: 100, mtimeMs });

describe("BuildInfoCache", () => {
  it("keys by the whole file identity", () => {
    const c = new BuildInfoCache<string>();
    c.beginScan();
    c.set(id(1), "a");
    assert.equal(c.get(id(1)), "a");
    assert.equal(c.get(id(1, 2)), undefined, "a rebuilt binary (new mtime) is a new entry");
    assert.equal(c.get({ ...id(1), size: 101 }), undefined);
    assert.equal(c.get({ ...id(1), dev: 2 }), undefined);
  });

  it("drops the least recently seen entry beyond its bound", () => {
    const c = new BuildInfoCache<string>(2, 100);
    c.beginScan();
    c.set(id(1), "a");
    c.set(id(2), "b");
    c.endScan();
    c.beginScan();
    c.get(id(1)); // seen in this scan: now the most recent
    c.set(id(3), "c");
    assert.equal(c.size, 2);
    assert.equal(c.get(id(2)), undefined);
    assert.equal(c.get(id(1)), "a");
    assert.equal(c.get(id(3)), "c");
  });

  it("drops entries not seen for maxIdleScans scans", () => {
    const c = new BuildInfoCache<string>(10, 2);
    c.beginScan();
    c.set(id(1), "a");
    c.set(id(2), "b");
    c.endScan();
    c.beginScan();
    c.get(id(2));
    c.endScan();
    assert.equal(c.size, 2, "one idle scan is tolerated");
    c.beginScan();
    c.get(id(2));
    c.endScan();
    assert.equal(c.size, 1);
    assert.equal(c.get(id(1)), undefined);
  });
});
