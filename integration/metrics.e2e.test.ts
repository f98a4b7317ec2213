// gopsd as a Prometheus exporter, end to end: a real Prometheus server (Debian's package, started here on loopback
// with its own config and data directory, 1 s scrape interval) scrapes a real gopsd (--metrics-listen) that samples
// real Go programs with our agent. Its query API returns go_goroutines{pid=...} of a fixture, the series rises for a
// program that leaks goroutines, and the series of a program that exits vanish; `promtool check metrics` passes on
// gopsd's output; with TLS and auth configured the metrics port refuses a scrape without a token (and one without
// the gops:metrics scope).
import assert from "node:assert/strict";
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { request as httpsRequest } from "node:https";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { connect } from "../client/index.js";
import { signToken, signingKey } from "../common/token.js";
import { startFixture, startGopsd, type Fixture, type Gopsd } from "./harness.js";

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const PROMETHEUS = "/usr/bin/prometheus";
const PROMTOOL = "/usr/bin/promtool";

/** A loopback TCP port free a moment ago (Prometheus cannot report a port it chose itself). */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

/** The metrics address gopsd printed ("gopsd: metrics on <url>"). */
function metricsUrl(g: Gopsd): string {
  const m = /^gopsd: metrics on (\S+)$/m.exec(g.stderr());
  assert.ok(m, `no metrics line in: ${g.stderr()}`);
  return m[1]!;
}

interface Prometheus {
  proc: ChildProcess;
  base: string;
  log(): string;
  stop(): Promise<void>;
}

async function startPrometheus(dir: string, target: string): Promise<Prometheus> {
  const port = await freePort();
  const config = path.join(dir, "prometheus.yml");
  await writeFile(
    config,
    [
      "global:",
      "  scrape_interval: 1s",
      "  scrape_timeout: 1s",
      "scrape_configs:",
      "  - job_name: gopsd",
      "    honor_labels: true",
      "    static_configs:",
      `      - targets: ["${target}"]`,
      "",
    ].join("\n"),
  );
  const proc = spawn(
    PROMETHEUS,
    [`--config.file=${config}`, `--storage.tsdb.path=${path.join(dir, "data")}`, `--web.listen-address=127.0.0.1:${port}`, "--log.level=warn"],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let log = "";
  proc.stderr!.setEncoding("utf8").on("data", (s: string) => {
    if (log.length < 1 << 20) log += s;
  });
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  const stop = async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill("SIGTERM");
    const t = setTimeout(() => proc.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(t);
  };
  process.once("exit", () => proc.kill("SIGKILL"));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`prometheus exited: ${log}`);
    const ok = await fetch(`${base}/-/ready`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus not ready within 60 s: ${log}`);
    }
    await sleep(200);
  }
  return { proc, base, log: () => log, stop };
}

/** An instant query's vector: value by the series' pid label. */
async function query(p: Prometheus, promql: string): Promise<Array<{ labels: Record<string, string>; value: number }>> {
  const res = await fetch(`${p.base}/api/v1/query?query=${encodeURIComponent(promql)}`);
  const doc = (await res.json()) as { status: string; data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
  assert.equal(doc.status, "success");
  return doc.data.result.map((r) => ({ labels: r.metric, value: Number(r.value[1]) }));
}

/** Polls `promql` until `done` holds for its result (at most 60 s). */
async function waitFor(p: Prometheus, promql: string, done: (r: Awaited<ReturnType<typeof query>>) => boolean, what: string) {
  const deadline = Date.now() + 60_000;
  let last: Awaited<ReturnType<typeof query>> = [];
  while (Date.now() < deadline) {
    last = await query(p, promql);
    if (done(last)) return last;
    await sleep(500);
  }
  assert.fail(`${what}: ${promql} gave ${JSON.stringify(last)}; prometheus log: ${p.log().slice(-2000)}`);
}

describe("gopsd --metrics-listen scraped by a real Prometheus", { timeout: 240_000 }, () => {
  let dir: string;
  let gopsd: Gopsd;
  let prom: Prometheus;
  let leaker: Fixture;
  let leaving: Fixture;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "gopsctl-metrics-e2e-"));
    [gopsd, leaker, leaving] = await Promise.all([
      startGopsd({ args: ["--host-name", "metrics-1", "--metrics-listen", "127.0.0.1:0", "--metrics-interval", "1s"] }),
      startFixture("agentprog", { args: ["-leak-goroutines-per-sec", "20"] }),
      startFixture("agentprog", { args: ["-goroutines", "4"] }),
    ]);
    prom = await startPrometheus(dir, new URL(metricsUrl(gopsd)).host);
  });

  after(async () => {
    await prom?.stop();
    await Promise.all([leaker?.stop(), leaving?.stop()]);
    await gopsd?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("Prometheus gets go_goroutines{pid} of a Go program with an agent, with the Go client's other series beside it", async () => {
    const [s] = await waitFor(prom, `go_goroutines{pid="${leaker.pid}"}`, (r) => r.length === 1, "the leaking fixture's goroutines");
    assert.equal(s!.labels.job, "gopsd");
    assert.equal(s!.labels.module, "gopsctl.test/fixtures");
    assert.equal(s!.labels.exe, leaker.exe);
    const up = await query(prom, 'up{job="gopsd"}');
    assert.deepEqual(up.map((u) => u.value), [1]);
    for (const name of ["go_memstats_heap_alloc_bytes", "go_threads", "process_resident_memory_bytes", "go_gc_duration_seconds_count"]) {
      const r = await query(prom, `${name}{pid="${leaker.pid}"}`);
      assert.equal(r.length, 1, name);
    }
    const info = await query(prom, `go_info{pid="${leaker.pid}"}`);
    assert.match(info[0]!.labels.version ?? "", /^go1\.\d+/);
  });

  it("the series rises for a program that leaks goroutines", async () => {
    const [first] = await query(prom, `go_goroutines{pid="${leaker.pid}"}`);
    await waitFor(prom, `go_goroutines{pid="${leaker.pid}"}`, (r) => r.length === 1 && r[0]!.value >= first!.value + 40, "a rise of 40 goroutines");
    // Over the last seconds Prometheus has it rising (deriv > 0), as an alert on a leak would see it.
    await waitFor(prom, `deriv(go_goroutines{pid="${leaker.pid}"}[10s])`, (r) => r.length === 1 && r[0]!.value > 5, "a positive derivative");
  });

  it("a program serving net/http/pprof and expvar is exported too, with GC pause quantiles from its PauseNs ring", async () => {
    const web = await startFixture("httpprog", { args: ["-listen", "127.0.0.1:0", "-expvar"] });
    const client = connect(gopsd.address);
    try {
      // The sampler reads endpoints gopsd knows: a probing listing finds this one.
      const listed = await client.listProcesses({ probe: true });
      assert.equal(listed.processes.find((p) => p.pid === web.pid)?.agent?.httpVerified, true);
      const q = await waitFor(prom, `go_gc_duration_seconds{pid="${web.pid}"}`, (r) => r.length === 5, "five pause quantiles");
      assert.deepEqual(q.map((x) => x.labels.quantile).sort(), ["0", "0.25", "0.5", "0.75", "1"]);
      const [count] = await waitFor(prom, `go_gc_duration_seconds_count{pid="${web.pid}"}`, (r) => r.length === 1 && r[0]!.value > 0, "GCs counted");
      assert.ok(count!.value > 0);
      assert.equal((await query(prom, `go_goroutines{pid="${web.pid}"}`)).length, 1);
    } finally {
      client.close();
      await web.stop();
    }
  });

  it("promtool check metrics passes on gopsd's output", async () => {
    const body = await (await fetch(metricsUrl(gopsd))).text();
    assert.match(body, new RegExp(`^go_goroutines\\{pid="${leaker.pid}",`, "m"));
    const child = execFile(PROMTOOL, ["check", "metrics"], { timeout: 30_000 });
    const done = new Promise<{ code: number | null; out: string }>((resolve) => {
      let out = "";
      child.stdout!.on("data", (s: string) => (out += s));
      child.stderr!.on("data", (s: string) => (out += s));
      child.once("close", (code) => resolve({ code, out }));
    });
    child.stdin!.end(body);
    const { code, out } = await done;
    assert.equal(code, 0, out);
    assert.equal(out.trim(), "", "no lint findings");
  });

  it("the series of a program that exits vanish", async () => {
    await waitFor(prom, `go_goroutines{pid="${leaving.pid}"}`, (r) => r.length === 1, "the second fixture's goroutines");
    const pid = leaving.pid;
    await leaving.stop();
    await waitFor(prom, `go_goroutines{pid="${pid}"}`, (r) => r.length === 0, "the exited process's series gone");
    await waitFor(prom, `process_resident_memory_bytes{pid="${pid}"}`, (r) => r.length === 0, "its process_* series gone too");
    // The other one is still scraped.
    assert.equal((await query(prom, `go_goroutines{pid="${leaker.pid}"}`)).length, 1);
  });
});

describe("the metrics port with TLS and auth", { timeout: 120_000 }, () => {
  let dir: string;
  let gopsd: Gopsd;
  let secret: Buffer;

  const openssl = (...args: string[]) => run("openssl", args, { cwd: dir, timeout: 30_000 });

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "gopsctl-metrics-tls-"));
    await openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "server.key", "-out", "server.pem",
      "-subj", "/CN=localhost", "-days", "2", "-addext", "subjectAltName=IP:127.0.0.1");
    secret = randomBytes(32);
    await writeFile(path.join(dir, "hs.key"), secret, { mode: 0o600 });
    gopsd = await startGopsd({
      args: [
        "--host-name", "metrics-tls",
        "--tls-cert", path.join(dir, "server.pem"),
        "--tls-key", path.join(dir, "server.key"),
        "--auth-algorithms", "HS256",
        "--auth-hs-secret-file", `hs:${path.join(dir, "hs.key")}`,
        "--auth-issuer", "iss",
        "--auth-audience", "gopsd",
        "--audit-file", path.join(dir, "audit.log"),
        "--metrics-listen", "127.0.0.1:0",
      ],
    });
  });

  after(async () => {
    await gopsd?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function scrape(headers: Record<string, string>): Promise<{ status: number; body: string }> {
    const url = new URL(metricsUrl(gopsd));
    const ca = await import("node:fs/promises").then((f) => f.readFile(path.join(dir, "server.pem")));
    return new Promise((resolve, reject) => {
      const req = httpsRequest(url, { ca, headers, timeout: 20_000 }, (res) => {
        let body = "";
        res.setEncoding("utf8").on("data", (s: string) => (body += s));
        res.on("end", () => resolve({ status: res.statusCode!, body }));
      });
      req.on("error", reject);
      req.end();
    });
  }

  const token = (scopes: Array<"gops:metrics" | "gops:read">) =>
    signToken(signingKey(secret, "HS256", "hs.key"), { alg: "HS256", kid: "hs", issuer: "iss", audience: "gopsd", subject: "prom", scopes, ttlSec: 600 });

  it("serves HTTPS and refuses a scrape without a token, or with a token lacking gops:metrics", async () => {
    assert.match(metricsUrl(gopsd), /^https:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const none = await scrape({});
    assert.equal(none.status, 401);
    assert.match(none.body, /^no bearer token/);
    const bad = await scrape({ authorization: "Bearer not.a.jwt" });
    assert.equal(bad.status, 401);
    const read = await scrape({ authorization: `Bearer ${token(["gops:read"])}` });
    assert.equal(read.status, 403);
    assert.equal(read.body, "token lacks scope gops:metrics\n");
    const ok = await scrape({ authorization: `Bearer ${token(["gops:metrics"])}` });
    assert.equal(ok.status, 200, ok.body);
    assert.match(ok.body, /^gopsd_metrics_refused_requests_total\{reason="unauthenticated"\} 2$/m);
    assert.match(ok.body, /^gopsd_metrics_refused_requests_total\{reason="forbidden"\} 1$/m);
  });

  it("plain HTTP to the TLS port gets no metrics", async () => {
    const url = new URL(metricsUrl(gopsd));
    const r = await fetch(`http://${url.host}/metrics`).then(
      (res) => res.status,
      () => "refused",
    );
    assert.notEqual(r, 200);
  });
});
