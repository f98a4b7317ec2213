// Bounds-checked reads over a caller's ReadAt. Every position and length is checked against the file size
// before anything is read or allocated, so a lying header can never make us read past EOF or allocate
// more than the file holds, and the total read is capped by a fixed budget.
import { BuildInfoError } from "./build-info-error.js";

/** Reads `length` bytes at `position`; returns fewer bytes only at end of file. */
export type ReadAt = (position: number, length: number) => Buffer;

/** Bytes read up front in one call: the ELF header and, in practice, the program header table. */
const HEAD_BYTES = 4096;
/**
 * Total bytes one FileView reads (and so allocates) over its life, whatever the file claims: header tables
 * (at most 256 KiB of section headers), the name table (64 KiB), two 64 KiB search windows and the 1 MiB
 * module info fit many times over. Past it, reads throw a "corrupt" BuildInfoError.
 */
export const READ_BUDGET_BYTES = 8 << 20;

export class FileView {
  private head: Buffer | undefined;
  private spent = 0;

  constructor(
    private readonly readAt: ReadAt,
    readonly size: number,
    private readonly budget: number = READ_BUDGET_BYTES,
  ) {}

  /** True when [position, position+length) lies inside the file. */
  contains(position: number, length: number): boolean {
    return (
      Number.isSafeInteger(position) &&
      Number.isSafeInteger(length) &&
      position >= 0 &&
      length >= 0 &&
      position + length <= this.size
    );
  }

  /**
   * Exactly `length` bytes at `position`, or undefined when the range is outside the file or the reader
   * came back short (the file shrank, or `size` was wrong).
   */
  read(position: number, length: number): Buffer | undefined {
    if (!this.contains(position, length)) return undefined;
    if (length === 0) return Buffer.alloc(0);
    if (position + length <= HEAD_BYTES) {
      this.head ??= this.readRaw(0, Math.min(HEAD_BYTES, this.size));
      if (position + length <= this.head.length) return this.head.subarray(position, position + length);
      return undefined;
    }
    const buf = this.readRaw(position, length);
    return buf.length === length ? buf : undefined;
  }

  private readRaw(position: number, length: number): Buffer {
    this.spent += length;
    if (this.spent > this.budget) {
      throw new BuildInfoError("corrupt", `corrupt ELF file: more than the ${this.budget}-byte read budget needed`);
    }
    const buf = this.readAt(position, length);
    return buf.length > length ? buf.subarray(0, length) : buf;
  }
}
