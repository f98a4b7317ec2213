import { strict as assert } from "node:assert";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { parseInetTable } from "./parse-net.js";
import { createProcFs } from "./proc-fs.js";

const HEADER =
  "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode                                                     \n";

/** A /proc/net/tcp line as the kernel prints it (150 bytes with the padding), little-endian addresses. */
function tcpLine(sl: number, localPort: number, remotePort: number, state: number, inode: number): string {
  const hex = (v: number, w: number) => v.toString(16).toUpperCase().padStart(w, "0");
  const line =
    `${String(sl).padStart(4)}: 0100007F:${hex(localPort, 4)} 0100007F:${hex(remotePort, 4)} ${hex(state, 2)} ` +
    `00000000:00000000 00:00000000 00000000     0        0 ${inode} 1 0000000000000000 100 0 0 10 0`;
  return `${line.padEnd(149)}\n`;
}

/** A table of `count` sockets, mostly TIME_WAIT (inode 0) like a busy host, with one listener at line `at`. */
function bigTable(count: number, at: number, listenPort: number, listenInode: number): string {
  let text = HEADER;
  for (let i = 0; i < count; i++) {
    text += i === at ? tcpLine(i, listenPort, 0, 0x0a, listenInode) : tcpLine(i, 40000 + (i % 20000), 8080, 0x06, 0);
  }
  return text;
}

describe("createProcFs reads files larger than its first scratch buffer whole", () => {
  const root = mkdtempSync(join(tmpdir(), "gopsctl-procfs-"));
  after(() => rmSync(root, { recursive: true, force: true }));
  const pid = 4242;
  mkdirSync(join(root, String(pid), "net"), { recursive: true });

  it("readNet of a 17,000-socket table keeps the listener at line 721 (the first read grows the buffer)", () => {
    const table = bigTable(17_000, 720, 0x9c41, 987654);
    assert.ok(table.length > 2_000_000);
    writeFileSync(join(root, String(pid), "net", "tcp"), table);
    const fs = createProcFs(root); // a fresh reader: its scratch buffer starts small
    const text = fs.readNet(pid, "tcp");
    assert.equal(text.length, table.length);
    assert.equal(text, table);
    const sockets = parseInetTable(text, true);
    assert.equal(sockets.length, 17_000);
    const listeners = sockets.filter((s) => s.state === "LISTEN");
    assert.deepEqual(listeners, [
      { family: 4, localIp: "127.0.0.1", localPort: 0x9c41, remoteIp: "127.0.0.1", remotePort: 0, state: "LISTEN", inode: 987654 },
    ]);
    // A second, smaller read after the growth is exact too (no bytes of the big one left over).
    writeFileSync(join(root, String(pid), "net", "tcp6"), HEADER);
    assert.equal(fs.readNet(pid, "tcp6"), HEADER);
  });

  it('readNet "listening" stops at the first socket that is not listening (the kernel lists listeners first)', () => {
    // 600 listeners (~90 KB: several 16 KiB reads, lines cut across reads, the buffer grown), then connections.
    let listeners = HEADER;
    for (let i = 0; i < 600; i++) listeners += tcpLine(i, 20000 + i, 0, 0x0a, 5000 + i);
    const rest = bigTable(17_000, 16_000, 0x9c41, 987654); // a stray listener far behind: never read
    writeFileSync(join(root, String(pid), "net", "tcp"), listeners + rest.slice(HEADER.length));
    const fs = createProcFs(root);
    const text = fs.readNet(pid, "tcp", "listening");
    assert.equal(text, listeners);
    assert.equal(parseInetTable(text, true).length, 600);
    // A table of listeners only, and an empty one, come back whole.
    assert.equal(fs.readNet(pid, "tcp", undefined).length, listeners.length + rest.length - HEADER.length);
    writeFileSync(join(root, String(pid), "net", "tcp6"), listeners);
    assert.equal(fs.readNet(pid, "tcp6", "listening"), listeners);
    writeFileSync(join(root, String(pid), "net", "tcp6"), HEADER);
    assert.equal(fs.readNet(pid, "tcp6", "listening"), HEADER);
  });

  it("readCmdline and readStatus return every byte of a large file on the first read", () => {
    const cmdline = Buffer.alloc(300_000);
    for (let i = 0; i < cmdline.length; i++) cmdline[i] = i % 7 === 6 ? 0 : 97 + (i % 26);
    writeFileSync(join(root, String(pid), "cmdline"), cmdline);
    assert.ok(createProcFs(root).readCmdline(pid).equals(cmdline));

    const status = `Name:\tbig\n${"Groups:\t" + "1000 ".repeat(30_000)}\nUid:\t0\t0\t0\t0\n`;
    writeFileSync(join(root, String(pid), "status"), status);
    assert.equal(createProcFs(root).readStatus(pid), status);
  });

  it("after a large readCmdline, a small readEnviron returns exactly its own bytes", () => {
    const fs = createProcFs(root);
    writeFileSync(join(root, String(pid), "environ"), Buffer.from("A=1\0B=2\0"));
    writeFileSync(join(root, String(pid), "cmdline"), Buffer.alloc(200_000, 120));
    assert.equal(fs.readCmdline(pid).length, 200_000);
    assert.deepEqual(fs.readEnviron(pid), Buffer.from("A=1\0B=2\0"));
  });

  it("keeps no big buffer once a later read is made (a daemon would hold its largest file for life)", async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    setFlagsFromString("--no-expose-gc");
    const fs = createProcFs(root);
    writeFileSync(join(root, String(pid), "net", "tcp"), bigTable(40_000, 1, 0x9c41, 1)); // 6 MB: a 8 MiB buffer
    writeFileSync(join(root, String(pid), "net", "tcp6"), HEADER);
    gc();
    const before = process.memoryUsage().arrayBuffers;
    assert.equal(fs.readNet(pid, "tcp").length, 150 * 40_001);
    assert.equal(fs.readNet(pid, "tcp6"), HEADER);
    // V8 may free a dead buffer's memory after the collection returns (on a background thread): collect and look
    // again a few times. A buffer still referenced is never freed, however long this waits.
    let held = Infinity;
    for (let attempt = 0; attempt < 20 && held >= 2 ** 20; attempt++) {
      gc();
      await new Promise((resolve) => setTimeout(resolve, 10));
      held = process.memoryUsage().arrayBuffers - before;
    }
    assert.ok(held < 2 ** 20, `${held} bytes of buffers still held after the big read`);
  });
});
