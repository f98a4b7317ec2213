import assert from "node:assert/strict";
import { readFileSync, realpathSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { AgentState, ScanProblemKind as K } from "../../proto/index.js";
import { FakeProcFs, inetTable, type FakeExe, type FakeMethod } from "./fake-proc-fs.testkit.js";
import {
  buildGoTestProgram,
  GO_TEST_MODULE,
  startGoTestProgram,
  type BuiltGoProgram,
  type RunningGoProgram,
} from "./go-test-program.testkit.js";
import { ProcessScanner } from "./process-scanner.js";
import { createProcFs, type ProcFs } from "./proc-fs.js";

const KTHREAD_FLAGS = 2129984;
const ALL_METHODS: FakeMethod[] = ["readStat", "readStatus", "readCmdline", "readEnviron", "readExeLink", "statExe", "openExe", "readFdLinks", "readNet", "readNetNamespace"];
const exe = (path: string, ino: number, bytes: Buffer): FakeExe => ({
  path,
  id: { dev: 2049, ino, size: bytes.length, mtimeMs: 1_700_000_000_000 },
  bytes,
});
const counts = (r: { problemCounts: { kind: K; count: number }[] }) =>
  Object.fromEntries(r.problemCounts.map((c) => [K[c.kind], c.count]));

let built: BuiltGoProgram;
let goBytes: Buffer;
before(async () => {
  built = await buildGoTestProgram();
  goBytes = readFileSync(built.binary);
});

function fakeHost(): FakeProcFs {
  const fs = new FakeProcFs();
  fs.passwd = "root:x:0:0:root:/root:/bin/bash\napp:x:1000:1000::/home/app:/bin/sh\n";
  const trueBin = exe("/usr/bin/true", 1, readFileSync("/bin/true"));
  const goBin = exe("/srv/gosvc", 2, goBytes);
  fs.add(1, { comm: "init", ppid: 0, exe: trueBin })
    .add(2, { comm: "kthreadd", ppid: 0, flags: KTHREAD_FLAGS })
    .add(10, { comm: "gosvc", uid: 1000, exe: goBin, starttime: 50_000, utime: 100, stime: 100, rssPages: 256 })
    .add(11, { comm: "gosvc", uid: 1000, exe: goBin })
    .add(12, { comm: "script", exe: exe("/tmp/script", 3, Buffer.from("#!/bin/sh\nexit 0\n")) })
    .add(13, { comm: "broken", exe: exe("/tmp/broken", 4, goBytes.subarray(0, 65536)) })
    .add(14, { comm: "secret", uid: 7, exe: exe("/opt/secret", 5, goBytes), errors: { statExe: "EACCES", openExe: "EACCES", readExeLink: "EACCES" } })
    .add(15, { comm: "gone", exe: goBin, errors: Object.fromEntries(ALL_METHODS.map((m) => [m, "ENOENT"])) })
    .add(16, { comm: "gosvc", exe: goBin, errors: { readStat: "ESRCH" } })
    .add(17, { comm: "zombie", state: "Z" })
    .add(18, { comm: "a-very-long-go-", exe: goBin, cmdline: ["/srv/a-very-long-go-program", "-flag"] });
  return fs;
}

describe("ProcessScanner (fake /proc)", () => {
  it("lists Go processes only, sorted by pid, with build info and row fields", () => {
    const fs = fakeHost();
    const r = new ProcessScanner(fs).scan({ all: false });
    assert.equal(r.scanned, 11);
    assert.deepEqual(r.processes.map((p) => p.pid), [10, 11, 18]);
    const p = r.processes[0]!;
    assert.equal(p.isGo, true);
    assert.equal(p.goVersion, built.goVersion);
    assert.equal(p.modulePath, GO_TEST_MODULE);
    assert.equal(p.moduleVersion, "(devel)");
    assert.equal(p.name, "gosvc");
    assert.equal(p.exe, "/srv/gosvc");
    assert.equal(p.uid, 1000);
    assert.equal(p.user, "app");
    assert.equal(p.ppid, 1);
    assert.equal(p.rssBytes, 256 * 4096);
    assert.equal(p.startTimeUnixMs, 1_700_000_500_000);
    assert.equal(p.cpuPercent, (2 / 500) * 100); // 2 s of CPU over the 500 s since it started
    assert.equal(p.agent?.state, AgentState.AGENT_STATE_NONE);
    assert.equal(r.processes[2]!.name, "a-very-long-go-program", "a 15-byte comm is completed from argv[0]");
  });

  it("counts every process it cannot classify and lists the ones worth a look", () => {
    const r = new ProcessScanner(fakeHost()).scan({ all: false });
    assert.deepEqual(counts(r), {
      SCAN_PROBLEM_KIND_KERNEL_THREAD: 1,
      SCAN_PROBLEM_KIND_PERMISSION_DENIED: 1,
      SCAN_PROBLEM_KIND_NOT_ELF: 1,
      SCAN_PROBLEM_KIND_NO_BUILD_INFO: 1,
      SCAN_PROBLEM_KIND_CORRUPT: 1,
      SCAN_PROBLEM_KIND_EXITED: 3,
    });
    assert.deepEqual(
      r.problems.map((p) => [p.pid, K[p.kind]]),
      [
        [12, "SCAN_PROBLEM_KIND_NOT_ELF"],
        [13, "SCAN_PROBLEM_KIND_CORRUPT"],
        [14, "SCAN_PROBLEM_KIND_PERMISSION_DENIED"],
      ],
    );
    assert.match(r.problems[2]!.detail, /EACCES/);
    const total = r.processes.length + r.problemCounts.reduce((n, c) => n + c.count, 0);
    assert.equal(total, r.scanned, "every /proc entry is either listed or counted");
  });

  it("with all=true lists every process it can read, isGo false for the rest", () => {
    const r = new ProcessScanner(fakeHost()).scan({ all: true });
    assert.deepEqual(
      r.processes.map((p) => [p.pid, p.isGo]),
      [
        [1, false],
        [2, false],
        [10, true],
        [11, true],
        [12, false],
        [13, false],
        [14, false],
        [17, false],
        [18, true],
      ],
    );
    const secret = r.processes.find((p) => p.pid === 14)!;
    assert.equal(secret.exe, "", "the executable of a process we may not inspect is unknown");
    assert.equal(secret.uid, 7);
    assert.equal(secret.user, "");
    assert.equal(r.processes.find((p) => p.pid === 1)!.agent, undefined, "no agent lookup for non-Go processes");
    assert.deepEqual(
      r.problems.map((p) => [p.pid, K[p.kind]]),
      [
        [1, "SCAN_PROBLEM_KIND_NO_BUILD_INFO"],
        [12, "SCAN_PROBLEM_KIND_NOT_ELF"],
        [13, "SCAN_PROBLEM_KIND_CORRUPT"],
        [14, "SCAN_PROBLEM_KIND_PERMISSION_DENIED"],
      ],
    );
    assert.equal(counts(r).SCAN_PROBLEM_KIND_EXITED, 3);
  });

  it("reads each binary once: a warm scan opens no executable at all", () => {
    const fs = fakeHost();
    const scanner = new ProcessScanner(fs);
    const opened = () => fs.listPids().reduce((n, pid) => n + fs.callCount("openExe", pid), 0);
    scanner.scan({ all: true });
    assert.equal(opened(), 4, "one open per distinct readable binary (true, go, script, broken)");
    const first = scanner.scan({ all: false });
    const second = scanner.scan({ all: true });
    assert.equal(opened(), 4);
    assert.deepEqual(first.processes.map((p) => p.pid), [10, 11, 18]);
    assert.equal(second.processes.filter((p) => p.isGo).length, 3);
  });

  it("re-reads a binary whose identity changed and forgets binaries no longer running", () => {
    const fs = fakeHost();
    const scanner = new ProcessScanner(fs, { maxIdleScans: 2 });
    scanner.scan({ all: false });
    assert.equal(scanner.cachedExecutables, 4);
    const p10 = fs.processes.get(10)!;
    p10.exe = { ...p10.exe!, id: { ...p10.exe!.id, mtimeMs: p10.exe!.id.mtimeMs + 1 } };
    scanner.scan({ all: false });
    assert.equal(fs.callCount("openExe", 10), 2);
    for (const pid of [1, 12, 13]) fs.processes.delete(pid);
    scanner.scan({ all: false });
    scanner.scan({ all: false });
    assert.equal(scanner.cachedExecutables, 2, "only the two Go binary identities still in use remain");
  });

  it("reads the socket tables once per network namespace per scan for the agent checks", () => {
    const fs = fakeHost();
    const tcp = inetTable("tcp", [
      { local: "0100007F:8A27", st: "0A", inode: 501 },
      { local: "0100007F:8A28", st: "0A", inode: 502 },
    ]);
    const withAgent = (pid: number, port: number, inode: number, netns?: number) => {
      const p = fs.processes.get(pid)!;
      p.environ = { HOME: "/home/app" };
      p.files = { [`/home/app/.config/gops/${pid}`]: String(port) };
      p.fds = [`socket:[${inode}]`];
      p.net = { tcp };
      p.netns = netns;
    };
    withAgent(10, 0x8a27, 501);
    withAgent(11, 0x8a28, 502);
    const r = new ProcessScanner(fs).scan({ all: false });
    assert.deepEqual(
      r.processes.map((p) => [p.pid, p.agent?.state, p.agent?.address]),
      [
        [10, AgentState.AGENT_STATE_LISTENING, "127.0.0.1:35367"],
        [11, AgentState.AGENT_STATE_LISTENING, "127.0.0.1:35368"],
        [18, AgentState.AGENT_STATE_NONE, ""],
      ],
    );
    assert.equal(fs.callCount("readNet", 10) + fs.callCount("readNet", 11), 1, "one tcp read for the shared namespace");
    fs.processes.get(11)!.netns = 4026532000;
    new ProcessScanner(fs).scan({ all: false });
    assert.equal(fs.callCount("readNet", 10) + fs.callCount("readNet", 11), 3, "another namespace has its own table");
  });

  it("an I/O error while reading a binary is reported, not cached", () => {
    const fs = fakeHost();
    const p = fs.processes.get(12)!;
    p.errors = { openExe: "EIO" };
    const scanner = new ProcessScanner(fs);
    const r = scanner.scan({ all: false });
    assert.deepEqual(
      r.problems.filter((x) => x.pid === 12).map((x) => K[x.kind]),
      ["SCAN_PROBLEM_KIND_IO_ERROR"],
    );
    p.errors = {};
    const again = scanner.scan({ all: false });
    assert.deepEqual(
      again.problems.filter((x) => x.pid === 12).map((x) => K[x.kind]),
      ["SCAN_PROBLEM_KIND_NOT_ELF"],
    );
  });
});

/** Wraps a ProcFs to count openExe calls. */
/** Counts the opens of `onlyPid`'s executable (other processes on the machine come and go while a scan runs). */
function countingOpens(inner: ProcFs, onlyPid?: number): { fs: ProcFs; opens: () => number } {
  let n = 0;
  const fs: ProcFs = Object.create(inner);
  fs.openExe = (pid) => {
    if (onlyPid === undefined || pid === onlyPid) n++;
    return inner.openExe(pid);
  };
  return { fs, opens: () => n };
}

describe("ProcessScanner (real /proc)", () => {
  let prog: RunningGoProgram;
  before(async () => {
    prog = await startGoTestProgram(built.binary);
  });
  after(() => prog?.stop());

  it("finds this node process as not Go", () => {
    const r = new ProcessScanner(createProcFs()).scan({ all: true });
    const me = r.processes.find((p) => p.pid === process.pid);
    assert.ok(me, "the test process is listed");
    assert.equal(me.isGo, false);
    assert.equal(me.name, "node");
    assert.equal(me.exe, realpathSync(process.execPath));
    assert.equal(me.uid, process.getuid!());
    assert.equal(me.ppid, process.ppid);
    assert.ok(me.rssBytes > 10 * 1024 * 1024, `rss ${me.rssBytes}`);
    assert.ok(Math.abs(me.startTimeUnixMs - (Date.now() - process.uptime() * 1000)) < 2000);
    assert.ok(r.problemCounts.every((c) => c.count > 0));
  });

  it("finds the Go program with its version and module, and a warm scan reads no binary", () => {
    const { fs, opens } = countingOpens(createProcFs(), prog.pid);
    const scanner = new ProcessScanner(fs);
    const r = scanner.scan({ all: false });
    const go = r.processes.find((p) => p.pid === prog.pid);
    assert.ok(go, `pid ${prog.pid} is listed as Go`);
    assert.equal(go.isGo, true);
    assert.equal(go.goVersion, built.goVersion);
    assert.equal(go.modulePath, GO_TEST_MODULE);
    assert.equal(go.name, "listener");
    assert.equal(go.agent?.state, AgentState.AGENT_STATE_NONE, "it wrote no port file");
    assert.ok(!r.processes.some((p) => p.pid === process.pid), "node is not Go");
    assert.ok(opens() > 0);
    const before = opens();
    const warm = scanner.scan({ all: false });
    assert.ok(warm.processes.some((p) => p.pid === prog.pid));
    assert.equal(opens() - before, 0, "its executable is not opened again on a warm scan");
  });
});
