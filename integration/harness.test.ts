// Proves the Go fixtures speak the gops agent protocol as docs/agent-protocol.md describes, using raw
// node:net sockets only (never the project's own client), and that the harness helpers work.
import assert from "node:assert/strict";
import { once } from "node:events";
import { readFile, rm, stat, writeFile } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { gunzipSync } from "node:zlib";
import {
  buildFixtures,
  deadPid,
  runCli,
  startFixture,
  startGopsd,
  writeStalePortFile,
  type Fixture,
  type FixtureOptions,
} from "./harness.js";

interface RawReply {
  data: Buffer;
  /** The agent closed its side (FIN) before we gave up. */
  eof: boolean;
  error?: NodeJS.ErrnoException;
  ms: number;
}

/** Connects to 127.0.0.1:port, writes `request` at once, and reads until the peer closes or `waitMs` passes. */
function rawRequest(port: number, request: number[], waitMs: number, halfClose = false): Promise<RawReply> {
  return new Promise((resolve) => {
    const started = Date.now();
    const chunks: Buffer[] = [];
    let eof = false;
    let error: NodeJS.ErrnoException | undefined;
    const socket = net.connect(port, "127.0.0.1", () => {
      socket.write(Buffer.from(request));
      if (halfClose) socket.end();
    });
    const timer = setTimeout(() => socket.destroy(), waitMs);
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("end", () => {
      eof = true;
    });
    socket.on("error", (err: NodeJS.ErrnoException) => {
      error = err;
    });
    socket.on("close", () => {
      clearTimeout(timer);
      resolve({ data: Buffer.concat(chunks), eof, ...(error ? { error } : {}), ms: Date.now() - started });
    });
  });
}

const fixtures: Fixture[] = [];
async function fixture(kind: "agentprog" | "plain", opts: FixtureOptions = {}): Promise<Fixture> {
  const started = await startFixture(kind, opts);
  fixtures.push(started);
  return started;
}
function portOf(f: Fixture): number {
  assert.ok(f.port !== undefined, "fixture has no agent port");
  return f.port;
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(20)) {
    if (condition()) return true;
  }
  return condition();
}

/** The mode bits a file created with 0777 gets under this process's umask (fixtures inherit it). */
async function modeUnderUmask(): Promise<number> {
  const probe = path.join(tmpdir(), `gopsctl-umask-${process.pid}`);
  await writeFile(probe, "", { mode: 0o777 });
  const mode = (await stat(probe)).mode & 0o777;
  await rm(probe);
  return mode;
}

const HEAD_MEMSTATS_KEYS = [
  "alloc", "total-alloc", "sys", "lookups", "mallocs", "frees", "heap-alloc", "heap-sys", "heap-idle",
  "heap-in-use", "heap-released", "heap-objects", "stack-in-use", "stack-sys", "mspan-in-use", "mspan-sys",
  "mcache-in-use", "mcache-sys", "buck-hash-sys", "other-sys", "gc-sys", "next-gc", "last-gc", "gc-pause-total",
  "gc-pause", "gc-pause-end", "num-gc", "num-forced-gc", "gc-cpu-fraction", "enable-gc", "debug-gc",
];
const LEGACY_MEMSTATS_KEYS = HEAD_MEMSTATS_KEYS.filter((key) => key !== "buck-hash-sys").map(
  (key) =>
    ({
      "mspan-in-use": "stack-mspan-inuse",
      "mspan-sys": "stack-mspan-sys",
      "mcache-in-use": "stack-mcache-inuse",
      "mcache-sys": "stack-mcache-sys",
    })[key] ?? key,
);
const BYTES_VALUE = /^(\d+ bytes|\d+\.\d\d(KB|MB|GB|TB|PB) \(\d+ bytes\))$/;

function parseMemStats(text: string): Map<string, string> {
  assert.ok(text.endsWith("\n"), "memstats ends with a newline");
  const entries = text
    .slice(0, -1)
    .split("\n")
    .map((line) => {
      const match = line.match(/^([a-z-]+): (.*)$/);
      assert.ok(match, `memstats line ${JSON.stringify(line)}`);
      return [match[1]!, match[2]!] as const;
    });
  return new Map(entries);
}

describe("fixture build", () => {
  test("buildFixtures builds both binaries once, runnable by other users", async () => {
    const first = await buildFixtures();
    const second = await buildFixtures();
    assert.deepEqual(second, first);
    for (const file of [first.agentprog, first.plain]) {
      const info = await stat(file);
      assert.ok(info.isFile());
      assert.equal(info.mode & 0o555, 0o555, `${file} is readable and executable by everyone`);
      assert.equal((await stat(path.dirname(file))).mode & 0o755, 0o755);
    }
  });
});

describe("agentprog speaks the gops protocol (raw sockets)", () => {
  let agent: Fixture;
  before(async () => {
    agent = await fixture("agentprog", { args: ["-goroutines", "3"], env: { GOGC: "100" } });
  });

  test("0x04 version is one line starting go1.19", async () => {
    const reply = await rawRequest(portOf(agent), [0x04], 3000);
    assert.equal(reply.eof, true);
    assert.match(reply.data.toString(), /^go1\.19(\.\d+)?\n$/);
  });

  test("0x02 gc answers exactly ok", async () => {
    const reply = await rawRequest(portOf(agent), [0x02], 3000);
    assert.equal(reply.eof, true);
    assert.equal(reply.data.toString(), "ok");
  });

  test("0x03 memstats has the HEAD keys in order with typed values", async () => {
    const reply = await rawRequest(portOf(agent), [0x03], 3000);
    assert.equal(reply.eof, true);
    const stats = parseMemStats(reply.data.toString());
    assert.deepEqual([...stats.keys()], HEAD_MEMSTATS_KEYS);
    for (const key of ["alloc", "sys", "heap-alloc", "stack-in-use", "mspan-in-use", "buck-hash-sys", "gc-sys"]) {
      assert.match(stats.get(key)!, BYTES_VALUE, key);
    }
    assert.match(stats.get("next-gc")!, /^when heap-alloc >= (\d+ bytes|\d+\.\d\d(KB|MB|GB) \(\d+ bytes\))$/);
    assert.match(stats.get("mallocs")!, /^\d+$/);
    assert.match(stats.get("num-gc")!, /^[1-9]\d*$/, "the 0x02 test forced a GC");
    assert.match(stats.get("last-gc")!, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? [+-]\d{4} \S+$/);
    assert.match(stats.get("gc-pause-total")!, /^[\d.]+(ns|µs|ms|s)$|^(\d+m)?[\d.]+s$/);
    assert.equal(stats.get("enable-gc"), "true");
    assert.equal(stats.get("debug-gc"), "false");
  });

  test("0x07 stats is four lines", async () => {
    const reply = await rawRequest(portOf(agent), [0x07], 3000);
    assert.equal(reply.eof, true);
    const match = reply.data
      .toString()
      .match(/^goroutines: (\d+)\nOS threads: (\d+)\nGOMAXPROCS: (\d+)\nnum CPU: (\d+)\n$/);
    assert.ok(match, JSON.stringify(reply.data.toString()));
    assert.ok(Number(match[1]) >= 4, "main plus three blocked workers");
    assert.ok(Number(match[2]) >= 1);
  });

  test("0x01 stack is a debug=2 goroutine dump with the blocked workers", async () => {
    const reply = await rawRequest(portOf(agent), [0x01], 3000);
    assert.equal(reply.eof, true);
    const text = reply.data.toString();
    assert.match(text, /^goroutine \d+ \[/);
    assert.ok(text.includes("goroutine 1 ["), "main goroutine present");
    assert.equal(text.match(/^main\.blockedWorker\(/gm)?.length, 3);
    assert.ok(text.includes("\n\ngoroutine "), "blocks are separated by blank lines");
  });

  test("0x05 heap profile is a gzip pprof", async () => {
    const reply = await rawRequest(portOf(agent), [0x05], 3000);
    assert.equal(reply.eof, true);
    assert.deepEqual([...reply.data.subarray(0, 2)], [0x1f, 0x8b]);
    assert.ok(gunzipSync(reply.data).length > 0);
  });

  test("0x09 binary dump is the fixture's own executable", async () => {
    const reply = await rawRequest(portOf(agent), [0x09], 5000);
    assert.equal(reply.eof, true);
    assert.deepEqual([...reply.data.subarray(0, 4)], [0x7f, 0x45, 0x4c, 0x46]);
    assert.ok(reply.data.equals(await readFile(agent.exe)));
  });

  test("0x10 setgc reads a signed varint, minimal or zero-padded", async () => {
    const off = await rawRequest(portOf(agent), [0x10, 0x01], 3000);
    assert.equal(off.data.toString(), "New GC percent set to -1. Previous value was 100.\n");
    assert.equal(off.eof, true);
    const padded = await rawRequest(portOf(agent), [0x10, 0x90, 0x03, 0, 0, 0, 0, 0, 0, 0, 0], 3000);
    assert.equal(padded.data.toString(), "New GC percent set to 200. Previous value was -1.\n");
    const back = await rawRequest(portOf(agent), [0x10, 0xc8, 0x01], 3000);
    assert.equal(back.data.toString(), "New GC percent set to 100. Previous value was 200.\n");
  });

  test("0x10 without its argument takes the error path: no bytes, no EOF, gops: EOF on stderr", async () => {
    const reply = await rawRequest(portOf(agent), [0x10], 1000, true);
    assert.equal(reply.data.length, 0);
    assert.equal(reply.eof, false);
    assert.ok(await waitFor(() => agent.stderr().includes("gops: EOF\n"), 2000), agent.stderr());
    const next = await rawRequest(portOf(agent), [0x04], 3000);
    assert.match(next.data.toString(), /^go1\.19/);
  });

  test("unknown byte 0x11 gets an empty reply and EOF", async () => {
    const reply = await rawRequest(portOf(agent), [0x11], 3000);
    assert.equal(reply.data.length, 0);
    assert.equal(reply.eof, true); // the agent closed it (the request's own timer would destroy it without EOF)
  });

  test("serial: an idle connection blocks the next client until it closes", async () => {
    const idle = net.connect(portOf(agent), "127.0.0.1");
    await once(idle, "connect");
    const pending = rawRequest(portOf(agent), [0x04], 5000);
    await sleep(500);
    idle.destroy();
    const reply = await pending;
    assert.match(reply.data.toString(), /^go1\.19/);
    assert.ok(reply.ms >= 450, `answered after ${reply.ms} ms, so it was not blocked`);
  });

  test("port file holds the port as ASCII, no newline, mode 0777 under the umask", async () => {
    const file = path.join(agent.configDir, String(agent.pid));
    assert.equal(await readFile(file, "utf8"), String(agent.port));
    const expected = await modeUnderUmask();
    assert.equal((await stat(file)).mode & 0o777, expected);
    assert.equal((await stat(agent.configDir)).mode & 0o777, expected);
  });
});

describe("agentprog variants", () => {
  test("-legacy-memstats uses the v0.3.28 key spellings and no buck-hash-sys", async () => {
    const agent = await fixture("agentprog", { args: ["-legacy-memstats"] });
    const reply = await rawRequest(portOf(agent), [0x03], 3000);
    const stats = parseMemStats(reply.data.toString());
    assert.deepEqual([...stats.keys()], LEGACY_MEMSTATS_KEYS);
    assert.match(stats.get("stack-mspan-inuse")!, BYTES_VALUE);
    assert.equal(stats.get("last-gc"), "-", "no GC has run yet in a fresh fixture");
    assert.equal(stats.get("num-gc"), "0");
    await agent.stop();
  });

  test("0x08 trace (FIXTURE_TRACE_SECONDS=1) starts with the go 1.19 trace header", async () => {
    const agent = await fixture("agentprog", { env: { FIXTURE_TRACE_SECONDS: "1" } });
    const reply = await rawRequest(portOf(agent), [0x08], 5000);
    assert.equal(reply.eof, true);
    assert.equal(reply.data.subarray(0, 16).toString("latin1"), "go 1.19 trace\0\0\0");
    assert.ok(reply.ms >= 950, `trace lasted ${reply.ms} ms`);
    await agent.stop();
  });

  test("0x06 CPU profile (FIXTURE_CPU_PROFILE_SECONDS=1) is a gzip pprof after the duration", async () => {
    const agent = await fixture("agentprog", { env: { FIXTURE_CPU_PROFILE_SECONDS: "1" } });
    const reply = await rawRequest(portOf(agent), [0x06], 5000);
    assert.equal(reply.eof, true);
    assert.deepEqual([...reply.data.subarray(0, 2)], [0x1f, 0x8b]);
    assert.ok(gunzipSync(reply.data).length > 0);
    assert.ok(reply.ms >= 950, `profile lasted ${reply.ms} ms`);
    await agent.stop();
  });

  test("-hold-cpu-profiler: 0x06 gets no bytes and no EOF, and the next connection is served", async () => {
    const agent = await fixture("agentprog", { args: ["-hold-cpu-profiler"] });
    const reply = await rawRequest(portOf(agent), [0x06], 2000);
    assert.equal(reply.data.length, 0);
    assert.equal(reply.eof, false);
    assert.equal(reply.error, undefined);
    assert.ok(await waitFor(() => agent.stderr().includes("gops: cpu profiling already in use\n"), 1000), agent.stderr());
    const next = await rawRequest(portOf(agent), [0x04], 3000);
    assert.match(next.data.toString(), /^go1\.19/);
    assert.equal(next.eof, true);
    await agent.stop();
  });

  test("workloads: -goroutines, -hot and -alloc show up in stack and heap profile", async () => {
    const agent = await fixture("agentprog", { args: ["-goroutines", "2", "-hot", "-alloc"] });
    const stack = (await rawRequest(portOf(agent), [0x01], 3000)).data.toString();
    assert.equal(stack.match(/^main\.blockedWorker\(/gm)?.length, 2);
    assert.match(stack, /^main\.hotLoop\(/m);
    // The heap profile is sampled (one sample per ~512 KiB) and reflects the last completed GC:
    // force a GC and look again until a sample of allocSite shows up.
    let sampled = false;
    for (const deadline = Date.now() + 5000; !sampled && Date.now() < deadline; await sleep(100)) {
      await rawRequest(portOf(agent), [0x02], 3000);
      const heap = gunzipSync((await rawRequest(portOf(agent), [0x05], 3000)).data);
      sampled = heap.includes("main.allocSite");
    }
    assert.ok(sampled, "allocSite appears in the heap profile's string table within 5 s");
    await agent.stop();
  });

  test("-mode hang reads the signal and never answers nor closes until the peer does", async () => {
    const agent = await fixture("agentprog", { args: ["-mode", "hang"] });
    const reply = await rawRequest(portOf(agent), [0x04], 1000);
    assert.equal(reply.data.length, 0);
    assert.equal(reply.eof, false);
    assert.ok(await waitFor(() => agent.stderr().includes("fixture: hang: peer closed after"), 2000), agent.stderr());
    await agent.stop();
  });

  test("-mode slow answers after -slow-ms", async () => {
    const agent = await fixture("agentprog", { args: ["-mode", "slow", "-slow-ms", "300"] });
    const reply = await rawRequest(portOf(agent), [0x02], 3000);
    assert.equal(reply.data.toString(), "ok");
    assert.ok(reply.ms >= 290, `answered after ${reply.ms} ms`);
    await agent.stop();
  });

  test("-mode close-early sends a strict prefix of the reply, then a reset", async () => {
    const agent = await fixture("agentprog", { args: ["-mode", "close-early"] });
    const reply = await rawRequest(portOf(agent), [0x03], 3000);
    const text = reply.data.toString();
    assert.ok(text.startsWith("alloc: "), JSON.stringify(text));
    assert.ok(!text.includes("debug-gc"), "the reply is cut before its end");
    // Linux reports a reset that races the last read as ECONNRESET or as a plain EOF.
    assert.ok(reply.error?.code === "ECONNRESET" || (reply.eof && !reply.error), String(reply.error));
    await agent.stop();
  });

  test("-mode garbage answers non-protocol bytes", async () => {
    const agent = await fixture("agentprog", { args: ["-mode", "garbage"] });
    const reply = await rawRequest(portOf(agent), [0x04], 3000);
    assert.equal(reply.eof, true);
    assert.ok(reply.data.length >= 16);
    assert.equal(reply.data[0], 0xff);
    await agent.stop();
  });

  test("-no-port-file listens but writes no port file", async () => {
    const agent = await fixture("agentprog", { args: ["-no-port-file"] });
    assert.match((await rawRequest(portOf(agent), [0x04], 3000)).data.toString(), /^go1\.19/);
    await assert.rejects(stat(path.join(agent.configDir, String(agent.pid))), { code: "ENOENT" });
    await agent.stop();
  });

  test("-spoof-port writes the given port and listens nowhere", async () => {
    const agent = await fixture("agentprog", { args: ["-spoof-port", "9"] });
    assert.equal(agent.port, undefined);
    assert.equal(await readFile(path.join(agent.configDir, String(agent.pid)), "utf8"), "9");
    await agent.stop();
  });

  test("-config-dir puts the port file there", async () => {
    const dir = path.join(tmpdir(), `gopsctl-explicit-${process.pid}`, "nested");
    const agent = await fixture("agentprog", { args: ["-config-dir", dir] });
    assert.equal(await readFile(path.join(dir, String(agent.pid)), "utf8"), String(agent.port));
    await agent.stop();
    await rm(path.dirname(dir), { recursive: true });
  });

  test("SIGTERM removes the port file and exits 0; SIGINT exits 1", async () => {
    const agent = await fixture("agentprog");
    const file = path.join(agent.configDir, String(agent.pid));
    await stat(file);
    await agent.stop();
    assert.equal(agent.proc.exitCode, 0);
    await assert.rejects(stat(file), { code: "ENOENT" });

    const interrupted = await fixture("agentprog");
    interrupted.proc.kill("SIGINT");
    await once(interrupted.proc, "exit");
    assert.equal(interrupted.proc.exitCode, 1);
    await assert.rejects(stat(path.join(interrupted.configDir, String(interrupted.pid))), { code: "ENOENT" });
  });

  test("GOPS_CONFIG_DIR empty and XDG_CONFIG_HOME set: port file under XDG_CONFIG_HOME/gops", async () => {
    const xdg = path.join(tmpdir(), `gopsctl-xdg-${process.pid}`);
    const agent = await fixture("agentprog", { env: { GOPS_CONFIG_DIR: "", XDG_CONFIG_HOME: xdg } });
    assert.equal(agent.configDir, path.join(xdg, "gops"));
    assert.equal(await readFile(path.join(xdg, "gops", String(agent.pid)), "utf8"), String(agent.port));
    await agent.stop();
    await rm(xdg, { recursive: true });
  });
});

describe("plain fixture and helpers", () => {
  test("plain fixture has no agent and no port file", async () => {
    const plain = await fixture("plain");
    assert.equal(plain.port, undefined);
    await assert.rejects(stat(path.join(plain.configDir, String(plain.pid))), { code: "ENOENT" });
    await plain.stop();
    assert.equal(plain.proc.exitCode, 0);
  });

  test(
    "other-user fixture (uid 65534) writes its port file under its own HOME",
    { skip: process.getuid?.() !== 0 && "needs root to start a process as uid 65534" },
    async () => {
      const agent = await fixture("agentprog", { uid: 65534, env: { GOPS_CONFIG_DIR: "" } });
      const status = await readFile(`/proc/${agent.pid}/status`, "utf8");
      assert.match(status, /^Uid:\s+65534\s+65534\s+65534\s+65534$/m);
      const file = path.join(agent.configDir, String(agent.pid));
      assert.match(agent.configDir, /\/\.config\/gops$/);
      const info = await stat(file);
      assert.equal(info.uid, 65534);
      const home = path.dirname(path.dirname(agent.configDir));
      assert.equal((await stat(home)).uid, 65534);
      assert.equal(await readFile(file, "utf8"), String(agent.port));
      assert.match((await rawRequest(portOf(agent), [0x04], 3000)).data.toString(), /^go1\.19/);
      await agent.stop();
      await assert.rejects(stat(file), { code: "ENOENT" });
    },
  );

  test("startGopsd waits for the listening line and stop() ends the server", async () => {
    const gopsd = await startGopsd();
    try {
      const match = gopsd.address.match(/^127\.0\.0\.1:(\d+)$/);
      assert.ok(match, gopsd.address);
      const socket = net.connect(Number(match[1]), "127.0.0.1");
      await once(socket, "connect");
      socket.destroy();
    } finally {
      await gopsd.stop();
    }
    assert.ok(gopsd.proc.exitCode !== null || gopsd.proc.signalCode !== null);
  });

  test("runCli runs the CLI with piped stdio and reports its exit code", async () => {
    const help = await runCli(["--help"], { timeoutMs: 30_000 });
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /gopsctl/);
  });

  test("deadPid returns a pid with no process", async () => {
    const pid = await deadPid();
    assert.ok(pid > 0);
    assert.throws(() => process.kill(pid, 0), { code: "ESRCH" });
  });

  test("writeStalePortFile writes <dir>/<pid> with the given content", async () => {
    const dir = path.join(tmpdir(), `gopsctl-stale-${process.pid}`);
    const file = await writeStalePortFile(dir, 4242, 65000);
    assert.equal(file, path.join(dir, "4242"));
    assert.equal(await readFile(file, "utf8"), "65000");
    await rm(dir, { recursive: true });
  });
});

after(async () => {
  await Promise.all(fixtures.map((f) => f.stop()));
});
