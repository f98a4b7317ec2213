// The capture store: one directory per capture under a root only root can read (0700 directories, 0600 files),
// each with its files (named by kind) and a manifest.json; caps on total size, number and age, the oldest removed
// first. A capture is written into a hidden .tmp-ID directory and renamed into place once its manifest is written,
// so a listing never shows half a capture; leftovers of a crash are removed at start. A full disk or a failed
// write fails that capture (its directory is removed) and is logged: it never reaches gopsd's other calls.
import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { chmod, lstat, mkdir, open, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { captureNotFound, invalidArgument } from "../../common/errors.js";
import { firstLine } from "../../common/first-line.js";
import { CaptureInfo, ProcessStats, type GetCaptureResponse } from "../../proto/index.js";

export interface StoreCaps {
  maxBytes: number;
  maxCount: number;
  maxAgeMs: number;
}

/** A capture's id: its UTC start second, the pid, and 6 random hex digits. Nothing else names a directory. */
export const CAPTURE_ID = /^\d{8}T\d{6}Z-\d{1,10}-[0-9a-f]{6}$/;
const FILE_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const TMP_PREFIX = ".tmp-";
export const MANIFEST = "manifest.json";
/** Largest manifest read back (a manifest is a few KB). */
const MAX_MANIFEST_BYTES = 1 << 20;
const READ_CHUNK = 64 << 10;

/** What the manifest holds beyond CaptureInfo: the rule as written, and the sample that fired it. */
export interface ManifestExtras {
  ruleText: string;
  sample: ProcessStats;
}

interface Entry {
  info: CaptureInfo;
  /** Bytes on disk, manifest included. */
  diskBytes: number;
}

export function newCaptureId(pid: number, at: Date): string {
  const stamp = at.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  return `${stamp}-${pid}-${randomBytes(3).toString("hex")}`;
}

export class CaptureStore {
  private readonly entries = new Map<string, Entry>();

  private constructor(
    readonly root: string,
    private readonly caps: StoreCaps,
    private readonly log: (msg: string) => void,
    private readonly now: () => number,
  ) {}

  /** Opens (creating, 0700) the store at root, removes crash leftovers and reads the manifests there. */
  static async open(root: string, caps: StoreCaps, opts: { log: (msg: string) => void; now?: () => number }): Promise<CaptureStore> {
    await mkdir(root, { recursive: true, mode: 0o700 });
    const st = await lstat(root);
    if (!st.isDirectory()) throw new Error(`capture.dir ${root} is not a directory`);
    if (typeof process.getuid === "function" && st.uid !== process.getuid()) throw new Error(`capture.dir ${root} belongs to uid ${st.uid}, not to gopsd's`);
    await chmod(root, 0o700);
    const store = new CaptureStore(root, caps, opts.log, opts.now ?? Date.now);
    for (const name of await readdir(root)) {
      if (name.startsWith(TMP_PREFIX)) {
        await rm(path.join(root, name), { recursive: true, force: true });
        continue;
      }
      if (!CAPTURE_ID.test(name)) continue;
      try {
        store.entries.set(name, await readEntry(path.join(root, name), name));
      } catch (e) {
        store.log(`capture store: ${name} is not listed: ${firstLine(e)}`);
      }
    }
    await store.sweep();
    return store;
  }

  /** The captures, newest first. */
  list(): CaptureInfo[] {
    return [...this.entries.values()].map((e) => e.info).sort((a, b) => b.timeUnixMs - a.timeUnixMs || (a.id < b.id ? 1 : -1));
  }

  get(id: string): CaptureInfo {
    return this.entry(id).info;
  }

  /** Total bytes on disk of the listed captures. */
  totalBytes(): number {
    let sum = 0;
    for (const e of this.entries.values()) sum += e.diskBytes;
    return sum;
  }

  /** The capture's info, then manifest.json and each file in chunks. */
  async *read(id: string, signal?: AbortSignal): AsyncGenerator<GetCaptureResponse> {
    const { info } = this.entry(id);
    yield { payload: { $case: "info", value: info } };
    const dir = path.join(this.root, id);
    for (const name of [MANIFEST, ...info.files.map((f) => f.name)]) {
      if (!FILE_NAME.test(name)) continue;
      const stream = createReadStream(path.join(dir, name), { highWaterMark: READ_CHUNK, ...(signal ? { signal } : {}) });
      for await (const data of stream as AsyncIterable<Buffer>) yield { payload: { $case: "chunk", value: { file: name, data } } };
    }
  }

  async delete(id: string): Promise<void> {
    this.entry(id);
    this.entries.delete(id);
    await rm(path.join(this.root, id), { recursive: true, force: true });
  }

  /** Starts a capture's directory (hidden until commit). */
  async begin(info: CaptureInfo, extras: ManifestExtras): Promise<CaptureWriter> {
    if (!CAPTURE_ID.test(info.id)) throw invalidArgument(`bad capture id "${info.id}"`);
    const tmp = path.join(this.root, `${TMP_PREFIX}${info.id}`);
    await mkdir(tmp, { mode: 0o700 });
    return new CaptureWriter(this, tmp, info, extras, this.caps.maxBytes);
  }

  /** Called by a writer once its directory is complete: in the listing, then the caps applied. */
  async commit(tmp: string, info: CaptureInfo, diskBytes: number): Promise<void> {
    await rename(tmp, path.join(this.root, info.id));
    this.entries.set(info.id, { info, diskBytes });
    await this.sweep();
  }

  /** Applies the caps: captures past the age, then the oldest while over the count or the size. */
  async sweep(): Promise<void> {
    const oldestFirst = [...this.entries.values()].sort((a, b) => a.info.timeUnixMs - b.info.timeUnixMs || (a.info.id < b.info.id ? -1 : 1));
    let count = oldestFirst.length;
    let bytes = this.totalBytes();
    const cutoff = this.now() - this.caps.maxAgeMs;
    for (const e of oldestFirst) {
      if (!(e.info.timeUnixMs < cutoff || count > this.caps.maxCount || bytes > this.caps.maxBytes)) break;
      this.entries.delete(e.info.id);
      count--;
      bytes -= e.diskBytes;
      try {
        await rm(path.join(this.root, e.info.id), { recursive: true, force: true });
      } catch (err) {
        this.log(`capture store: cannot remove ${e.info.id}: ${firstLine(err)}`);
      }
    }
  }

  private entry(id: string): Entry {
    if (!CAPTURE_ID.test(id)) throw invalidArgument(`"${id}" is not a capture id (like 20261207T212500Z-4132-3fa9c1)`);
    const e = this.entries.get(id);
    if (!e) throw captureNotFound(id);
    return e;
  }
}

/** Writes one capture's files (0600) into its hidden directory; commit() makes it visible, abort() removes it. */
export class CaptureWriter {
  private bytes = 0;
  private done = false;

  constructor(
    private readonly store: CaptureStore,
    private readonly dir: string,
    readonly info: CaptureInfo,
    private readonly extras: ManifestExtras,
    private readonly maxBytes: number,
  ) {}

  /**
   * Writes one file from chunks, counting its size and SHA-256; a file that would take the capture past the store's
   * size cap is stopped and removed. Throws on any failure (the file is then gone).
   */
  async addFile(name: string, chunks: AsyncIterable<Uint8Array>): Promise<void> {
    if (!FILE_NAME.test(name) || name === MANIFEST) throw new Error(`bad capture file name "${name}"`);
    const file = path.join(this.dir, name);
    const fh = await open(file, "wx", 0o600);
    const hash = createHash("sha256");
    let size = 0;
    try {
      for await (const chunk of chunks) {
        size += chunk.length;
        if (this.bytes + size > this.maxBytes) throw new Error(`the capture would exceed the store's cap of ${this.maxBytes} bytes`);
        hash.update(chunk);
        await fh.write(chunk);
      }
      await fh.close();
    } catch (e) {
      await fh.close().catch(() => undefined);
      await rm(file, { force: true });
      throw e;
    }
    this.bytes += size;
    this.info.files.push({ name, bytes: size, sha256: hash.digest("hex") });
    this.info.bytes = this.bytes;
  }

  error(line: string): void {
    this.info.errors.push(line);
  }

  /** Writes manifest.json and puts the capture in the store. */
  async commit(finishedUnixMs: number): Promise<CaptureInfo> {
    this.done = true;
    this.info.finishedUnixMs = finishedUnixMs;
    const manifest = Buffer.from(
      JSON.stringify({ ...(CaptureInfo.toJSON(this.info) as object), ruleText: this.extras.ruleText, sample: ProcessStats.toJSON(this.extras.sample) }, null, 2) + "\n",
    );
    try {
      const fh = await open(path.join(this.dir, MANIFEST), "wx", 0o600);
      try {
        await fh.writeFile(manifest);
      } finally {
        await fh.close();
      }
      await this.store.commit(this.dir, this.info, this.bytes + manifest.length);
    } catch (e) {
      await rm(this.dir, { recursive: true, force: true });
      throw e;
    }
    return this.info;
  }

  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await rm(this.dir, { recursive: true, force: true });
  }
}

async function readEntry(dir: string, id: string): Promise<Entry> {
  const manifestPath = path.join(dir, MANIFEST);
  const st = await stat(manifestPath);
  if (st.size > MAX_MANIFEST_BYTES) throw new Error(`${MANIFEST} is larger than ${MAX_MANIFEST_BYTES} bytes`);
  const info = CaptureInfo.fromJSON(JSON.parse(await readFile(manifestPath, "utf8")));
  if (info.id !== id) throw new Error(`${MANIFEST} names capture "${info.id}"`);
  let diskBytes = st.size;
  for (const f of info.files) {
    if (!FILE_NAME.test(f.name)) throw new Error(`${MANIFEST} names a file "${f.name}"`);
    diskBytes += f.bytes;
  }
  return { info, diskBytes };
}
