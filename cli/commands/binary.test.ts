import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { after, test } from "node:test";
import { ClientError, Status } from "nice-grpc-common";
import { CaptureKind, type StreamBinaryResponse } from "../../proto/index.js";
import { HostsFailedError } from "../errors.js";
import { fakeContext, fakeFleet, streamOf } from "../fake-context.testkit.js";
import { run } from "./binary.js";
import { run as runHelp } from "./help.js";
import { COMMANDS, findCommand } from "./index.js";

const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "gopsctl-binary-"));
  dirs.push(d);
  return d;
}

const meta = (host = "web-1"): StreamBinaryResponse => ({
  payload: { $case: "metadata", value: { pid: 4132, kind: CaptureKind.CAPTURE_KIND_BINARY, expectedDurationMs: 0, fileExtension: "", host } },
});
const chunk = (s: string): StreamBinaryResponse => ({ payload: { $case: "chunk", value: Buffer.from(s) } });
/** SHA-256 of "abc" (FIPS 180-2, appendix B.1). */
const ABC_SHA256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

test("binary: default name without extension in the cwd; one line with the size and the SHA-256", async () => {
  const cwd = await tempDir();
  const f = fakeContext({ streamBinary: () => streamOf([meta(), chunk("a"), chunk("bc")]) }, { cwd });
  await run({ pid: 4132, output: undefined }, f.ctx);
  assert.deepEqual(f.calls.map((c) => [c.method, c.request, c.signal]), [["streamBinary", { pid: 4132 }, f.ctx.signal]]);
  assert.deepEqual(await readdir(cwd), ["4132-binary-20261126-110257"]);
  assert.equal(await readFile(join(cwd, "4132-binary-20261126-110257"), "utf8"), "abc");
  assert.equal(f.stdout.text(), `4132-binary-20261126-110257: 3 bytes, sha256 ${ABC_SHA256}\n`);
  assert.equal(f.stderr.text(), "", "no progress: stderr is no terminal");
});

test("binary -o FILE --json: {pid, kind, path, bytes, sha256} and nothing on stderr", async () => {
  const cwd = await tempDir();
  const f = fakeContext({ streamBinary: () => streamOf([meta(), chunk("abc")]) }, { cwd, json: true, stderrIsTTY: true });
  await run({ pid: 4132, output: "app.bin" }, f.ctx);
  assert.deepEqual(JSON.parse(f.stdout.text()), { pid: 4132, kind: "binary", path: join(cwd, "app.bin"), bytes: 3, sha256: ABC_SHA256 });
  assert.equal(f.stderr.text(), "");
});

test("binary on a terminal: the bytes received on stderr, erased before the line", async () => {
  const cwd = await tempDir();
  async function* slow(): AsyncGenerator<StreamBinaryResponse> {
    yield meta();
    yield chunk("a");
    await sleep(250); // past two redraws
    yield chunk("bc");
  }
  const f = fakeContext({ streamBinary: () => slow() }, { cwd, stderrIsTTY: true });
  await run({ pid: 4132, output: "app" }, f.ctx);
  const err = f.stderr.text();
  assert.match(err, /^\rexecutable of pid 4132: waiting for the data in 0s\x1b\[K/);
  assert.match(err, /\rexecutable of pid 4132: received 1B in 0s\x1b\[K/);
  assert.ok(err.endsWith("\r\x1b[K"), JSON.stringify(err));
  assert.equal(f.stdout.text(), `app: 3 bytes, sha256 ${ABC_SHA256}\n`);
});

test("binary: an error or an abort (Ctrl-C) mid-download leaves no file and prints nothing", async () => {
  const cwd = await tempDir();
  const err = new ClientError("/gops.v1.Diagnostics/StreamBinary", Status.UNAVAILABLE, "agent went away");
  const f = fakeContext({ streamBinary: () => streamOf([meta(), chunk("part")], err) }, { cwd });
  await assert.rejects(run({ pid: 4132, output: "app" }, f.ctx), (e) => e === err);

  const ctl = new AbortController();
  let closed = false;
  async function* aborted(): AsyncGenerator<StreamBinaryResponse> {
    try {
      yield meta();
      yield chunk("part");
      ctl.abort(new Error("interrupted"));
      ctl.signal.throwIfAborted(); // like a real call: the stream fails once its signal is aborted
    } finally {
      closed = true;
    }
  }
  const g = fakeContext({ streamBinary: () => aborted() }, { cwd, signal: ctl.signal });
  await assert.rejects(run({ pid: 4132, output: undefined }, g.ctx), /interrupted/);
  assert.equal(closed, true);
  assert.deepEqual(await readdir(cwd), []);
  assert.equal(f.stdout.text() + g.stdout.text(), "");
});

test("binary across hosts: one file per host in -o DIR, a line per host, the summary and the failure's status", async () => {
  const cwd = await tempDir();
  const broken = () => streamOf<StreamBinaryResponse>([], new ClientError("/gops.v1.Diagnostics/StreamBinary", Status.PERMISSION_DENIED, "token lacks scope gops:binary"));
  const fleet = fakeFleet({
    "web-1": { streamBinary: () => streamOf([meta("web-1"), chunk("abc")]) },
    "web-2": { streamBinary: () => streamOf([meta("web-2"), chunk("a"), chunk("bc")]) },
    "web-3": { streamBinary: broken },
  });
  const f = fakeContext({}, { fleet, cwd, isTTY: true });
  await assert.rejects(run({ pid: 4132, output: "bins" }, f.ctx), (e) => e instanceof HostsFailedError && e.code === Status.PERMISSION_DENIED);
  assert.deepEqual((await readdir(join(cwd, "bins"))).sort(), ["web-1-4132-binary-20261126-110257", "web-2-4132-binary-20261126-110257"]);
  assert.deepEqual(f.stdout.text().trim().split("\n").sort(), [
    `bins/web-1-4132-binary-20261126-110257: 3 bytes, sha256 ${ABC_SHA256}`,
    `bins/web-2-4132-binary-20261126-110257: 3 bytes, sha256 ${ABC_SHA256}`,
  ]);
  assert.match(f.stderr.text(), /web-3: PERMISSION_DENIED: token lacks scope gops:binary\n/);
  assert.match(f.stderr.text(), /2\/3 hosts ok; web-3: PERMISSION_DENIED/);

  const j = fakeContext({}, { fleet: fakeFleet({ a: { streamBinary: () => streamOf([meta("a"), chunk("abc")]) } }), cwd, json: true });
  await run({ pid: 4132, output: undefined }, j.ctx);
  assert.deepEqual(JSON.parse(j.stdout.text()), {
    host: "a",
    value: { pid: 4132, kind: "binary", path: join(cwd, "a-4132-binary-20261126-110257"), bytes: 3, sha256: ABC_SHA256 },
  });
});

test("binary's help: usage, the output flag, the default name and the scope it needs", async () => {
  const f = fakeContext({});
  await runHelp({ topic: findCommand("binary"), commands: COMMANDS }, f.ctx);
  const text = f.stdout.text();
  assert.match(text, /^usage: gopsctl \[flags\] binary <pid> \[-o FILE\]$/m);
  assert.match(text, /-o, --output FILE/);
  assert.match(text, /<pid>-binary-<date>-<time> /);
  assert.match(text, /gops:binary/);
  assert.doesNotMatch(text, /--merge|--top/);
});
