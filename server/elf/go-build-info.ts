// The Go build info blob (what `go version -m` reads): find it in an ELF file and decode it.
//
// Where: the `.go.buildinfo` section when the section headers are there, otherwise (stripped headers,
// packed binaries) the first 64 KiB of the first writable, non-executable PT_LOAD segment, which is
// where the Go linker puts it. Only those bytes are read, never the whole binary.
//
// What: a 32-byte header at a 16-byte aligned offset: the 14-byte magic "\xff Go buildinf:", the pointer
// size, a flags byte (0x1 big-endian, 0x2 inline strings). Go >= 1.18 writes the inline form: two
// uvarint-length-prefixed strings (Go version, then module info) right after the header. Older
// toolchains wrote two pointers to Go string headers {data pointer, length} to follow through the
// program headers. The module info is framed by 16-byte sentinels that are stripped here.
import { BuildInfoError } from "./build-info-error.js";
import {
  type ElfLayout,
  type ElfSegment,
  PF_W,
  PF_X,
  PT_LOAD,
  SHF_ALLOC,
  SHT_NOBITS,
  readElfLayout,
} from "./elf-layout.js";
import { FileView, type ReadAt } from "./file-view.js";
import { parseModInfo } from "./mod-info.js";

export interface GoModule {
  path: string;
  version: string;
  sum: string;
  replace?: GoModule;
}

export interface GoBuildInfo {
  /** e.g. "go1.19.8", "go1.21.4 X:arenas", "devel +abc" */
  goVersion: string;
  /** main package path ("path" line) */
  path: string;
  /** main module ("mod" line) */
  main?: GoModule;
  /** "dep" lines, with "=>" replacements attached */
  deps: GoModule[];
  /** "build" lines (e.g. -compiler=gc, GOOS=linux, vcs.revision=...) */
  settings: { key: string; value: string }[];
}

const MAGIC = Buffer.from("\xff Go buildinf:", "latin1");
const HEADER_SIZE = 32;
const ALIGN = 16;
/** How far into the data segment the blob is searched for (as Go's debug/buildinfo does). */
const SEARCH_BYTES = 64 * 1024;
const FIRST_LOOK_BYTES = 4 * 1024;
const MAX_VERSION_BYTES = 4 * 1024;
const MAX_MODINFO_BYTES = 1024 * 1024;
/** The modinfo framing: cmd/go's 16-byte start and end sentinels. */
const SENTINEL_BYTES = 16;

const corrupt = (msg: string) => new BuildInfoError("corrupt", `corrupt Go build info: ${msg}`);

/** A byte range of the file: a section or the file-backed part of a segment, clamped to the file. */
interface Region {
  offset: number;
  length: number;
  what: string;
}

export function readGoBuildInfo(readAt: ReadAt, size: number): GoBuildInfo {
  if (!Number.isSafeInteger(size) || size < 0) throw new BuildInfoError("corrupt", `invalid file size ${size}`);
  const file = new FileView(readAt, size);
  const elf = readElfLayout(file);

  let found: { region: Region; at: number; window: Buffer } | undefined;
  const tried: string[] = [];
  const damage = [...elf.damage];
  for (const region of candidateRegions(elf, file)) {
    tried.push(region.what);
    // Go's linker puts the blob at the very start: look at one page before reading all 64 KiB.
    for (const want of [FIRST_LOOK_BYTES, SEARCH_BYTES]) {
      const window = file.read(region.offset, Math.min(region.length, want));
      if (window === undefined) {
        damage.push(`short read of ${region.what}`);
        break;
      }
      const at = findMagic(window);
      if (at >= 0) found = { region, at, window };
      if (found !== undefined || window.length === region.length) break;
    }
    if (found !== undefined) break;
  }
  if (found === undefined) {
    if (damage.length > 0) throw new BuildInfoError("corrupt", `corrupt ELF file: ${damage.join("; ")}`);
    const where = tried.length > 0 ? tried.join(", ") : "no .go.buildinfo section and no writable PT_LOAD segment";
    throw new BuildInfoError("no-build-info", `no Go build info found (searched ${where})`);
  }

  const { region, at, window } = found;
  const header = window.subarray(at, at + HEADER_SIZE);
  const ptrSize = header[14]!;
  const flags = header[15]!;
  let version: Buffer;
  let modinfo: Buffer;
  if ((flags & 0x2) !== 0) {
    const blob = new RegionReader(file, region, window);
    let pos = at + HEADER_SIZE;
    [version, pos] = blob.varintString(pos, MAX_VERSION_BYTES, "Go version");
    [modinfo] = blob.varintString(pos, MAX_MODINFO_BYTES, "module info");
  } else {
    if (ptrSize !== 4 && ptrSize !== 8) throw corrupt(`pointer size ${ptrSize}`);
    const mem = new AddressSpace(file, elf, ptrSize, (flags & 0x1) !== 0);
    version = mem.goString(mem.pointer(header, 16), MAX_VERSION_BYTES, "Go version");
    modinfo = mem.goString(mem.pointer(header, 16 + ptrSize), MAX_MODINFO_BYTES, "module info");
  }
  if (version.length === 0) throw corrupt("empty Go version");

  // Without the framing (e.g. a GOPATH-mode build) there is no module info, as in Go itself.
  const framed = modinfo.length >= 2 * SENTINEL_BYTES + 1 && modinfo[modinfo.length - SENTINEL_BYTES - 1] === 0x0a;
  const text = framed ? modinfo.toString("utf8", SENTINEL_BYTES, modinfo.length - SENTINEL_BYTES) : "";
  return { goVersion: version.toString("utf8"), ...parseModInfo(text) };
}

/** The `.go.buildinfo` section first, then the first writable non-executable PT_LOAD segment. */
function candidateRegions(elf: ElfLayout, file: FileView): Region[] {
  const regions: Region[] = [];
  const section = elf.sections.find((s) => s.name === ".go.buildinfo");
  if (section !== undefined && section.type !== SHT_NOBITS && section.offset < file.size) {
    regions.push({
      offset: section.offset,
      length: Math.min(section.size, file.size - section.offset),
      what: "the .go.buildinfo section",
    });
  }
  const data = elf.segments.find((p) => p.type === PT_LOAD && (p.flags & (PF_X | PF_W)) === PF_W);
  if (data !== undefined && data.offset < file.size) {
    const length = Math.min(data.filesz, file.size - data.offset);
    if (!regions.some((r) => r.offset === data.offset)) {
      regions.push({ offset: data.offset, length, what: "the first writable PT_LOAD segment" });
    }
  }
  return regions;
}

/** Offset of the magic at a 16-byte aligned position with a whole header after it, or -1. */
function findMagic(window: Buffer): number {
  for (let i = window.indexOf(MAGIC); i >= 0 && i + HEADER_SIZE <= window.length; i = window.indexOf(MAGIC, i + 1)) {
    if (i % ALIGN === 0) return i;
  }
  return -1;
}

/** Reads inside one region, from the already-read window when possible. */
class RegionReader {
  constructor(
    private readonly file: FileView,
    private readonly region: Region,
    private readonly window: Buffer,
  ) {}

  bytes(pos: number, length: number, what: string): Buffer {
    if (pos + length <= this.window.length) return this.window.subarray(pos, pos + length);
    const buf = pos + length <= this.region.length ? this.file.read(this.region.offset + pos, length) : undefined;
    if (buf === undefined) throw corrupt(`${what} runs past the end of ${this.region.what}`);
    return buf;
  }

  /** A uvarint length then that many bytes; returns the bytes and the position after them. */
  varintString(pos: number, max: number, what: string): [Buffer, number] {
    const avail = Math.min(10, this.region.length - pos);
    const raw = avail > 0 ? this.bytes(pos, avail, what) : Buffer.alloc(0);
    let length = 0;
    let n = 0;
    for (;;) {
      if (n >= raw.length) throw corrupt(`unterminated length of ${what}`);
      const b = raw[n]!;
      length += (b & 0x7f) * 2 ** (7 * n);
      n++;
      if (b < 0x80) break;
    }
    if (length > max) throw corrupt(`${what} length ${length} exceeds the ${max}-byte limit`);
    return [this.bytes(pos + n, length, what), pos + n + length];
  }
}

/** Virtual addresses of the program image, mapped to file offsets through PT_LOAD segments. */
class AddressSpace {
  private readonly loads: ElfSegment[];

  constructor(
    private readonly file: FileView,
    elf: ElfLayout,
    private readonly ptrSize: 4 | 8,
    private readonly bigEndian: boolean,
  ) {
    this.loads = elf.segments.filter((p) => p.type === PT_LOAD);
    if (this.loads.length === 0) {
      // No usable program headers: allocated sections describe the same mapping.
      for (const s of elf.sections) {
        if ((s.flags & SHF_ALLOC) !== 0 && s.type !== SHT_NOBITS) {
          this.loads.push({ type: PT_LOAD, flags: 0, offset: s.offset, vaddr: s.addr, filesz: s.size });
        }
      }
    }
  }

  pointer(buf: Buffer, at: number): number {
    if (this.ptrSize === 4) return this.bigEndian ? buf.readUInt32BE(at) : buf.readUInt32LE(at);
    const v = this.bigEndian ? buf.readBigUInt64BE(at) : buf.readBigUInt64LE(at);
    return v > BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(v);
  }

  /** `length` bytes at virtual address `addr`; all of them must be backed by the file. */
  read(addr: number, length: number, what: string): Buffer {
    for (const p of this.loads) {
      if (p.vaddr <= addr && addr + length <= p.vaddr + p.filesz) {
        const buf = this.file.read(p.offset + (addr - p.vaddr), length);
        if (buf !== undefined) return buf;
      }
    }
    throw corrupt(`${what} at address 0x${addr.toString(16)} (${length} bytes) is not in the file`);
  }

  /** A Go string header {data, len} at `addr`, then its bytes. */
  goString(addr: number, max: number, what: string): Buffer {
    const hdr = this.read(addr, 2 * this.ptrSize, `${what} string header`);
    const data = this.pointer(hdr, 0);
    const length = this.pointer(hdr, this.ptrSize);
    if (length > max) throw corrupt(`${what} length ${length} exceeds the ${max}-byte limit`);
    if (length === 0) return Buffer.alloc(0);
    return this.read(data, length, what);
  }
}
