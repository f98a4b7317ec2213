// gopsctl as a process (node --import tsx cli/main.ts): exit codes, one-line errors, --host/GOPSCTL_HOST,
// deadlines and Ctrl-C, tokens, TLS and the config file, against scripted gopsds (real nice-grpc servers on
// 127.0.0.1, one of them TLS with certificates made by the openssl CLI).
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { chmod, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { ServerCredentials } from "@grpc/grpc-js";
import { createServer, ServerError, Status, type Server } from "nice-grpc";
import { CaptureKind, DiagnosticsServiceDefinition, type StreamTraceResponse } from "../proto/index.js";
import { scriptedService } from "../client/scripted-service.testkit.js";

const MAIN = join(dirname(fileURLToPath(import.meta.url)), "main.ts");
const TSX = import.meta.resolve("tsx"); // absolute: the runs below have other working directories

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** An empty config home: the runs never see the user's own ~/.config/gopsctl. */
let emptyConfigHome: string;

function gopsctl(args: string[], opts: { env?: Record<string, string>; cwd?: string; interruptWhen?: () => Promise<void> } = {}): Promise<Run> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("GOPSCTL_")));
  const env: Record<string, string | undefined> = { ...inherited, XDG_CONFIG_HOME: emptyConfigHome, ...opts.env };
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

const impl = scriptedService({
  async version(req) {
    if (req.pid === 404) throw new ServerError(Status.NOT_FOUND, "no process with pid 404 on this host");
    if (req.pid === 403) throw new ServerError(Status.PERMISSION_DENIED, "token lacks scope gops:read");
    if (req.pid === 401) throw new ServerError(Status.UNAUTHENTICATED, "token expired");
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
});

before(async () => {
  emptyConfigHome = await mkdtemp(join(tmpdir(), "gopsctl-xdg-"));
  server = createServer();
  server.add(DiagnosticsServiceDefinition, impl);
  const port = await server.listen("127.0.0.1:0");
  address = `127.0.0.1:${port}`;
});
after(async () => {
  server.forceShutdown();
  await rm(emptyConfigHome, { recursive: true, force: true });
});

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

test("--host sends the call to gopsd; piped output is the text, JSON with --json; GOPSCTL_HOST is the default, the flag wins", async () => {
  const r = await gopsctl(["version", "8", "--host", address]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "go1.19.8\n");
  const j = await gopsctl(["version", "8", "--host", address, "--json"]);
  assert.deepEqual(JSON.parse(j.stdout), { pid: 8, goVersion: "go1.19.8" });
  const e = await gopsctl(["version", "9"], { env: { GOPSCTL_HOST: address } });
  assert.equal(e.stdout, "go1.19.9\n");
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
  assert.deepEqual(await gopsctl(["--host", address, "--token", "t.o.k", "version", "401"]), { code: 8, stdout: "", stderr: "gopsctl: token expired\n" });
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

describe("tokens, TLS and the config file", () => {
  let dir: string;
  let tls: Server;
  let tlsAddress: string;
  const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "gopsctl-main-tls-"));
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
    openssl("req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=test-ca", "-days", "1");
    openssl("req", "-x509", ...ec, "-keyout", "other-ca.key", "-out", "other-ca.pem", "-subj", "/CN=other-ca", "-days", "1");
    await writeFile(join(dir, "san.ext"), "subjectAltName=DNS:gopsd.test,IP:127.0.0.1\n");
    openssl("req", ...ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=gopsd");
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.pem", "-days", "1", "-extfile", "san.ext");
    tls = createServer();
    tls.add(DiagnosticsServiceDefinition, {
      ...impl,
      async version(_req, ctx) {
        const auth = ctx.metadata.get("authorization");
        if (auth === undefined) throw new ServerError(Status.UNAUTHENTICATED, "no bearer token");
        return { goVersion: auth };
      },
    });
    const { readFile } = await import("node:fs/promises");
    const [cert, key] = await Promise.all([readFile(join(dir, "server.pem")), readFile(join(dir, "server.key"))]);
    tlsAddress = `127.0.0.1:${await tls.listen("127.0.0.1:0", ServerCredentials.createSsl(null, [{ cert_chain: cert, private_key: key }]))}`;
    await writeFile(join(dir, "token"), "good.to.ken\n", { mode: 0o600 });
  });
  after(async () => {
    tls.forceShutdown();
    await rm(dir, { recursive: true, force: true });
  });

  test("--ca and --token-file: the token reaches gopsd over TLS; dialling an IP prints no Node warning", async () => {
    const r = await gopsctl(["--host", tlsAddress, "--ca", join(dir, "ca.pem"), "--token-file", join(dir, "token"), "version", "1"]);
    assert.deepEqual(r, { code: 0, stdout: "Bearer good.to.ken\n", stderr: "" });
    const e = await gopsctl(["version", "1"], { env: { GOPSCTL_HOST: tlsAddress, GOPSCTL_CA: join(dir, "ca.pem"), GOPSCTL_SERVER_NAME: "gopsd.test", GOPSCTL_TOKEN: "env.to.ken" } });
    assert.equal(e.code, 0, e.stderr);
    assert.equal(e.stdout, "Bearer env.to.ken" + "\n");
  });

  test("the config file (default location or --config) supplies host, token file and TLS; flags win", async () => {
    const xdg = join(dir, "xdg");
    await import("node:fs/promises").then((fs) => fs.mkdir(join(xdg, "gopsctl"), { recursive: true }));
    await writeFile(join(xdg, "gopsctl", "config.yaml"), `host: ${tlsAddress}\ntokenFile: ${join(dir, "token")}\ntls:\n  ca: ${join(dir, "ca.pem")}\n  serverName: gopsd.test\n`);
    const r = await gopsctl(["version", "1"], { env: { XDG_CONFIG_HOME: xdg } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "Bearer good.to.ken" + "\n");
    const f = await gopsctl(["--config", join(xdg, "gopsctl", "config.yaml"), "--token", "flag.to.ken", "version", "1"]);
    assert.equal(f.stdout, "Bearer flag.to.ken" + "\n");
    await writeFile(join(dir, "bad.yaml"), "host: h:1\ntls:\n  ca_file: x\n");
    assert.deepEqual(await gopsctl(["--config", join(dir, "bad.yaml"), "version", "1"]), {
      code: 2,
      stdout: "",
      stderr: `gopsctl: config ${join(dir, "bad.yaml")}: unknown key "tls.ca_file" (known: tls.ca, tls.cert, tls.key, tls.serverName)\n`,
    });
    // help and token create never read the config
    assert.equal((await gopsctl(["--config", join(dir, "bad.yaml"), "help"])).code, 0);
  });

  test("a token file others can read is refused in one line, exit 2, and nothing is sent", async () => {
    const open = join(dir, "open-token");
    await writeFile(open, "good.to.ken\n");
    await chmod(open, 0o644);
    assert.deepEqual(await gopsctl(["--host", tlsAddress, "--ca", join(dir, "ca.pem"), "--token-file", open, "version", "1"]), {
      code: 2,
      stdout: "",
      stderr: `gopsctl: token file ${open} is accessible by others (mode 0644); run: chmod 600 ${open}\n`,
    });
  });

  test("no token: the server's reason, exit 8; a gopsd signed by another CA: exit 5; a token in clear text off the machine: exit 2", async () => {
    assert.deepEqual(await gopsctl(["--host", tlsAddress, "--ca", join(dir, "ca.pem"), "version", "1"]), { code: 8, stdout: "", stderr: "gopsctl: no bearer token\n" });
    const w = await gopsctl(["--host", tlsAddress, "--ca", join(dir, "other-ca.pem"), "--token", "secret.to.ken", "version", "1"]);
    assert.equal(w.code, 5);
    assert.equal(w.stderr, `gopsctl: gopsd at ${tlsAddress} is unreachable: TLS certificate check failed: unable to verify the first certificate\n`);
    assert.deepEqual(await gopsctl(["--host", "192.0.2.1:4677", "--token", "secret.to.ken", "version", "1"]), {
      code: 2,
      stdout: "",
      stderr: "gopsctl: refusing to send a token to 192.0.2.1:4677 without TLS\n",
    });
  });

  test("token create --dev without gopsd's dev key: one line, exit 2", async () => {
    const xdg = join(dir, "no-dev-key");
    assert.deepEqual(await gopsctl(["token", "create", "--dev"], { env: { XDG_CONFIG_HOME: xdg } }), {
      code: 2,
      stdout: "",
      stderr: `gopsctl: no dev key at ${join(xdg, "gopsctl", "dev", "hs256.key")}: start gopsd --dev first\n`,
    });
  });
});
