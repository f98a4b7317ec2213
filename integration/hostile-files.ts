// Test-only builders of hostile files (never in dist/): an ELF "section bomb" made from a real executable.

/** Section headers in the bomb: the most extended numbering allows without going past 16 bits. */
export const BOMB_SECTIONS = 65_535;
/** The one section name table all of them name: 4 MiB of 'A', no NUL anywhere. */
export const BOMB_STRTAB_BYTES = 4 << 20;

/**
 * A copy of the ELF64 little-endian executable `elf` that still runs (the kernel only reads program headers)
 * but carries BOMB_SECTIONS section headers, all of type SHT_STRTAB over one BOMB_STRTAB_BYTES table without
 * a NUL, each naming offset 0 of it. A reader that copies "the name up to the NUL" copies 4 MiB per section:
 * 256 GiB in all. Extended numbering: e_shnum = 0 and e_shstrndx = SHN_XINDEX, the real values in header 0.
 */
export function sectionBomb(elf: Buffer): Buffer {
  if (elf.readUInt32BE(0) !== 0x7f454c46 || elf[4] !== 2 || elf[5] !== 1) throw new Error("sectionBomb needs an ELF64 little-endian file");
  const strtabOff = Math.ceil(elf.length / 16) * 16;
  const shoff = strtabOff + BOMB_STRTAB_BYTES;
  const out = Buffer.alloc(shoff + BOMB_SECTIONS * 64);
  elf.copy(out, 0);
  out.fill(0x41, strtabOff, shoff);
  out.writeBigUInt64LE(BigInt(shoff), 40); // e_shoff
  out.writeUInt16LE(64, 58); // e_shentsize
  out.writeUInt16LE(0, 60); // e_shnum: see header 0
  out.writeUInt16LE(0xffff, 62); // e_shstrndx: SHN_XINDEX, see header 0
  // Header 0: sh_size = real section count, sh_link = real name table index.
  out.writeBigUInt64LE(BigInt(BOMB_SECTIONS), shoff + 32);
  out.writeUInt32LE(1, shoff + 40);
  for (let i = 1; i < BOMB_SECTIONS; i++) {
    const o = shoff + i * 64;
    out.writeUInt32LE(0, o); // sh_name: offset 0 of the table
    out.writeUInt32LE(3, o + 4); // SHT_STRTAB
    out.writeBigUInt64LE(BigInt(strtabOff), o + 24); // sh_offset
    out.writeBigUInt64LE(BigInt(BOMB_STRTAB_BYTES), o + 32); // sh_size
  }
  return out;
}
