// ELF header, program headers and section headers (names only as far as needed), ELF32/ELF64, either
// byte order. Reads the 64-byte header, the program header table, the section header table and the
// section name table: a few KiB, whatever the size of the binary.
//
// Every count and size here comes from the file, which any local user can write and run: the work is
// bounded by fixed limits, not by what the headers claim. At most MAX_SEGMENTS program headers and
// MAX_SECTIONS section headers are looked at (more: the table is dropped as damage), at most
// MAX_NAME_TABLE_BYTES of the section name table are read, once, and a name is at most MAX_NAME_BYTES long
// (a table without NUL cannot make every section copy it). FileView adds a total read budget per file.
import { BuildInfoError } from "./build-info-error.js";
import type { FileView } from "./file-view.js";

export const PT_LOAD = 1;
export const PF_X = 0x1;
export const PF_W = 0x2;
export const SHT_NOBITS = 8;
export const SHF_ALLOC = 0x2;

const ELF_MAGIC = 0x7f454c46; // "\x7fELF"
const SHN_XINDEX = 0xffff;
const PN_XNUM = 0xffff;
/** Real Go binaries have about 10 program headers and 25-50 sections. */
export const MAX_SEGMENTS = 256;
export const MAX_SECTIONS = 4096;
/** Real section name tables are a few hundred bytes; names past this offset stay undefined. */
export const MAX_NAME_TABLE_BYTES = 64 * 1024;
/** Longer names are cut here (the longest name looked for is ".go.buildinfo"). */
export const MAX_NAME_BYTES = 64;

export interface ElfSegment {
  type: number;
  flags: number;
  offset: number;
  vaddr: number;
  filesz: number;
}

export interface ElfSection {
  /** Undefined when the section name table is unusable. */
  name: string | undefined;
  type: number;
  flags: number;
  addr: number;
  offset: number;
  size: number;
}

export interface ElfLayout {
  is64: boolean;
  littleEndian: boolean;
  segments: ElfSegment[];
  sections: ElfSection[];
  /** Problems found in the header tables; the tables concerned were dropped (empty) or clamped. */
  damage: string[];
}

const corrupt = (msg: string) => new BuildInfoError("corrupt", `corrupt ELF file: ${msg}`);

/** Field reader for one byte order and class; 64-bit values above 2^53 become Infinity (never in range). */
class Fields {
  constructor(
    private readonly le: boolean,
    readonly is64: boolean,
  ) {}
  u16(b: Buffer, o: number): number {
    return this.le ? b.readUInt16LE(o) : b.readUInt16BE(o);
  }
  u32(b: Buffer, o: number): number {
    return this.le ? b.readUInt32LE(o) : b.readUInt32BE(o);
  }
  u64(b: Buffer, o: number): number {
    const lo = this.le ? b.readUInt32LE(o) : b.readUInt32BE(o + 4);
    const hi = this.le ? b.readUInt32LE(o + 4) : b.readUInt32BE(o);
    return hi >= 0x200000 ? Infinity : hi * 0x1_0000_0000 + lo;
  }
  /** A word of the file's class: 4 bytes in ELF32, 8 in ELF64. */
  word(b: Buffer, o32: number, o64: number): number {
    return this.is64 ? this.u64(b, o64) : this.u32(b, o32);
  }
}

export function readElfLayout(file: FileView): ElfLayout {
  const magic = file.read(0, 4);
  if (magic === undefined || magic.readUInt32BE(0) !== ELF_MAGIC) {
    throw new BuildInfoError("not-elf", "not an ELF file");
  }
  const ident = file.read(0, 16);
  if (ident === undefined) throw corrupt("truncated ELF header");
  const cls = ident[4];
  const data = ident[5];
  if (cls !== 1 && cls !== 2) throw corrupt(`unknown class ${cls}`);
  if (data !== 1 && data !== 2) throw corrupt(`unknown byte order ${data}`);
  const f = new Fields(data === 1, cls === 2);
  const ehsize = f.is64 ? 64 : 52;
  const eh = file.read(0, ehsize);
  if (eh === undefined) throw corrupt("truncated ELF header");

  const phoff = f.word(eh, 28, 32);
  const shoff = f.word(eh, 32, 40);
  const phentsize = f.u16(eh, f.is64 ? 54 : 42);
  let phnum = f.u16(eh, f.is64 ? 56 : 44);
  const shentsize = f.u16(eh, f.is64 ? 58 : 46);
  let shnum = f.u16(eh, f.is64 ? 60 : 48);
  let shstrndx = f.u16(eh, f.is64 ? 62 : 50);

  const damage: string[] = [];
  const shdrSize = f.is64 ? 64 : 40;
  const phdrSize = f.is64 ? 56 : 32;

  // Extended numbering: the real counts live in section header 0.
  if (shoff !== 0 && (shnum === 0 || shstrndx === SHN_XINDEX || phnum === PN_XNUM)) {
    const sh0 = shentsize >= shdrSize ? file.read(shoff, shdrSize) : undefined;
    if (sh0 === undefined) {
      damage.push("section header 0 is unreadable");
      shnum = 0;
    } else {
      if (shnum === 0) shnum = f.word(sh0, 20, 32);
      if (shstrndx === SHN_XINDEX) shstrndx = f.u32(sh0, f.is64 ? 40 : 24);
      if (phnum === PN_XNUM) phnum = f.u32(sh0, f.is64 ? 44 : 28);
    }
  }

  const segments: ElfSegment[] = [];
  if (phnum > MAX_SEGMENTS) damage.push(`program headers: ${phnum} entries is more than the ${MAX_SEGMENTS} looked at`);
  else if (phnum > 0) {
    const table = readTable(file, phoff, phnum, phentsize, phdrSize);
    if (typeof table === "string") damage.push(`program headers: ${table}`);
    else {
      for (let i = 0; i < phnum; i++) {
        const o = i * phentsize;
        const seg: ElfSegment = f.is64
          ? {
              type: f.u32(table, o),
              flags: f.u32(table, o + 4),
              offset: f.u64(table, o + 8),
              vaddr: f.u64(table, o + 16),
              filesz: f.u64(table, o + 32),
            }
          : {
              type: f.u32(table, o),
              offset: f.u32(table, o + 4),
              vaddr: f.u32(table, o + 8),
              filesz: f.u32(table, o + 16),
              flags: f.u32(table, o + 24),
            };
        if (seg.type === PT_LOAD && !file.contains(seg.offset, seg.filesz)) {
          damage.push(`PT_LOAD segment ${i} extends past end of file`);
        }
        segments.push(seg);
      }
    }
  }

  const sections: ElfSection[] = [];
  if (shoff !== 0 && shnum > MAX_SECTIONS) damage.push(`section headers: ${shnum} entries is more than the ${MAX_SECTIONS} looked at`);
  else if (shoff !== 0 && shnum > 0) {
    const table = readTable(file, shoff, shnum, shentsize, shdrSize);
    if (typeof table === "string") damage.push(`section headers: ${table}`);
    else {
      const nameOffsets: number[] = [];
      for (let i = 0; i < shnum; i++) {
        const o = i * shentsize;
        nameOffsets.push(f.u32(table, o));
        sections.push({
          name: undefined,
          type: f.u32(table, o + 4),
          flags: f.word(table, o + 8, o + 8),
          addr: f.word(table, o + 12, o + 16),
          offset: f.word(table, o + 16, o + 24),
          size: f.word(table, o + 20, o + 32),
        });
      }
      nameSections(file, sections, nameOffsets, shstrndx, damage);
    }
  }

  return { is64: f.is64, littleEndian: data === 1, segments, sections, damage };
}

function readTable(file: FileView, off: number, num: number, entsize: number, minEntsize: number): Buffer | string {
  if (entsize < minEntsize) return `entry size ${entsize} is smaller than ${minEntsize}`;
  const bytes = num * entsize;
  const table = file.read(off, bytes);
  return table ?? `table at offset ${off} (${bytes} bytes) is outside the file`;
}

function nameSections(
  file: FileView,
  sections: ElfSection[],
  nameOffsets: number[],
  shstrndx: number,
  damage: string[],
): void {
  const strtab = sections[shstrndx];
  if (strtab === undefined || strtab.type === SHT_NOBITS) {
    damage.push(`section name table index ${shstrndx} is invalid`);
    return;
  }
  if (!file.contains(strtab.offset, strtab.size)) {
    damage.push("section name table is outside the file");
    return;
  }
  const names = file.read(strtab.offset, Math.min(strtab.size, MAX_NAME_TABLE_BYTES));
  if (names === undefined) {
    damage.push("section name table is unreadable");
    return;
  }
  sections.forEach((s, i) => {
    const at = nameOffsets[i]!;
    if (at >= names.length) return;
    const window = names.subarray(at, Math.min(names.length, at + MAX_NAME_BYTES));
    const end = window.indexOf(0);
    s.name = window.toString("latin1", 0, end < 0 ? window.length : end);
  });
}
