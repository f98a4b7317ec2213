import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { portNobodyListensOn } from "../../integration/ports.js";
import { AgentState } from "../../proto/index.js";
import { FakeProcFs, inetTable, type FakeProcess } from "../proc/fake-proc-fs.testkit.js";
import { buildGoTestProgram, startGoTestProgram, type BuiltGoProgram } from "../proc/go-test-program.testkit.js";
import { createProcFs } from "../proc/proc-fs.js";
import { AgentLocator, PORT_FILE_RECHECK_MS, dialAddress, locateAgent } from "./port-file.js";

const PID = 4242;
const PORT = 35367; // 0x8A27
const LISTEN_V4 = inetTable("tcp", [{ local: "0100007F:8A27", st: "0A", inode: 777 }]);

function fakeWith(p: Partial<FakeProcess>): FakeProcFs {
  return new FakeProcFs().add(PID, {
    comm: "gosvc",
    uid: 1000,
    fds: ["/dev/null", "socket:[777]"],
    net: { tcp: LISTEN_V4 },
    ...p,
  });
}
const state = (s: AgentState) => AgentState[s];

describe("locateAgent (fake /proc)", () => {
  it("NONE when no candidate directory has a port file", () => {
    const a = locateAgent(fakeWith({ environ: { HOME: "/home/app" } }), PID);
    assert.equal(state(a.state), "AGENT_STATE_NONE");
    assert.equal(a.portFile, "");
  });

  it("GOPS_CONFIG_DIR is used verbatim (nothing appended) and wins over the others", () => {
    const fs = fakeWith({
      environ: { GOPS_CONFIG_DIR: "/etc/gops-here", HOME: "/home/app" },
      files: { [`/etc/gops-here/${PID}`]: String(PORT), [`/home/app/.config/gops/${PID}`]: "1" },
    });
    assert.deepEqual(locateAgent(fs, PID), {
      state: AgentState.AGENT_STATE_LISTENING,
      portFile: `/fakeproc/${PID}/root/etc/gops-here/${PID}`,
      address: `127.0.0.1:${PORT}`,
      port: PORT,
      detail: "",
    });
  });

  it("a relative GOPS_CONFIG_DIR is resolved against the process's cwd", () => {
    const fs = fakeWith({ environ: { GOPS_CONFIG_DIR: "state/gops" }, cwd: "/app", files: { [`/app/state/gops/${PID}`]: `${PORT}\n` } });
    const a = locateAgent(fs, PID);
    assert.equal(state(a.state), "AGENT_STATE_LISTENING");
    assert.equal(a.portFile, `/fakeproc/${PID}/cwd/state/gops/${PID}`);
  });

  it("finds $XDG_CONFIG_HOME/gops, then $HOME/.config/gops", () => {
    const xdg = fakeWith({
      environ: { XDG_CONFIG_HOME: "/xdg", HOME: "/home/app" },
      files: { [`/xdg/gops/${PID}`]: String(PORT), [`/home/app/.config/gops/${PID}`]: "1" },
    });
    assert.equal(locateAgent(xdg, PID).portFile, `/fakeproc/${PID}/root/xdg/gops/${PID}`);
    const home = fakeWith({ environ: { XDG_CONFIG_HOME: "/xdg", HOME: "/home/app" }, files: { [`/home/app/.config/gops/${PID}`]: String(PORT) } });
    const a = locateAgent(home, PID);
    assert.equal(state(a.state), "AGENT_STATE_LISTENING");
    assert.equal(a.portFile, `/fakeproc/${PID}/root/home/app/.config/gops/${PID}`);
  });

  it("falls back to the home of the process's uid in ITS /etc/passwd when HOME is unset", () => {
    const fs = fakeWith({
      environ: { PATH: "/bin" },
      files: {
        "/etc/passwd": "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/srv/app:/bin/sh\n",
        [`/srv/app/.config/gops/${PID}`]: String(PORT),
      },
    });
    const a = locateAgent(fs, PID);
    assert.equal(state(a.state), "AGENT_STATE_LISTENING");
    assert.equal(a.portFile, `/fakeproc/${PID}/root/srv/app/.config/gops/${PID}`);
  });

  it("finds the v0.3.9 layout without the gops suffix", () => {
    const fs = fakeWith({ environ: { HOME: "/home/app" }, files: { [`/home/app/.config/${PID}`]: String(PORT) } });
    assert.equal(locateAgent(fs, PID).portFile, `/fakeproc/${PID}/root/home/app/.config/${PID}`);
  });

  it("names the file with the innermost NSpid for a process in a pid namespace", () => {
    const fs = fakeWith({ nspid: [PID, 1], environ: { HOME: "/root" }, files: { "/root/.config/gops/1": String(PORT) } });
    const a = locateAgent(fs, PID);
    assert.equal(state(a.state), "AGENT_STATE_LISTENING");
    assert.equal(a.portFile, `/fakeproc/${PID}/root/root/.config/gops/1`);
  });

  it("STALE when nothing listens on the port", () => {
    const fs = fakeWith({ environ: { HOME: "/h" }, files: { [`/h/.config/gops/${PID}`]: "35368" } });
    const a = locateAgent(fs, PID);
    assert.equal(state(a.state), "AGENT_STATE_STALE");
    assert.equal(a.port, 35368);
    assert.equal(a.address, "");
    assert.match(a.detail, /nothing listens on TCP port 35368/);
  });

  it("SPOOFED when another process owns the listening socket", () => {
    const fs = fakeWith({ environ: { HOME: "/h" }, files: { [`/h/.config/gops/${PID}`]: String(PORT) }, fds: ["socket:[778]"] });
    const a = locateAgent(fs, PID);
    assert.equal(state(a.state), "AGENT_STATE_SPOOFED");
    assert.equal(a.address, "", "a spoofed port is never offered for dialling");
    assert.match(a.detail, /another process.*777/);
  });

  it("INVALID when the file does not hold a port in 1..65535", () => {
    for (const content of ["", "abc", "0", "65536", "-1", "80 81", "1e3", "x".repeat(100)]) {
      const fs = fakeWith({ environ: { HOME: "/h" }, files: { [`/h/.config/gops/${PID}`]: content } });
      const a = locateAgent(fs, PID);
      assert.equal(state(a.state), "AGENT_STATE_INVALID", JSON.stringify(content));
      assert.equal(a.portFile, `/fakeproc/${PID}/root/h/.config/gops/${PID}`);
      if (content.length > 3) assert.ok(!a.detail.includes(content), "the file's content is never echoed");
    }
    const dir = fakeWith({ environ: { HOME: "/h" }, files: { [`/h/.config/gops/${PID}`]: { errno: "EISDIR" } } });
    assert.equal(state(locateAgent(dir, PID).state), "AGENT_STATE_INVALID");
  });

  it("INVALID 'not a regular file' for a FIFO or device, the limit for a long file; never a size", () => {
    for (const [errno, want] of [["ENOTREG", /port file is not a regular file/], ["EFBIG", /longer than 64 bytes/], ["ELOOP", /symbolic links/]] as const) {
      const fs = fakeWith({ environ: { HOME: "/h" }, files: { [`/h/.config/gops/${PID}`]: { errno } } });
      const a = locateAgent(fs, PID);
      assert.equal(state(a.state), "AGENT_STATE_INVALID", errno);
      assert.match(a.detail, want);
    }
    const odd = locateAgent(fakeWith({ environ: { HOME: "/h" }, files: { [`/h/.config/gops/${PID}`]: "not a port" } }), PID);
    assert.doesNotMatch(odd.detail, /\d+ bytes/, "the size of a bad port file is not echoed");
  });

  it("a detail that quotes a hostile path has its controls escaped; the portFile field stays exact", () => {
    const home = "/h\x1b]0;pwned\x07\r\u202e";
    const fs = fakeWith({ environ: { HOME: home }, files: { [`${home}/.config/gops/${PID}`]: { errno: "EISDIR" } } });
    const a = locateAgent(fs, PID);
    assert.equal(state(a.state), "AGENT_STATE_INVALID");
    assert.equal(a.portFile, `/fakeproc/${PID}/root${home}/.config/gops/${PID}`);
    assert.match(a.detail, /\/h\\e\]0;pwned\\x07\\r\\u202e\/\.config/);
    assert.doesNotMatch(a.detail, /[\x00-\x1f\x7f-\x9f\u202e]/);
  });

  it("UNKNOWN when the fds or the environment cannot be read", () => {
    const noFds = fakeWith({ environ: { HOME: "/h" }, files: { [`/h/.config/gops/${PID}`]: String(PORT) }, errors: { readFdLinks: "EACCES" } });
    const a = locateAgent(noFds, PID);
    assert.equal(state(a.state), "AGENT_STATE_UNKNOWN");
    assert.equal(a.port, PORT);
    assert.match(a.detail, /permission denied/);
    const noEnv = locateAgent(fakeWith({ errors: { readEnviron: "EACCES" } }), PID);
    assert.equal(state(noEnv.state), "AGENT_STATE_UNKNOWN");
    assert.match(noEnv.detail, /environment.*permission denied/);
    assert.equal(state(locateAgent(new FakeProcFs(), 1).state), "AGENT_STATE_UNKNOWN", "a vanished process");
  });

  it("skips an unreadable candidate for a readable one, and reports it when it is the only one", () => {
    const files = { [`/g/${PID}`]: { errno: "EACCES" }, [`/h/.config/gops/${PID}`]: String(PORT) };
    const both = fakeWith({ environ: { GOPS_CONFIG_DIR: "/g", HOME: "/h" }, files });
    assert.equal(state(locateAgent(both, PID).state), "AGENT_STATE_LISTENING");
    const only = fakeWith({ environ: { GOPS_CONFIG_DIR: "/g" }, files });
    const a = locateAgent(only, PID);
    assert.equal(state(a.state), "AGENT_STATE_UNKNOWN");
    assert.equal(a.portFile, `/fakeproc/${PID}/root/g/${PID}`);
  });

  it("dials [::1] when the agent listens on ::1 only, 127.0.0.1 for 0.0.0.0", () => {
    const v6 = fakeWith({
      environ: { HOME: "/h" },
      files: { [`/h/.config/gops/${PID}`]: String(PORT) },
      net: { tcp6: inetTable("tcp6", [{ local: "00000000000000000000000001000000:8A27", st: "0A", inode: 777 }]) },
    });
    assert.equal(locateAgent(v6, PID).address, `[::1]:${PORT}`);
    const any = fakeWith({
      environ: { HOME: "/h" },
      files: { [`/h/.config/gops/${PID}`]: String(PORT) },
      net: { tcp: inetTable("tcp", [{ local: "00000000:8A27", st: "0A", inode: 777 }]) },
    });
    assert.equal(locateAgent(any, PID).address, `127.0.0.1:${PORT}`);
  });

  it("does not read tcp6 when an owned IPv4 loopback listener was found in tcp", () => {
    const files = { [`/h/.config/gops/${PID}`]: String(PORT) };
    const v4 = fakeWith({ environ: { HOME: "/h" }, files });
    locateAgent(v4, PID);
    assert.equal(v4.callCount("readNet", PID), 1);
    const spoofed = fakeWith({ environ: { HOME: "/h" }, files, fds: [] });
    assert.equal(state(locateAgent(spoofed, PID).state), "AGENT_STATE_SPOOFED");
    assert.equal(spoofed.callCount("readNet", PID), 2, "an unowned listener does not end the search");
  });
});

describe("dialAddress", () => {
  const sock = (family: 4 | 6, localIp: string) => ({ family, localIp, localPort: 1, remoteIp: "", remotePort: 0, state: "LISTEN", inode: 1 });
  it("prefers IPv4 loopback, then IPv6 loopback; a wildcard is dialled on loopback", () => {
    assert.equal(dialAddress([sock(6, "::1"), sock(4, "0.0.0.0")], 80), "127.0.0.1:80");
    assert.equal(dialAddress([sock(6, "::")], 80), "[::1]:80");
    assert.equal(dialAddress([sock(6, "::ffff:127.0.0.1")], 80), "127.0.0.1:80");
    assert.equal(dialAddress([sock(6, "::ffff:0.0.0.0")], 80), "127.0.0.1:80");
    assert.equal(dialAddress([sock(4, "10.1.2.3"), sock(4, "127.9.9.9")], 80), "127.9.9.9:80");
  });
  it("never an address off loopback (issue 17 item 1)", () => {
    assert.equal(dialAddress([sock(4, "10.1.2.3")], 80), undefined);
    assert.equal(dialAddress([sock(6, "fd00::5"), sock(4, "10.1.2.3")], 80), undefined);
    assert.equal(dialAddress([sock(6, "::ffff:10.99.0.2")], 80), undefined);
    assert.equal(dialAddress([sock(6, "fe80::1")], 80), undefined);
  });
});

describe("locateAgent: an agent listening off loopback", () => {
  it("is OFF_LOOPBACK with the address in the detail, no dial address, and is not remembered as verified", () => {
    // 10.99.0.2:35367 (0x0263630A little-endian in /proc/net/tcp), owned by the process.
    const fs = fakeWith({
      environ: { HOME: "/h" },
      files: { [`/h/.config/gops/${PID}`]: String(PORT) },
      net: { tcp: inetTable("tcp", [{ local: "0200630A:8A27", st: "0A", inode: 777 }]) },
    });
    const a = locateAgent(fs, PID);
    assert.equal(state(a.state), "AGENT_STATE_OFF_LOOPBACK");
    assert.equal(a.address, "");
    assert.equal(a.port, PORT);
    assert.match(a.detail, /listens on 10\.99\.0\.2:35367, not on loopback/);
    const locator = new AgentLocator(fs, 16, "net:[1]");
    assert.equal(state(locator.locate(PID).state), "AGENT_STATE_OFF_LOOPBACK");
    assert.equal(locator.verifiedStart(PID), undefined);
  });
});

describe("locateAgent (real /proc)", () => {
  let built: BuiltGoProgram;
  let dir: string;
  const children: ChildProcess[] = [];
  before(async () => {
    built = await buildGoTestProgram();
    dir = await mkdtemp(join(tmpdir(), "gops-port-file-test-"));
  });
  after(async () => {
    for (const c of children) c.kill("SIGKILL");
    await rm(dir, { recursive: true, force: true });
  });

  const sleeper = (env: Record<string, string>, cwd = dir): number => {
    const c = spawn("sleep", ["600"], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env }, cwd, stdio: "ignore" });
    children.push(c);
    return c.pid!;
  };

  it("LISTENING for a Go program that wrote its port file into GOPS_CONFIG_DIR", async () => {
    const cfg = join(dir, "cfg");
    const prog = await startGoTestProgram(built.binary, { GOPS_CONFIG_DIR: cfg });
    try {
      assert.deepEqual(locateAgent(createProcFs(), prog.pid), {
        state: AgentState.AGENT_STATE_LISTENING,
        portFile: `/proc/${prog.pid}/root${cfg}/${prog.pid}`,
        address: `127.0.0.1:${prog.port}`,
        port: prog.port,
        detail: "",
      });
    } finally {
      await prog.stop();
    }
  });

  it("SPOOFED and STALE for port files of a process that does not own the port", async () => {
    const prog = await startGoTestProgram(built.binary);
    const home = join(dir, "home");
    try {
      const pid = sleeper({ HOME: home });
      await mkdir(join(home, ".config", "gops"), { recursive: true });
      await writeFile(join(home, ".config", "gops", String(pid)), String(prog.port));
      const spoofed = locateAgent(createProcFs(), pid);
      assert.equal(state(spoofed.state), "AGENT_STATE_SPOOFED", spoofed.detail);
      assert.equal(spoofed.portFile, `/proc/${pid}/root${home}/.config/gops/${pid}`);

      // A port nothing listens on: below 1024 (no ephemeral port; only root binds there) and not listening now.
      // Not a just-closed ephemeral port: another process on the machine may be given it a moment later.
      const closed = await portNobodyListensOn();
      await writeFile(join(home, ".config", "gops", String(pid)), `${closed}\n`);
      assert.equal(state(locateAgent(createProcFs(), pid).state), "AGENT_STATE_STALE");
    } finally {
      await prog.stop();
    }
  });

  it("INVALID content in a relative GOPS_CONFIG_DIR, found through /proc/PID/cwd", async () => {
    const pid = sleeper({ GOPS_CONFIG_DIR: "rel/gops" });
    await mkdir(join(dir, "rel", "gops"), { recursive: true });
    await writeFile(join(dir, "rel", "gops", String(pid)), "not-a-port");
    const a = locateAgent(createProcFs(), pid);
    assert.equal(state(a.state), "AGENT_STATE_INVALID");
    assert.equal(a.portFile, `/proc/${pid}/cwd/rel/gops/${pid}`);
  });
});

describe("AgentLocator (verified agents remembered by socket inode)", () => {
  const setup = () => {
    const fs = fakeWith({ environ: { GOPS_CONFIG_DIR: "/g" }, starttime: 500, files: { [`/g/${PID}`]: String(PORT) } });
    const clock = { ms: 0 };
    const locator = new AgentLocator(fs, 4096, undefined, () => clock.ms);
    assert.equal(state(locator.locate(PID).state), "AGENT_STATE_LISTENING");
    assert.equal(fs.callCount("readNet", PID), 1);
    let portFileReads = 0;
    const read = fs.readFileUnder.bind(fs);
    fs.readFileUnder = (...args) => (portFileReads++, read(...args));
    return { fs, locator, proc: fs.processes.get(PID)!, clock, portFileReads: () => portFileReads };
  };

  it("a second lookup of the same agent reads no socket table and one descriptor, not the fd table", () => {
    const { fs, locator } = setup();
    const again = locator.locate(PID);
    assert.equal(state(again.state), "AGENT_STATE_LISTENING");
    assert.equal(again.address, `127.0.0.1:${PORT}`);
    assert.equal(fs.callCount("readNet", PID), 1);
    assert.equal(fs.callCount("readFdEntries", PID), 1, "the fd table was listed only by the first lookup");
    assert.equal(fs.callCount("readFdLink", PID), 1);
  });

  it("re-verifies when the descriptor now holds another socket", () => {
    const { fs, locator, proc } = setup();
    proc.fds = ["/dev/null", "socket:[999]"];
    assert.equal(state(locator.locate(PID).state), "AGENT_STATE_SPOOFED");
    assert.equal(fs.callCount("readFdEntries", PID), 2);
  });

  it("re-verifies when the socket is no longer among the process's files", () => {
    const { fs, locator, proc } = setup();
    proc.fds = ["/dev/null"];
    const a = locator.locate(PID);
    assert.equal(state(a.state), "AGENT_STATE_SPOOFED");
    assert.ok(fs.callCount("readNet", PID) > 1, "socket tables read again");
  });

  it("re-verifies when the port file changed, once it is read again", () => {
    const { fs, locator, proc, clock } = setup();
    proc.files = { [`/g/${PID}`]: "1" };
    clock.ms += PORT_FILE_RECHECK_MS;
    assert.equal(state(locator.locate(PID).state), "AGENT_STATE_STALE");
    assert.ok(fs.callCount("readNet", PID) > 1, "socket tables read again");
  });

  it("reads the port file again only every PORT_FILE_RECHECK_MS; start time and socket on every lookup", () => {
    const { fs, locator, proc, clock, portFileReads } = setup();
    for (let i = 0; i < 5; i++) assert.equal(state(locator.locate(PID).state), "AGENT_STATE_LISTENING");
    assert.equal(portFileReads(), 0);
    assert.equal(fs.callCount("readFdLink", PID), 5);
    clock.ms += PORT_FILE_RECHECK_MS;
    locator.locate(PID);
    locator.locate(PID);
    assert.equal(portFileReads(), 1, "read once when the window ended, then trusted again");
    // Within the window a changed port file is not seen, but a socket that is gone is, at once.
    proc.files = { [`/g/${PID}`]: "1" };
    assert.equal(state(locator.locate(PID).state), "AGENT_STATE_LISTENING");
    proc.fds = ["/dev/null"];
    assert.equal(state(locator.locate(PID).state), "AGENT_STATE_STALE");
  });

  it("re-verifies when the pid now names another process (start time differs)", () => {
    const { fs, locator, proc } = setup();
    proc.starttime = 900;
    assert.equal(state(locator.locate(PID).state), "AGENT_STATE_LISTENING");
    assert.equal(fs.callCount("readNet", PID), 2);
  });
});

describe("AgentLocator across network namespaces", () => {
  const HOST_NETNS = "net:[4026531840]";
  const fsWith = (netns?: number) =>
    fakeWith({ environ: { GOPS_CONFIG_DIR: "/g" }, files: { [`/g/${PID}`]: String(PORT) }, ...(netns ? { netns } : {}) });

  it("dials an agent in the caller's own network namespace", () => {
    const a = new AgentLocator(fsWith(), 16, HOST_NETNS).locate(PID);
    assert.equal(state(a.state), "AGENT_STATE_LISTENING");
  });

  it("names the namespace of an agent verified in another one: its address means something only there", () => {
    const own = new AgentLocator(fsWith(), 16, HOST_NETNS).locate(PID);
    assert.equal(own.networkNamespace, undefined, "the caller's own namespace is not named");
    const locator = new AgentLocator(fsWith(4026532999), 16, HOST_NETNS);
    for (let i = 0; i < 2; i++) {
      const a = locator.locate(PID);
      assert.equal(state(a.state), "AGENT_STATE_LISTENING");
      assert.equal(a.address, `127.0.0.1:${PORT}`);
      assert.equal(a.networkNamespace, "net:[4026532999]");
    }
  });

  it("UNKNOWN when the namespace of a listening agent cannot be read (it could not be dialled safely)", () => {
    const fs = fsWith(4026532999);
    fs.processes.get(PID)!.errors = { readNetNamespace: "EACCES" };
    const a = new AgentLocator(fs, 16, HOST_NETNS).locate(PID);
    assert.equal(state(a.state), "AGENT_STATE_UNKNOWN");
    assert.equal(a.address, "");
    assert.match(a.detail, /network namespace of pid \d+ cannot be read/);
  });
});
