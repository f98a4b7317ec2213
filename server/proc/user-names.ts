// uid → user name from the host's passwd, parsed once and re-read at most every `maxAgeMs`.
import { parsePasswd, type PasswdEntry } from "./parse-passwd.js";
import type { ProcFs } from "./proc-fs.js";

export class UserNames {
  private entries: Map<number, PasswdEntry> | undefined;
  private loadedAt = 0;

  constructor(
    private readonly fs: ProcFs,
    private readonly maxAgeMs = 30_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** The user name, or "" when the uid is not in passwd (or passwd cannot be read). */
  nameOf(uid: number): string {
    const t = this.now();
    if (!this.entries || t - this.loadedAt > this.maxAgeMs) {
      this.loadedAt = t;
      try {
        this.entries = parsePasswd(this.fs.readHostPasswd().toString("utf8"));
      } catch {
        this.entries = new Map();
      }
    }
    return this.entries.get(uid)?.name ?? "";
  }
}
