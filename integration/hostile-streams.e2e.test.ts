// End to end (issue 17 item 3): read-only token holders cannot hold the stream slots an operator needs. An attacker
// process of uid 65534 (plain node:http2, nothing loaded from this checkout) holds four tokens with only
// `gops:read` and opens 8 WatchStats each (interval one hour, never read). Each subject gets at most
// maxWatchStreamsPerSubject (2) watches, the rest RESOURCE_EXHAUSTED; while the attacker holds them, the operator's
// Stack, heap capture and WatchStats are served. Before the fix the attacker held all 32 stream slots and the
// operator got "server is at its limit of 32 concurrent streams".
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { Metadata, createChannel, createClient, type Channel } from "nice-grpc";
import { SCOPES, signToken, signingKey } from "../common/token.js";
import { DiagnosticsServiceDefinition, ProfileKind } from "../proto/index.js";
import { drain } from "./grpc-helpers.js";
import { startFixture, startGopsd, type Fixture, type Gopsd } from "./harness.js";

const NOBODY = 65534;
const ROOT = process.getuid?.() === 0;
const ISS = "gopsctl-harden-test";
const AUD = "gopsd";
const ATTACKER_SUBJECTS = ["reader-1", "reader-2", "reader-3", "reader-4"];
const WATCHES_PER_TOKEN = 8;

/**
 * The attacker, run with `node -e` as uid 65534: argv = [port, ...tokens]. For each token it opens
 * WATCHES_PER_TOKEN WatchStats streams (interval_ms 3600000, request sent whole), never reads their messages,
 * prints "HOLDING <json report>" once every stream has its response headers (or after 10 s), and holds
 * them until its stdin closes (at most 120 s).
 */
const ATTACKER = `
const http2 = require("node:http2");
const [port, ...tokens] = process.argv.slice(1);
const PER = ${WATCHES_PER_TOKEN};
// WatchStatsRequest{interval_ms: 3600000}: field 1, varint.
const varint = (n) => { const b = []; while (n > 127) { b.push((n & 127) | 128); n >>>= 7; } b.push(n); return b; };
const msg = Buffer.from([0x08, ...varint(3600000)]);
const frame = Buffer.concat([Buffer.from([0, 0, 0, 0, msg.length]), msg]);
const session = http2.connect("http://127.0.0.1:" + port, { peerMaxConcurrentStreams: 1000 });
session.on("error", () => {});
const report = { open: {}, refused: {}, messages: [] };
let settled = 0;
const total = tokens.length * PER;
const done = () => { if (++settled === total) finish(); };
let finished = false;
const finish = () => {
  if (finished) return;
  finished = true;
  process.stdout.write("HOLDING " + JSON.stringify(report) + "\\n");
};
tokens.forEach((token, i) => {
  const who = "token-" + (i + 1);
  for (let k = 0; k < PER; k++) {
    const s = session.request({ ":method": "POST", ":path": "/gops.v1.DiagnosticsService/WatchStats", "content-type": "application/grpc", te: "trailers", authorization: "Bearer " + token });
    s.on("error", () => {});
    s.pause(); // never read a message
    s.end(frame);
    s.once("response", (h) => {
      const status = h["grpc-status"];
      if (status === undefined) report.open[who] = (report.open[who] || 0) + 1;
      else {
        report.refused[status] = (report.refused[status] || 0) + 1;
        const m = decodeURIComponent(String(h["grpc-message"] || ""));
        if (!report.messages.includes(m)) report.messages.push(m);
      }
      done();
    });
  }
});
setTimeout(finish, 10000);
process.stdin.resume();
process.stdin.on("end", () => process.exit(0));
setTimeout(() => process.exit(3), 120000);
`;

interface Report {
  open: Record<string, number>;
  refused: Record<string, number>;
  messages: string[];
}

describe("read-only watchers cannot starve one-off streams (issue 17 item 3)", { skip: !ROOT && "needs root (uid 65534 attacker)", timeout: 180_000 }, () => {
  let dir: string;
  let gopsd: Gopsd;
  let fixture: Fixture;
  let channel: Channel;
  let attacker: ChildProcess | undefined;
  let token: (subject: string, scopes: readonly string[]) => string;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "gopsctl-harden-streams-"));
    const secret = randomBytes(32);
    await writeFile(path.join(dir, "hs.key"), secret, { mode: 0o600 });
    const signer = signingKey(secret, "HS256", "hs.key");
    token = (subject, scopes) =>
      signToken(signer, { alg: "HS256", kid: "hs", issuer: ISS, audience: AUD, subject, scopes: [...scopes] as typeof SCOPES[number][], ttlSec: 600 });
    await writeFile(
      path.join(dir, "gopsd.yaml"),
      ["auth:", "  algorithms: [HS256]", "  hsSecretFile: hs:hs.key", `  issuer: ${ISS}`, `  audience: ${AUD}`, "audit: { file: audit.log }", ""].join("\n"),
    );
    [fixture, gopsd] = await Promise.all([startFixture("agentprog"), startGopsd({ args: ["--config", path.join(dir, "gopsd.yaml")] })]);
    channel = createChannel(gopsd.address);
  });
  after(async () => {
    attacker?.stdin?.end();
    if (attacker && attacker.exitCode === null) attacker.kill("SIGKILL");
    channel?.close();
    await Promise.all([gopsd?.stop(), fixture?.stop()]);
    await rm(dir, { recursive: true, force: true });
  });

  it("four gops:read tokens x 8 idle WatchStats: 2 per token held, the rest refused; the operator's stack, capture and top are served", async () => {
    const port = gopsd.address.split(":").at(-1)!;
    const tokens = ATTACKER_SUBJECTS.map((s) => token(s, ["gops:read"]));
    attacker = spawn("setpriv", [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", process.execPath, "-e", ATTACKER, port, ...tokens], {
      cwd: "/",
      stdio: ["pipe", "pipe", "inherit"],
    });
    const report = await new Promise<Report>((resolve, reject) => {
      let out = "";
      attacker!.stdout!.on("data", (d: Buffer) => {
        out += d.toString();
        const m = /^HOLDING (.*)$/m.exec(out);
        if (m) resolve(JSON.parse(m[1]!) as Report);
      });
      attacker!.once("exit", (code) => reject(new Error(`attacker exited (${code}) before holding: ${out}`)));
    });
    // While the attacker holds its watches: the operator's one-off streams and a watch of its own.
    const operator = { metadata: Metadata({ authorization: `Bearer ${token("operator", SCOPES)}` }) };
    const client = createClient(DiagnosticsServiceDefinition, channel);
    const stacks = await Promise.all(Array.from({ length: 4 }, () => drain(client.stack({ pid: fixture.pid }, operator))));
    for (const s of stacks) assert.match(Buffer.concat(s.map((c) => Buffer.from(c.chunk))).toString(), /goroutine \d+/);
    const heap = await drain(client.streamProfile({ pid: fixture.pid, kind: ProfileKind.PROFILE_KIND_HEAP }, operator));
    assert.ok(heap.length >= 2, "metadata and data");
    const ctl = new AbortController();
    for await (const sample of client.watchStats({ intervalMs: 500, pids: [fixture.pid] }, { ...operator, signal: ctl.signal })) {
      assert.equal(sample.processes[0]?.pid, fixture.pid);
      break;
    }
    ctl.abort();
    assert.equal(attacker.exitCode, null, "the attacker still holds its streams");
    assert.deepEqual(report.open, { "token-1": 2, "token-2": 2, "token-3": 2, "token-4": 2 }, JSON.stringify(report));
    assert.deepEqual(report.refused, { "8": ATTACKER_SUBJECTS.length * (WATCHES_PER_TOKEN - 2) }, JSON.stringify(report));
    assert.ok(
      report.messages.every((m) => /^too many concurrent WatchStats streams for reader-\d \(limit 2\); end one first$/.test(m)),
      JSON.stringify(report.messages),
    );
  });
});
