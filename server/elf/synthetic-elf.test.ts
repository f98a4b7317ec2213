// Hand-built ELF files: ELF32/ELF64 in both byte orders, the pre-1.18 pointer blob and the inline blob,
// with and without section headers, plus the odd shapes real toolchains rarely emit (packed binaries,
// extended section numbering, unaligned magic, pointers that lead nowhere).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BuildInfoError, type BuildInfoErrorKind, type GoBuildInfo, readGoBuildInfo } from "./index.js";

const MAGIC = Buffer.from("\xff Go buildinf:", "latin1");
const START = Buffer.from("3077af0c9274080241e1c107e6d618e6", "hex");
const END = Buffer.from("f932433186182072008242104116d8f2", "hex");
const BASE = 0x10000;
const DATA_OFF = 0x1000;

const MODINFO =
  "path\texample.com/cmd/x\n" +
  "mod\texample.com\tv1.2.3\th1:abc=\n" +
  "dep\tgolang.org/x/sys\tv0.1.0\th1:def=\n" +
  "=>\t../sys\t\t\n" +
  "build\t-ldflags=\"-s -w\"\n" +
  "build\tGOOS=linux\n";
const EXPECTED_MOD: Omit<GoBuildInfo, "goVersion"> = {
  path: "example.com/cmd/x",
  main: { path: "example.com", version: "v1.2.3", sum: "h1:abc=" },
  deps: [{ path: "golang.org/x/sys", version: "v0.1.0", sum: "h1:def=", replace: { path: "../sys", version: "", sum: "" } }],
  settings: [
    { key: "-ldflags", value: "-s -w" },
    { key: "GOOS", value: "linux" },
  ],
};

const framed = (text: string) => Buffer.concat([START, Buffer.from(text), END]);

function uvarint(n: number): Buffer {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return Buffer.from(out);
}

/** Writes fixed-size fields of one ELF class and byte order into a growing file image. */
class Image {
  buf = Buffer.alloc(0x4000);
  constructor(
    readonly is64: boolean,
    readonly le: boolean,
  ) {}
  u8(o: number, v: number) {
    this.buf[o] = v;
  }
  u16(o: number, v: number) {
    if (this.le) this.buf.writeUInt16LE(v, o);
    else this.buf.writeUInt16BE(v, o);
  }
  u32(o: number, v: number) {
    if (this.le) this.buf.writeUInt32LE(v, o);
    else this.buf.writeUInt32BE(v, o);
  }
  ptr(o: number, v: number, size = this.is64 ? 8 : 4) {
    if (size === 4) return this.u32(o, v);
    if (this.le) this.buf.writeBigUInt64LE(BigInt(v), o);
    else this.buf.writeBigUInt64BE(BigInt(v), o);
  }
  bytes(o: number, b: Buffer) {
    b.copy(this.buf, o);
  }
}

interface Options {
  is64: boolean;
  le: boolean;
  format: "inline" | "pointers";
  sections: boolean;
  version?: string;
  modinfo?: Buffer;
  /** Bytes placed in the data segment before the blob. */
  blobAt?: number;
  /** Overrides p_filesz of the writable segment (a packed binary leaves it 0). */
  dataFilesz?: number;
  /** Section count in section header 0 instead of e_shnum (extended numbering). */
  extendedShnum?: boolean;
  /** Replaces the blob's pointer to the version string header (pointer format). */
  versionPtr?: number;
  /** sh_flags of the .rodata section (default SHF_ALLOC). */
  rodataFlags?: number;
  /** Replaces the length in the version string header (pointer format). */
  versionLen?: number;
}

function buildElf(o: Options): Buffer {
  const img = new Image(o.is64, o.le);
  const version = Buffer.from(o.version ?? "go1.16.15");
  const modinfo = o.modinfo ?? framed(MODINFO);
  const ptrSize = o.is64 ? 8 : 4;
  const ehsize = o.is64 ? 64 : 52;
  const phentsize = o.is64 ? 56 : 32;
  const shentsize = o.is64 ? 64 : 40;

  // Read-only part (offset 0x200.. of the text segment): strings and string headers.
  const verOff = 0x200;
  const modOff = 0x300;
  const hdrOff = 0x200 + 0x100 + modinfo.length + 15 - ((0x300 + modinfo.length + 15) % 16);
  img.bytes(verOff, version);
  img.bytes(modOff, modinfo);
  img.ptr(hdrOff, BASE + verOff, ptrSize);
  img.ptr(hdrOff + ptrSize, o.versionLen ?? version.length, ptrSize);
  img.ptr(hdrOff + 2 * ptrSize, BASE + modOff, ptrSize);
  img.ptr(hdrOff + 3 * ptrSize, modinfo.length, ptrSize);

  // The blob, in the writable segment.
  const blobOff = DATA_OFF + (o.blobAt ?? 0);
  img.bytes(blobOff, MAGIC);
  img.u8(blobOff + 14, ptrSize);
  let blobEnd = blobOff + 32;
  if (o.format === "inline") {
    img.u8(blobOff + 15, 0x2 | (o.le ? 0 : 0x1));
    const body = Buffer.concat([uvarint(version.length), version, uvarint(modinfo.length), modinfo]);
    img.bytes(blobEnd, body);
    blobEnd += body.length;
  } else {
    img.u8(blobOff + 15, o.le ? 0 : 1);
    img.ptr(blobOff + 16, o.versionPtr ?? BASE + hdrOff, ptrSize);
    img.ptr(blobOff + 16 + ptrSize, BASE + hdrOff + 2 * ptrSize, ptrSize);
  }
  const dataEnd = blobEnd + 64;

  // Sections: null, .go.buildinfo, .shstrtab, .rodata (the strings and string headers).
  const names = Buffer.from("\0.go.buildinfo\0.shstrtab\0.rodata\0", "latin1");
  const namesOff = dataEnd;
  const shoff = namesOff + names.length + 7 - ((namesOff + names.length + 7) % 8);
  const fileEnd = o.sections ? shoff + 4 * shentsize : dataEnd;
  if (o.sections) {
    img.bytes(namesOff, names);
    const sh = (i: number, name: number, type: number, flags: number, addr: number, off: number, size: number) => {
      const b = shoff + i * shentsize;
      img.u32(b, name);
      img.u32(b + 4, type);
      img.ptr(b + 8, flags);
      img.ptr(b + (o.is64 ? 16 : 12), addr);
      img.ptr(b + (o.is64 ? 24 : 16), off);
      img.ptr(b + (o.is64 ? 32 : 20), size);
    };
    sh(0, 0, 0, 0, 0, 0, o.extendedShnum ? 4 : 0);
    sh(1, 1, 1, 0x3, BASE + DATA_OFF, DATA_OFF, dataEnd - DATA_OFF);
    sh(2, 15, 3, 0, 0, namesOff, names.length);
    sh(3, 25, 1, o.rodataFlags ?? 0x2, BASE + 0x200, 0x200, DATA_OFF - 0x200);
  }

  // ELF header.
  img.bytes(0, Buffer.from([0x7f, 0x45, 0x4c, 0x46, o.is64 ? 2 : 1, o.le ? 1 : 2, 1]));
  img.u16(16, 2); // ET_EXEC
  img.u16(18, o.is64 ? 62 : 8);
  img.u32(20, 1);
  img.ptr(o.is64 ? 32 : 28, ehsize); // e_phoff
  img.ptr(o.is64 ? 40 : 32, o.sections ? shoff : 0); // e_shoff
  const h = o.is64 ? 52 : 40;
  img.u16(h, ehsize);
  img.u16(h + 2, phentsize);
  img.u16(h + 4, 2);
  img.u16(h + 6, o.sections ? shentsize : 0);
  img.u16(h + 8, o.sections && !o.extendedShnum ? 4 : 0);
  img.u16(h + 10, o.sections ? 2 : 0);

  // Program headers: R+X text covering the header and strings, RW data holding the blob.
  const ph = (i: number, flags: number, off: number, filesz: number) => {
    const b = ehsize + i * phentsize;
    img.u32(b, 1); // PT_LOAD
    if (o.is64) {
      img.u32(b + 4, flags);
      img.ptr(b + 8, off);
      img.ptr(b + 16, BASE + off);
      img.ptr(b + 24, BASE + off);
      img.ptr(b + 32, filesz);
      img.ptr(b + 40, filesz);
    } else {
      img.u32(b + 4, off);
      img.u32(b + 8, BASE + off);
      img.u32(b + 12, BASE + off);
      img.u32(b + 16, filesz);
      img.u32(b + 20, filesz);
      img.u32(b + 24, flags);
    }
  };
  ph(0, 0x5, 0, DATA_OFF);
  ph(1, 0x6, DATA_OFF, o.dataFilesz ?? dataEnd - DATA_OFF);
  return img.buf.subarray(0, fileEnd);
}

const parse = (buf: Buffer) => readGoBuildInfo((p, l) => buf.subarray(p, p + l), buf.length);

function assertKind(fn: () => unknown, kind: BuildInfoErrorKind, message?: RegExp) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof BuildInfoError, `expected BuildInfoError, got ${String(e)}`);
    assert.equal(e.kind, kind, e.message);
    if (message) assert.match(e.message, message);
    return true;
  });
}

describe("synthetic ELF files", () => {
  for (const is64 of [false, true]) {
    for (const le of [true, false]) {
      for (const format of ["inline", "pointers"] as const) {
        for (const sections of [true, false]) {
          const name = `ELF${is64 ? 64 : 32} ${le ? "LE" : "BE"} ${format} blob, ${sections ? "with" : "without"} sections`;
          it(name, () => {
            const info = parse(buildElf({ is64, le, format, sections, version: "go1.21.4 X:arenas" }));
            assert.deepEqual(info, { goVersion: "go1.21.4 X:arenas", ...EXPECTED_MOD });
          });
        }
      }
    }
  }

  it("reads section counts from section header 0 (extended numbering)", () => {
    const buf = buildElf({ is64: true, le: true, format: "inline", sections: true, extendedShnum: true });
    // Remove the program headers' route to the blob so that only the section can lead there.
    buf.writeUInt16LE(0, 56);
    assert.deepEqual(parse(buf), { goVersion: "go1.16.15", ...EXPECTED_MOD });
  });

  it("finds the blob by section alone when there are no program headers", () => {
    const buf = buildElf({ is64: false, le: false, format: "inline", sections: true });
    buf.writeUInt16BE(0, 44); // e_phnum
    assert.equal(parse(buf).goVersion, "go1.16.15");
  });

  it("follows old-format pointers through allocated sections when there are no program headers", () => {
    for (const le of [true, false]) {
      const buf = buildElf({ is64: true, le, format: "pointers", sections: true });
      buf.fill(0, 56, 58); // e_phnum
      assert.deepEqual(parse(buf), { goVersion: "go1.16.15", ...EXPECTED_MOD });
    }
    const unmapped = buildElf({ is64: true, le: true, format: "pointers", sections: true, rodataFlags: 0 });
    unmapped.fill(0, 56, 58);
    assertKind(() => parse(unmapped), "corrupt", /not in the file/);
  });

  it("accepts a blob at a later 16-byte aligned offset and ignores an unaligned magic", () => {
    assert.equal(parse(buildElf({ is64: true, le: true, format: "inline", sections: false, blobAt: 48 })).goVersion, "go1.16.15");
    assertKind(() => parse(buildElf({ is64: true, le: true, format: "inline", sections: false, blobAt: 8 })), "no-build-info");
  });

  it("returns no module info when the modinfo is not framed (GOPATH-mode build)", () => {
    const info = parse(buildElf({ is64: true, le: true, format: "pointers", sections: true, modinfo: Buffer.from(MODINFO) }));
    assert.deepEqual(info, { goVersion: "go1.16.15", path: "", deps: [], settings: [] });
  });

  it("reports a packed binary (no sections, empty writable segment) as having no build info", () => {
    const buf = buildElf({ is64: true, le: true, format: "inline", sections: false, dataFilesz: 0 });
    assertKind(() => parse(buf), "no-build-info");
  });

  it("rejects old-format pointers that lead outside the file", () => {
    assertKind(() => parse(buildElf({ is64: true, le: true, format: "pointers", sections: true, versionPtr: 2 ** 60 })), "corrupt");
    assertKind(() => parse(buildElf({ is64: false, le: true, format: "pointers", sections: true, versionPtr: 0xfffffff0 })), "corrupt");
    assertKind(() => parse(buildElf({ is64: true, le: false, format: "pointers", sections: false, versionPtr: 0 })), "corrupt");
  });

  it("rejects old-format string lengths that lie", () => {
    const huge = buildElf({ is64: true, le: true, format: "pointers", sections: true, versionLen: 2 ** 40 });
    assertKind(() => parse(huge), "corrupt", /exceeds/);
    const pastEnd = buildElf({ is64: false, le: false, format: "pointers", sections: true, versionLen: 4000 });
    assertKind(() => parse(pastEnd), "corrupt", /not in the file/);
  });

  it("rejects an empty Go version and a bad pointer size", () => {
    assertKind(() => parse(buildElf({ is64: true, le: true, format: "inline", sections: true, version: "" })), "corrupt", /empty Go version/);
    const buf = buildElf({ is64: true, le: true, format: "pointers", sections: true });
    buf[DATA_OFF + 14] = 3;
    assertKind(() => parse(buf), "corrupt", /pointer size 3/);
  });

  it("rejects unknown ELF class and byte order, and short files", () => {
    const buf = buildElf({ is64: true, le: true, format: "inline", sections: true });
    assertKind(() => parse(Buffer.concat([buf.subarray(0, 4), Buffer.from([3]), buf.subarray(5)])), "corrupt", /class/);
    assertKind(() => parse(Buffer.concat([buf.subarray(0, 5), Buffer.from([0]), buf.subarray(6)])), "corrupt", /byte order/);
    assertKind(() => parse(Buffer.from([0x7f, 0x45, 0x4c])), "not-elf");
    assertKind(() => parse(Buffer.alloc(0)), "not-elf");
    assertKind(() => parse(buf.subarray(0, 40)), "corrupt", /truncated ELF header/);
  });

  it("survives random garbage behind an ELF identification", () => {
    let seed = 0x2f6b1d;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    for (let n = 0; n < 2000; n++) {
      const buf = Buffer.alloc(Math.floor(rand() * 2048));
      for (let i = 0; i < buf.length; i++) buf[i] = rand() < 0.5 ? 0 : Math.floor(rand() * 256);
      Buffer.from([0x7f, 0x45, 0x4c, 0x46, 1 + (n & 1), 1 + ((n >> 1) & 1)]).copy(buf);
      try {
        parse(buf);
      } catch (e) {
        assert.ok(e instanceof BuildInfoError, `iteration ${n}: ${String(e)}`);
      }
    }
  });
});
