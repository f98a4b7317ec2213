import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { TargetFileError, mayAccess, readTargetFile, type Credentials } from "./target-file.js";

const NOBODY: Credentials = { uid: 65534, gid: 65534, groups: [] };
const ROOT: Credentials = { uid: 0, gid: 0, groups: [] };
const top = mkdtempSync(path.join(tmpdir(), "target-file-test-"));
chmodSync(top, 0o755);
after(() => rmSync(top, { recursive: true, force: true }));

const read = (p: string, who: Credentials, max = 64): Buffer => readTargetFile("/", "/", p, who, max, p);
const code = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof TargetFileError, String(e));
    return e.code;
  }
  return "no error";
};

describe("readTargetFile", () => {
  it("reads a regular file the target may read, through symlinks", () => {
    writeFileSync(path.join(top, "port"), "4242\n", { mode: 0o644 });
    symlinkSync("port", path.join(top, "rel-link"));
    symlinkSync(path.join(top, "port"), path.join(top, "abs-link"));
    assert.equal(read(path.join(top, "port"), NOBODY).toString(), "4242\n");
    assert.equal(read(path.join(top, "rel-link"), NOBODY).toString(), "4242\n");
    assert.equal(read(path.join(top, "abs-link"), NOBODY).toString(), "4242\n");
  });

  it("never opens a FIFO or a device for reading, and does not block on them", () => {
    execFileSync("mkfifo", [path.join(top, "fifo")]);
    symlinkSync("/dev/ptmx", path.join(top, "ptmx"));
    assert.equal(code(() => read(path.join(top, "fifo"), ROOT)), "ENOTREG");
    assert.equal(code(() => read(path.join(top, "ptmx"), ROOT)), "ENOTREG");
    assert.equal(code(() => read(top, ROOT)), "ENOTREG");
  });

  it("refuses what the target's uid could not read: a root-only file, a file in a root-only directory", () => {
    mkdirSync(path.join(top, "private"), { mode: 0o700 });
    writeFileSync(path.join(top, "private", "secret"), "31337", { mode: 0o644 });
    writeFileSync(path.join(top, "root-only"), "31337", { mode: 0o600 });
    symlinkSync(path.join(top, "root-only"), path.join(top, "to-root-only"));
    symlinkSync(path.join(top, "private"), path.join(top, "to-private"));
    for (const p of ["root-only", "to-root-only", "private/secret", "to-private/secret"]) {
      assert.equal(code(() => read(path.join(top, p), NOBODY)), "EACCES", p);
      assert.equal(read(path.join(top, p), ROOT).toString(), "31337", `root may read ${p}`);
    }
    // Allowed through the group or the owner.
    chownSync(path.join(top, "root-only"), 0, 4242);
    chmodSync(path.join(top, "root-only"), 0o640);
    assert.equal(read(path.join(top, "root-only"), { uid: 65534, gid: 1, groups: [4242] }).toString(), "31337");
    assert.equal(code(() => read(path.join(top, "root-only"), NOBODY)), "EACCES");
    assert.ok(mayAccess(NOBODY, { uid: 65534, gid: 0, mode: 0o400 }, 4));
    assert.ok(!mayAccess(NOBODY, { uid: 65534, gid: 0, mode: 0o044 }, 4), "owner bits decide for the owner");
  });

  it("resolves absolute symlinks and '..' inside the target's root, never above it", () => {
    const jail = path.join(top, "jail");
    mkdirSync(path.join(jail, "etc"), { recursive: true });
    writeFileSync(path.join(jail, "etc", "passwd"), "jail\n");
    writeFileSync(path.join(top, "outside"), "host\n");
    symlinkSync("/etc/passwd", path.join(jail, "abs"));
    symlinkSync("../../../../outside", path.join(jail, "up"));
    assert.equal(readTargetFile(jail, jail, "/abs", ROOT, 64, "abs").toString(), "jail\n");
    assert.equal(code(() => readTargetFile(jail, jail, "/up", ROOT, 64, "up")), "ENOENT");
    assert.equal(code(() => readTargetFile(jail, jail, "/../../outside", ROOT, 64, "x")), "ENOENT");
  });

  it("bounds size and symlink loops, and never names the size in its errors", () => {
    writeFileSync(path.join(top, "big"), "9".repeat(100_000));
    symlinkSync("loop-b", path.join(top, "loop-a"));
    symlinkSync("loop-a", path.join(top, "loop-b"));
    assert.throws(() => read(path.join(top, "big"), ROOT), (e: unknown) => e instanceof TargetFileError && e.code === "EFBIG" && !/100000|100 ?000/.test(e.message));
    assert.equal(read(path.join(top, "big"), ROOT, 100_000).length, 100_000, "exactly the limit is fine (buffer grown past 64 KiB)");
    assert.equal(code(() => read(path.join(top, "big"), ROOT, 99_999)), "EFBIG");
    assert.equal(code(() => read(path.join(top, "loop-a"), ROOT)), "ELOOP");
    assert.equal(code(() => read(path.join(top, "missing"), ROOT)), "ENOENT");
    assert.equal(code(() => read(path.join(top, "big", "x"), ROOT)), "ENOTDIR");
  });
});
