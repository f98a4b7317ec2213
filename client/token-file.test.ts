import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { CredentialsError } from "./credentials-error.js";
import { TOKEN_FILE_MAX_BYTES, TokenFileReads, readTokenFile } from "./token-file.js";

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "gopsctl-token-file-"));
});
after(() => rm(dir, { recursive: true, force: true }));

async function tokenFile(name: string, content: string, mode: number): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  await chmod(path, mode);
  return path;
}

const refused = async (path: string, message: string | RegExp) =>
  assert.rejects(readTokenFile(path), (e: unknown) => {
    assert.ok(e instanceof CredentialsError);
    if (typeof message === "string") assert.equal(e.message, message);
    else assert.match(e.message, message);
    assert.doesNotMatch(e.message, /s3cr3t/);
    return true;
  });

test("an owner-only token file is read, without its trailing newline", async () => {
  assert.equal(await readTokenFile(await tokenFile("ok", "aaa.bbb.ccc\n", 0o600)), "aaa.bbb.ccc");
  assert.equal(await readTokenFile(await tokenFile("ro", "  x.y.z  \n\n", 0o400)), "x.y.z");
});

test("a file that the group or others can read or write is refused with a chmod hint, like ssh", async () => {
  for (const mode of [0o644, 0o640, 0o604, 0o620, 0o602]) {
    const path = await tokenFile(`open-${mode.toString(8)}`, "s3cr3t", mode);
    await refused(path, `token file ${path} is accessible by others (mode 0${mode.toString(8)}); run: chmod 600 ${path}`);
  }
});

test("missing, empty, multi-token, too large, not a file: one-line refusals that never quote the content", async () => {
  await refused(join(dir, "absent"), `cannot read token file ${join(dir, "absent")}: ENOENT`);
  const empty = await tokenFile("empty", "\n", 0o600);
  await refused(empty, `token file ${empty}: the token is empty`);
  const two = await tokenFile("two", "s3cr3t.a.b\ns3cr3t.c.d\n", 0o600);
  await refused(two, `token file ${two}: the token holds spaces or characters a metadata header cannot carry`);
  const big = await tokenFile("big", "s3cr3t".padEnd(TOKEN_FILE_MAX_BYTES + 1, "x"), 0o600);
  await refused(big, /is too large to be a token/);
  const sub = join(dir, "subdir");
  await mkdir(sub, { mode: 0o700 });
  await refused(sub, `token file ${sub} is not a regular file`);
});

test("an aborted signal stops before reading", async () => {
  const path = await tokenFile("abort", "t", 0o600);
  await assert.rejects(readTokenFile(path, { signal: AbortSignal.abort() }), { name: "AbortError" });
});

test("TokenFileReads: reads of one path close together share one read; a later read sees a rotated token", async () => {
  const path = await tokenFile("shared-token", "first.token\n", 0o600);
  const reads = new TokenFileReads(200);
  const [a, b] = await Promise.all([reads.read(path), reads.read(path)]);
  assert.equal(a, "first.token");
  assert.equal(b, "first.token");
  await writeFile(path, "second.token\n");
  assert.equal(await reads.read(path), "first.token", "within reuseMs the last read answers");
  await new Promise((resolve) => setTimeout(resolve, 250));
  assert.equal(await reads.read(path), "second.token");
});

test("TokenFileReads: a refused token file fails every caller with the same CredentialsError", async () => {
  const path = await tokenFile("shared-open-token", "s3cr3t\n", 0o644);
  const reads = new TokenFileReads();
  for (const read of [reads.read(path), reads.read(path)]) {
    await assert.rejects(read, (e: unknown) => e instanceof CredentialsError && /accessible by others/.test(e.message));
  }
});
