// Real Go binaries built here (go1.19, offline) compared line by line with `go version -m`, then cut,
// corrupted and stripped of their section headers.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import {
  BuildInfoError,
  type BuildInfoErrorKind,
  formatGoVersionM,
  readGoBuildInfo,
  readGoBuildInfoFromFile,
} from "./index.js";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const GO = "/usr/bin/go";
const MAGIC = Buffer.from("\xff Go buildinf:", "latin1");
const haveGit = spawnSync("git", ["--version"]).status === 0;

let dir: string;
const bin = { normal: "", stripped: "", quoted: "" };

function goEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    GOPROXY: "off",
    GOFLAGS: "-mod=mod",
    GOCACHE: join(REPO, ".cache/go-build"),
    GOPATH: join(dir, "gopath"),
    GOTOOLCHAIN: "local",
  };
}

function goBuild(out: string, ...flags: string[]): string {
  const path = join(dir, out);
  execFileSync(GO, ["build", ...flags, "-o", path, "."], { cwd: join(dir, "src"), env: goEnv(), stdio: "pipe", timeout: 120_000 });
  return path;
}

/** `go version -m` output without the blank line go1.19 prints after a "=>" line (a formatting quirk). */
function goVersionM(path: string): string {
  const out = execFileSync(GO, ["version", "-m", path], { env: goEnv(), encoding: "utf8", timeout: 30_000 });
  return out
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => `${l}\n`)
    .join("");
}

const fromBuffer = (buf: Buffer, size = buf.length) => readGoBuildInfo((p, l) => buf.subarray(p, Math.min(p + l, buf.length)), size);

function assertKind(fn: () => unknown, kind: BuildInfoErrorKind, what: string) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof BuildInfoError, `${what}: expected BuildInfoError, got ${String(e)}`);
    assert.equal(e.kind, kind, `${what}: ${e.message}`);
    return true;
  });
}

/** Offset of the blob in a Go >= 1.18 binary and of the byte after its two inline strings. */
function blobBounds(buf: Buffer): { start: number; end: number } {
  let start = buf.indexOf(MAGIC);
  while (start % 16 !== 0) start = buf.indexOf(MAGIC, start + 1);
  assert.ok(start > 0 && (buf[start + 15]! & 2) !== 0, "inline build info blob");
  let pos = start + 32;
  for (let s = 0; s < 2; s++) {
    let len = 0;
    for (let shift = 0; ; shift += 7) {
      const b = buf[pos++]!;
      len += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) break;
    }
    pos += len;
  }
  return { start, end: pos };
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), "gopsctl-elf-"));
  const src = join(dir, "src");
  mkdirSync(join(src, "greet"), { recursive: true });
  writeFileSync(
    join(src, "go.mod"),
    "module example.com/hello\n\ngo 1.19\n\nrequire example.com/greet v0.0.0\n\nreplace example.com/greet => ./greet\n",
  );
  writeFileSync(join(src, "greet/go.mod"), "module example.com/greet\n\ngo 1.19\n");
  writeFileSync(join(src, "greet/greet.go"), 'package greet\n\nfunc Hello() string { return "hello" }\n');
  writeFileSync(
    join(src, "main.go"),
    'package main\n\nimport (\n\t"fmt"\n\n\t"example.com/greet"\n)\n\nvar msg = "x"\n\nfunc main() { fmt.Println(greet.Hello(), msg) }\n',
  );
  if (haveGit) {
    const git = (...args: string[]) =>
      execFileSync("git", ["-c", "user.email=t@example.com", "-c", "user.name=t", ...args], { cwd: src, stdio: "pipe" });
    git("init", "-q", ".");
    git("add", "-A");
    git("commit", "-qm", "initial");
  }
  bin.normal = goBuild("normal");
  bin.stripped = goBuild("stripped", "-ldflags=-s -w");
  bin.quoted = goBuild("quoted", "-tags=a,b", "-ldflags=-X 'main.msg=say \"hi\"\tnow'");
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("real Go binaries", () => {
  it("matches `go version -m` for a normal build", () => {
    const info = readGoBuildInfoFromFile(bin.normal);
    assert.equal(formatGoVersionM(bin.normal, info), goVersionM(bin.normal));
    assert.match(info.goVersion, /^go1\.19(\.\d+)?$/);
    assert.equal(info.path, "example.com/hello");
    assert.deepEqual(info.main, { path: "example.com/hello", version: "(devel)", sum: "" });
    assert.deepEqual(info.deps, [
      { path: "example.com/greet", version: "v0.0.0", sum: "", replace: { path: "./greet", version: "(devel)", sum: "" } },
    ]);
    const settings = new Map(info.settings.map((s) => [s.key, s.value]));
    assert.equal(settings.get("-compiler"), "gc");
    assert.equal(settings.get("GOOS"), "linux");
    if (haveGit) assert.match(settings.get("vcs.revision") ?? "", /^[0-9a-f]{40}$/);
  });

  it("matches `go version -m` for a build with -ldflags=-s -w", () => {
    const info = readGoBuildInfoFromFile(bin.stripped);
    assert.equal(formatGoVersionM(bin.stripped, info), goVersionM(bin.stripped));
    assert.deepEqual(
      info.settings.find((s) => s.key === "-ldflags"),
      { key: "-ldflags", value: "-s -w" },
    );
  });

  it("matches `go version -m` when build settings need Go quoting", () => {
    const info = readGoBuildInfoFromFile(bin.quoted);
    assert.equal(formatGoVersionM(bin.quoted, info), goVersionM(bin.quoted));
    assert.equal(info.settings.find((s) => s.key === "-ldflags")?.value, "-X 'main.msg=say \"hi\"\tnow'");
    assert.equal(info.settings.find((s) => s.key === "-tags")?.value, "a,b");
  });

  it("reads a few KiB in a handful of reads, not the binary", () => {
    const buf = readFileSync(bin.normal);
    const reads: [number, number][] = [];
    const info = readGoBuildInfo((p, l) => {
      reads.push([p, l]);
      return buf.subarray(p, p + l);
    }, buf.length);
    assert.equal(info.path, "example.com/hello");
    const total = reads.reduce((n, [, l]) => n + l, 0);
    assert.ok(reads.length <= 4, `reads: ${JSON.stringify(reads)}`);
    assert.ok(total <= 16 * 1024, `read ${total} bytes of ${buf.length}`);
  });

  it("uses the first writable PT_LOAD segment when section headers are gone", () => {
    const expected = readGoBuildInfoFromFile(bin.normal);
    for (const path of [bin.normal, bin.stripped]) {
      const buf = readFileSync(path);
      buf.fill(0, 40, 48); // e_shoff
      buf.fill(0, 60, 64); // e_shnum, e_shstrndx
      let bytesRead = 0;
      const info = readGoBuildInfo((p, l) => {
        bytesRead += l;
        return buf.subarray(p, p + l);
      }, buf.length);
      assert.equal(info.goVersion, expected.goVersion);
      assert.equal(formatGoVersionM(path, info), goVersionM(path));
      assert.ok(bytesRead <= 16 * 1024, `read ${bytesRead} bytes`);
    }
  });

  it("falls back to the segment when section headers are corrupt", () => {
    const buf = readFileSync(bin.normal);
    const expected = fromBuffer(buf);
    const shoff = Number(buf.readBigUInt64LE(40));
    const shnum = buf.readUInt16LE(60);
    const corruptions: [string, (b: Buffer) => void][] = [
      ["e_shoff past EOF", (b) => b.writeBigUInt64LE(BigInt(b.length + 1), 40)],
      ["e_shoff = 2^63", (b) => b.writeBigUInt64LE(1n << 63n, 40)],
      ["e_shentsize too small", (b) => b.writeUInt16LE(1, 58)],
      ["e_shnum = 0xffff", (b) => b.writeUInt16LE(0xffff, 60)],
      ["e_shstrndx out of range", (b) => b.writeUInt16LE(shnum + 5, 62)],
      [
        "every sh_offset and sh_size huge",
        (b) => {
          for (let i = 0; i < shnum; i++) {
            b.writeBigUInt64LE(0xffff_ffff_ffffn, shoff + i * 64 + 24);
            b.writeBigUInt64LE(0xffff_ffff_ffff_ffffn, shoff + i * 64 + 32);
          }
        },
      ],
      [
        "every sh_name garbage",
        (b) => {
          for (let i = 0; i < shnum; i++) b.writeUInt32LE(0xfffffff0 - i, shoff + i * 64);
        },
      ],
    ];
    for (const [what, corrupt] of corruptions) {
      const copy = Buffer.from(buf);
      corrupt(copy);
      assert.deepEqual(fromBuffer(copy), expected, what);
    }
  });

  it("reports corrupt when both header tables are broken", () => {
    const buf = readFileSync(bin.normal);
    buf.writeBigUInt64LE(BigInt(buf.length), 32); // e_phoff
    buf.writeBigUInt64LE(BigInt(buf.length), 40); // e_shoff
    assertKind(() => fromBuffer(buf), "corrupt", "no tables");
  });

  it("rejects blobs with lying lengths", () => {
    const buf = readFileSync(bin.normal);
    const { start } = blobBounds(buf);
    const versionLen = buf[start + 32]!;
    const modLenAt = start + 33 + versionLen;
    const cases: [string, number, number[]][] = [
      ["modinfo length past the section", modLenAt, [0xff, 0x7f]],
      ["version length over the limit", start + 32, [0x80, 0x80, 0x80, 0x01]],
      ["unterminated version length", start + 32, Array(12).fill(0xff)],
      ["old-format pointer size 0", start + 14, [0, 0]],
      ["old-format pointers to nowhere", start + 15, [0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]],
    ];
    for (const [what, at, bytes] of cases) {
      const copy = Buffer.from(buf);
      Buffer.from(bytes).copy(copy, at);
      assertKind(() => fromBuffer(copy), "corrupt", what);
    }
  });

  it("rejects a modinfo that breaks Go's line rules", () => {
    const buf = readFileSync(bin.normal);
    const { start, end } = blobBounds(buf);
    const cases: [string, string, string][] = [
      ["build line without '='", "build\t-compiler=gc\n", "build\t-compiler gc\n"],
      ["dep line with one column", "dep\texample.com/greet\tv0.0.0\n", "dep\texample.com/greet v0.0.0\n"],
    ];
    for (const [what, from, to] of cases) {
      const copy = Buffer.from(buf);
      const at = copy.indexOf(from, start);
      assert.ok(at > start && at < end, what);
      copy.write(to, at, "latin1");
      assertKind(() => fromBuffer(copy), "corrupt", what);
    }
  });

  it("reports truncation at every 4 KiB up to the blob, and in the headers, as corrupt", () => {
    const buf = readFileSync(bin.normal);
    const { start, end } = blobBounds(buf);
    const phEnd = 64 + buf.readUInt16LE(56) * buf.readUInt16LE(54);
    const cuts = [4, 5, 15, 16, 17, 40, 52, 63, 64, 65, 100, phEnd - 1, start, start + 31, start + 32, start + 40, end - 1];
    for (let cut = 4096; cut < end; cut += 4096) cuts.push(cut);
    for (const cut of cuts) {
      const part = buf.subarray(0, cut);
      assertKind(() => fromBuffer(part), "corrupt", `cut at ${cut}`);
      // The same file with a size that lies: reads come back short.
      assertKind(() => fromBuffer(part, buf.length), "corrupt", `cut at ${cut}, size ${buf.length}`);
    }
    for (const cut of [0, 1, 3]) assertKind(() => fromBuffer(buf.subarray(0, cut)), "not-elf", `cut at ${cut}`);
  });

  it("still reads the blob when only what follows it was cut off", () => {
    const buf = readFileSync(bin.normal);
    const expected = fromBuffer(buf);
    const { end } = blobBounds(buf);
    for (const cut of [end, end + 4096, buf.length - 1]) assert.deepEqual(fromBuffer(buf.subarray(0, cut)), expected, `cut at ${cut}`);
  });

  it("throws only BuildInfoError for randomly damaged headers, tables and blob", () => {
    const buf = readFileSync(bin.normal);
    const { start, end } = blobBounds(buf);
    const shoff = Number(buf.readBigUInt64LE(40));
    const zones: [number, number][] = [
      [0, 64],
      [64, 64 + 56 * buf.readUInt16LE(56)],
      [shoff, buf.length],
      [start, end],
    ];
    let seed = 12345;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return Math.floor((seed / 2 ** 32) * n);
    };
    let parsed = 0;
    for (let n = 0; n < 600; n++) {
      const [from, to] = zones[n % zones.length]!;
      const saved = new Map<number, number>();
      for (let k = 0, flips = 1 + rand(4); k < flips; k++) {
        const at = from + rand(to - from);
        if (!saved.has(at)) saved.set(at, buf[at]!);
        buf[at] = rand(256);
      }
      try {
        const info = fromBuffer(buf);
        assert.equal(typeof info.goVersion, "string");
        parsed++;
      } catch (e) {
        assert.ok(e instanceof BuildInfoError, `iteration ${n}: ${String(e)}`);
      }
      for (const [at, v] of saved) buf[at] = v;
    }
    assert.ok(parsed > 0);
  });
});

describe("other files", () => {
  it("reports a text file, an empty file and a directory as not ELF", () => {
    const text = join(dir, "notes.txt");
    writeFileSync(text, "#!/bin/sh\necho this is not an ELF file\n");
    const empty = join(dir, "empty");
    writeFileSync(empty, "");
    assertKind(() => readGoBuildInfoFromFile(text), "not-elf", text);
    assertKind(() => readGoBuildInfoFromFile(empty), "not-elf", empty);
    assertKind(() => readGoBuildInfoFromFile(dir), "not-elf", dir);
  });

  it("reports a FIFO as not a regular file without blocking on it", () => {
    const fifo = join(dir, "fifo");
    execFileSync("mkfifo", [fifo]);
    assertKind(() => readGoBuildInfoFromFile(fifo), "not-elf", fifo);
  });

  it("reports C programs as ELF without build info", () => {
    assertKind(() => readGoBuildInfoFromFile("/bin/true"), "no-build-info", "/bin/true");
    assertKind(() => readGoBuildInfoFromFile(process.execPath), "no-build-info", process.execPath);
  });

  it("names the file in errors and passes I/O errors through", () => {
    const copy = join(dir, "true-copy");
    copyFileSync("/bin/true", copy);
    assert.throws(() => readGoBuildInfoFromFile(copy), (e: unknown) => e instanceof BuildInfoError && e.message.startsWith(copy));
    assert.throws(
      () => readGoBuildInfoFromFile(join(dir, "missing")),
      (e: unknown) => (e as NodeJS.ErrnoException).code === "ENOENT",
    );
  });
});
