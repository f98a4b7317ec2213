// Verdicts about executables (their Go build info, or why there is none) keyed by file identity, so a warm
// scan never re-reads a binary. Bounded two ways: at most maxEntries (least recently seen dropped first),
// and an entry not seen for maxIdleScans scans is dropped at the end of a scan.
import type { FileId } from "./proc-fs.js";

interface Entry<V> {
  value: V;
  seen: number;
}

const fileIdKey = (id: FileId): string => `${id.dev}:${id.ino}:${id.size}:${id.mtimeMs}`;

export class BuildInfoCache<V> {
  // Map order is the recency order: an entry is moved to the end when first seen in a scan.
  private readonly entries = new Map<string, Entry<V>>();
  private scan = 0;

  constructor(
    private readonly maxEntries = 4096,
    private readonly maxIdleScans = 3,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  beginScan(): void {
    this.scan++;
  }

  get(id: FileId): V | undefined {
    const key = fileIdKey(id);
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.seen !== this.scan) {
      e.seen = this.scan;
      this.entries.delete(key);
      this.entries.set(key, e);
    }
    return e.value;
  }

  set(id: FileId, value: V): void {
    const key = fileIdKey(id);
    this.entries.delete(key);
    this.entries.set(key, { value, seen: this.scan });
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= this.maxEntries) break;
      this.entries.delete(oldest);
    }
  }

  endScan(): void {
    for (const [key, e] of this.entries) {
      if (this.scan - e.seen < this.maxIdleScans) break; // the rest were seen more recently
      this.entries.delete(key);
    }
  }
}
