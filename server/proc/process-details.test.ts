import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { Status } from "nice-grpc-common";
import { AgentState } from "../../proto/index.js";
import { GopsError } from "../../common/errors.js";
import { FakeProcFs, inetTable, type FakeExe } from "./fake-proc-fs.testkit.js";
import {
  buildGoTestProgram,
  GO_TEST_MODULE,
  GO_TEST_PACKAGE,
  startGoTestProgram,
  type BuiltGoProgram,
  type RunningGoProgram,
} from "./go-test-program.testkit.js";
import { getBuildInfo, getProcessDetails } from "./process-details.js";
import { createProcFs } from "./proc-fs.js";

const hasCode = (code: Status) => (e: unknown) => e instanceof GopsError && e.code === code;

let built: BuiltGoProgram;
let goExe: FakeExe;
before(async () => {
  built = await buildGoTestProgram();
  const bytes = readFileSync(built.binary);
  goExe = { path: "/srv/gosvc (deleted)", id: { dev: 1, ino: 2, size: bytes.length, mtimeMs: 3 }, bytes };
});

function fake(): FakeProcFs {
  const fs = new FakeProcFs();
  fs.add(40, {
    comm: "gosvc",
    threads: 7,
    starttime: 10_000, // 100 s after boot; uptime is 1000 s
    cmdline: ["/srv/gosvc", "-listen", ":8080"],
    exe: goExe,
    fds: ["/dev/null", "socket:[100]", "socket:[101]", "socket:[102]", "socket:[103]", "socket:[999]", "pipe:[5]"],
    net: {
      tcp: inetTable("tcp", [
        { local: "0100007F:1F90", st: "0A", inode: 100 },
        { local: "0100007F:1F91", st: "0A", inode: 200 }, // another process's socket
      ]),
      tcp6: inetTable("tcp6", [
        {
          local: "00000000000000000000000001000000:1F90",
          remote: "00000000000000000000000001000000:C350",
          st: "01",
          inode: 101,
        },
      ]),
      udp: inetTable("udp", [{ local: "00000000:0035", st: "07", inode: 102 }]),
      unix: "Num       RefCount Protocol Flags    Type St Inode Path\n0000000034b7299c: 00000002 00000000 00010000 0001 01   103 /run/gosvc.sock\n",
    },
  });
  fs.add(2, { comm: "kthreadd", ppid: 0, flags: 2129984 });
  fs.add(50, { comm: "sh", exe: { ...goExe, path: "/bin/sh", bytes: Buffer.from("#!/not/elf") } });
  return fs;
}

describe("getProcessDetails (fake /proc)", () => {
  it("rejects impossible pids and sample periods", async () => {
    for (const pid of [0, -1, 4_194_305, 1.5]) {
      await assert.rejects(getProcessDetails(fake(), pid), hasCode(Status.INVALID_ARGUMENT), `pid ${pid}`);
    }
    await assert.rejects(getProcessDetails(fake(), 40, { cpuSampleMs: 60_001 }), hasCode(Status.INVALID_ARGUMENT));
  });

  it("maps a missing process to NOT_FOUND and unreadable fds to gopsd's own OS_PERMISSION (FAILED_PRECONDITION, not the caller's PERMISSION_DENIED)", async () => {
    await assert.rejects(getProcessDetails(fake(), 41), (e) => hasCode(Status.NOT_FOUND)(e) && (e as GopsError).reason === "PROCESS_NOT_FOUND" && (e as GopsError).metadata.pid === "41");
    const fs = fake();
    fs.processes.get(40)!.errors = { readFdLinks: "EACCES" };
    await assert.rejects(
      getProcessDetails(fs, 40),
      (e) =>
        hasCode(Status.FAILED_PRECONDITION)(e) &&
        (e as GopsError).reason === "OS_PERMISSION" &&
        (e as GopsError).metadata.pid === "40" &&
        /open sockets of pid 40/.test((e as Error).message),
    );
  });

  it("shows the gops view of a Go process: threads, cmdline, elapsed, sockets, build info", async () => {
    const d = await getProcessDetails(fake(), 40);
    assert.equal(d.threads, 7);
    assert.deepEqual(d.cmdline, ["/srv/gosvc", "-listen", ":8080"]);
    assert.equal(d.elapsedSeconds, 900);
    assert.equal(d.hasSampledCpu, false);
    assert.equal(d.process?.isGo, true);
    assert.equal(d.process?.exe, "/srv/gosvc (deleted)");
    assert.equal(d.process?.agent?.state, AgentState.AGENT_STATE_NONE);
    assert.deepEqual(d.connections, [
      { type: "tcp", localAddress: "127.0.0.1:8080", remoteAddress: ":0", state: "LISTEN" },
      { type: "tcp6", localAddress: "[::1]:8080", remoteAddress: "[::1]:50000", state: "ESTABLISHED" },
      { type: "udp", localAddress: "0.0.0.0:53", remoteAddress: ":0", state: "" },
      { type: "unix", localAddress: "/run/gosvc.sock", remoteAddress: "", state: "LISTEN" },
    ]);
    assert.equal(d.buildInfo?.goVersion, built.goVersion);
    assert.equal(d.buildInfo?.path, GO_TEST_PACKAGE);
    assert.deepEqual(d.buildInfo?.main, { path: GO_TEST_MODULE, version: "(devel)", sum: "", replace: undefined });
    assert.ok(d.buildInfo?.settings.some((s) => s.key === "-compiler" && s.value === "gc"));
  });

  it("works for processes that are not Go, including kernel threads", async () => {
    const sh = await getProcessDetails(fake(), 50);
    assert.equal(sh.process?.isGo, false);
    assert.equal(sh.buildInfo, undefined);
    assert.equal(sh.process?.agent, undefined);
    const k = await getProcessDetails(fake(), 2);
    assert.equal(k.process?.exe, "");
    assert.equal(k.process?.name, "kthreadd");
    assert.deepEqual(k.connections, []);
  });

  it("samples CPU over the requested period", async () => {
    const fs = fake();
    const p = fs.processes.get(40)!;
    const timer = setTimeout(() => (p.utime = (p.utime ?? 0) + 5), 20); // 50 ms of CPU during the sample
    const d = await getProcessDetails(fs, 40, { cpuSampleMs: 100 });
    clearTimeout(timer);
    assert.equal(d.hasSampledCpu, true);
    assert.equal(d.cpuSampleMs, 100);
    // 50 ms of CPU over the measured wall time: ~100 ms, which Node's timers can make up to 1 ms shorter.
    assert.ok(d.sampledCpuPercent > 30 && d.sampledCpuPercent <= 50 * (100 / 99), `sampled ${d.sampledCpuPercent}`);
  });

  it("stops sampling when the caller aborts, and notices a reused pid", async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 20);
    const t0 = Date.now();
    await assert.rejects(getProcessDetails(fake(), 40, { cpuSampleMs: 10_000, signal: ac.signal }), hasCode(Status.CANCELLED));
    assert.ok(Date.now() - t0 < 2000);
    const fs = fake();
    setTimeout(() => (fs.processes.get(40)!.starttime = 99_999), 10);
    await assert.rejects(getProcessDetails(fs, 40, { cpuSampleMs: 50 }), hasCode(Status.NOT_FOUND));
  });
});

describe("getBuildInfo (fake /proc)", () => {
  it("returns the build info of a Go process and FAILED_PRECONDITION otherwise", () => {
    const r = getBuildInfo(fake(), 40);
    assert.equal(r.pid, 40);
    assert.equal(r.exe, "/srv/gosvc (deleted)");
    assert.equal(r.buildInfo?.goVersion, built.goVersion);
    assert.throws(() => getBuildInfo(fake(), 50), (e) => hasCode(Status.FAILED_PRECONDITION)(e) && /not an ELF/.test((e as Error).message));
    assert.throws(() => getBuildInfo(fake(), 2), (e) => hasCode(Status.FAILED_PRECONDITION)(e) && /no executable/.test((e as Error).message));
    assert.throws(() => getBuildInfo(fake(), 41), hasCode(Status.NOT_FOUND));
    assert.throws(() => getBuildInfo(fake(), 0), hasCode(Status.INVALID_ARGUMENT));
  });
});

describe("getProcessDetails (real /proc)", () => {
  let prog: RunningGoProgram;
  before(async () => {
    prog = await startGoTestProgram(built.binary);
  });
  after(() => prog?.stop());

  it("shows the Go program's listening socket and build info", async () => {
    const d = await getProcessDetails(createProcFs(), prog.pid, { cpuSampleMs: 50 });
    assert.equal(d.process?.pid, prog.pid);
    assert.equal(d.process?.isGo, true);
    assert.equal(d.process?.goVersion, built.goVersion);
    assert.deepEqual(d.cmdline, [built.binary]);
    assert.ok(d.threads >= 2, `threads ${d.threads}`);
    assert.ok(d.elapsedSeconds >= 0 && d.elapsedSeconds < 120);
    assert.equal(d.hasSampledCpu, true);
    assert.ok(d.sampledCpuPercent >= 0);
    assert.deepEqual(
      d.connections.filter((c) => c.type === "tcp"),
      [{ type: "tcp", localAddress: `127.0.0.1:${prog.port}`, remoteAddress: ":0", state: "LISTEN" }],
    );
    assert.equal(d.buildInfo?.main?.path, GO_TEST_MODULE);
    const bi = getBuildInfo(createProcFs(), prog.pid);
    assert.equal(bi.exe, built.binary);
    assert.equal(bi.buildInfo?.goVersion, built.goVersion);
  });

  it("works for this node process, which is not Go", async () => {
    const d = await getProcessDetails(createProcFs(), process.pid);
    assert.equal(d.process?.isGo, false);
    assert.equal(d.buildInfo, undefined);
    assert.ok(d.cmdline.length >= 1);
    assert.throws(() => getBuildInfo(createProcFs(), process.pid), hasCode(Status.FAILED_PRECONDITION));
  });
});
