// gopsctl as a process (node --import tsx cli/main.ts): exit codes, one-line errors, --host/GOPSCTL_HOST,
// deadlines and Ctrl-C, against a scripted gopsd (a real nice-grpc server on 127.0.0.1).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { createServer, ServerError, Status, type Server } from "nice-grpc";
import {
  CaptureKind,
  DiagnosticsServiceDefinition,
  type DiagnosticsServiceImplementation,
  type StreamTraceResponse,
} from "../proto/index.js";

const MAIN = join(dirname(fileURLToPath(import.meta.url)), "main.ts");
const TSX = import.meta.resolve("tsx"); // absolute: the runs below have other working directories

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function gopsctl(args: string[], opts: { env?: Record<string, string>; cwd?: string; interruptWhen?: () => Promise<void> } = {}): Promise<Run> {
  const env: Record<string, string | undefined> = { ...process.env, ...opts.env };
  if (opts.env?.["GOPSCTL_HOST"] === undefined) delete env["GOPSCTL_HOST"];
  const child = spawn(process.execPath, ["--import", TSX, MAIN, ...args], { cwd: opts.cwd ?? tmpdir(), env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  if (opts.interruptWhen !== undefined) void opts.interruptWhen().then(() => child.kill("SIGINT"));
  const killer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  return new Promise((resolve) =>
    child.on("close", (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    }),
  );
}

let server: Server;
let address: string;
let traceStarted: () => void;
const traceStartedOnce = new Promise<void>((r) => (traceStarted = r));

const unimplemented = () => {
  throw new ServerError(Status.UNIMPLEMENTED, "not scripted");
};
const impl: DiagnosticsServiceImplementation = {
  listProcesses: unimplemented,
  getProcess: unimplemented,
  getBuildInfo: unimplemented,
  memStats: unimplemented,
  stats: unimplemented,
  forceGC: unimplemented,
  setGCPercent: unimplemented,
  streamProfile: unimplemented,
  streamBinary: unimplemented,
  async version(req) {
    if (req.pid === 404) throw new ServerError(Status.NOT_FOUND, "no process with pid 404 on this host");
    if (req.pid === 403) throw new ServerError(Status.PERMISSION_DENIED, "token lacks scope gops:read");
    return { goVersion: `go1.19.${req.pid}` };
  },
  async *stack(_req, ctx) {
    yield { chunk: Buffer.from("goroutine 1 [running]:\n") };
    await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve)); // then hangs until cancelled
  },
  async *streamTrace(req, ctx): AsyncGenerator<StreamTraceResponse> {
    yield { payload: { $case: "metadata", value: { pid: req.pid, kind: CaptureKind.CAPTURE_KIND_TRACE, expectedDurationMs: 5000, fileExtension: ".trace", host: "test" } } };
    yield { payload: { $case: "chunk", value: Buffer.from("go 1.19 trace\0") } };
    traceStarted();
    await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve));
  },
};

before(async () => {
  server = createServer();
  server.add(DiagnosticsServiceDefinition, impl);
  const port = await server.listen("127.0.0.1:0");
  address = `127.0.0.1:${port}`;
});
after(() => server.forceShutdown());

test("--version, help, and a usage error (exit 2, one line on stderr)", async () => {
  const v = await gopsctl(["--version"]);
  assert.equal(v.code, 0);
  assert.match(v.stdout, /^gopsctl \d+\.\d+\.\d+\n$/);
  const h = await gopsctl(["help"]);
  assert.equal(h.code, 0);
  assert.match(h.stdout, /^usage: gopsctl \[flags\] <command> \[args\]$/m);
  const u = await gopsctl(["stack", "x"]);
  assert.deepEqual(u, { code: 2, stdout: "", stderr: 'gopsctl: invalid pid "x"\n' });
});

test("--host sends the call to gopsd; piped output is JSON; GOPSCTL_HOST is the default, the flag wins", async () => {
  const r = await gopsctl(["version", "8", "--host", address]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { pid: 8, goVersion: "go1.19.8" });
  const e = await gopsctl(["version", "9"], { env: { GOPSCTL_HOST: address } });
  assert.deepEqual(JSON.parse(e.stdout), { pid: 9, goVersion: "go1.19.9" });
  const w = await gopsctl(["version", "7", "--host", address], { env: { GOPSCTL_HOST: "127.0.0.1:1" } });
  assert.equal(w.code, 0, w.stderr);
});

test("server errors: the server's message on one line and the mapped exit code", async () => {
  assert.deepEqual(await gopsctl(["--host", address, "version", "404"]), {
    code: 3,
    stdout: "",
    stderr: "gopsctl: no process with pid 404 on this host\n",
  });
  const denied = await gopsctl(["--host", address, "version", "403"]);
  assert.equal(denied.code, 8);
  assert.equal(denied.stderr, "gopsctl: token lacks scope gops:read\n");
});

test("the deadline ends a hung call with exit 6", async () => {
  const r = await gopsctl(["--host", address, "--timeout", "1s", "stack", "1"]);
  assert.equal(r.code, 6, r.stderr);
  assert.equal(r.stdout, "goroutine 1 [running]:\n");
  assert.match(r.stderr, /^gopsctl: .*1s.*\n$/);
});

test("Ctrl-C during a capture cancels it, removes the partial file and exits 130", async () => {
  const cwd = await mkdtemp(join(tmpdir(), "gopsctl-main-"));
  try {
    const r = await gopsctl(["--host", address, "trace", "77"], { cwd, interruptWhen: () => traceStartedOnce });
    assert.equal(r.code, 130, r.stderr);
    assert.equal(r.stderr, "gopsctl: interrupted\n");
    assert.equal(r.stdout, "");
    assert.deepEqual(await readdir(cwd), []);
  } finally {
    await rm(cwd, { recursive: true, force: true });
  }
});
