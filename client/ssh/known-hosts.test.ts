import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import {
  checkHostKey,
  describeVerdict,
  fingerprint,
  knownHostsName,
  parseKnownHosts,
  keyTypeOf,
} from "./known-hosts.js";
import { hashKnownHostsName } from "./known-hosts.testkit.js";

/** An ssh-ed25519 public key blob: string "ssh-ed25519" + string(32-byte key). */
function ed25519Blob(): Buffer {
  const { publicKey } = generateKeyPairSync("ed25519");
  const raw = publicKey.export({ format: "der", type: "spki" }).subarray(-32);
  const str = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  return Buffer.concat([str(Buffer.from("ssh-ed25519")), str(raw)]);
}

const keyA = ed25519Blob();
const keyB = ed25519Blob();
const line = (names: string, key: Buffer) => `${names} ssh-ed25519 ${key.toString("base64")}`;

describe("known_hosts", () => {
  it("names non-22 ports as [host]:port", () => {
    assert.equal(knownHostsName("Web-1", 22), "web-1");
    assert.equal(knownHostsName("127.0.0.1", 2222), "[127.0.0.1]:2222");
  });

  it("trusts a plain entry, by port form, and ignores comments and malformed lines", () => {
    const entries = parseKnownHosts(
      ["# comment", "", "garbage", line("web-1,10.0.0.1", keyA), line("[10.0.0.1]:2222", keyB), "host ssh-rsa !!notbase64"].join("\n"),
    );
    assert.equal(entries.length, 2);
    assert.equal(checkHostKey(entries, "web-1", 22, keyA).status, "trusted");
    assert.equal(checkHostKey(entries, "10.0.0.1", 22, keyA).status, "trusted");
    assert.equal(checkHostKey(entries, "10.0.0.1", 2222, keyB).status, "trusted");
    // The port-22 entry does not vouch for port 2222 and vice versa.
    assert.equal(checkHostKey(entries, "web-1", 2222, keyA).status, "unknown");
  });

  it("reports a changed key with both fingerprints, and an unknown host", () => {
    const entries = parseKnownHosts(line("[127.0.0.1]:2200", keyA));
    const changed = checkHostKey(entries, "127.0.0.1", 2200, keyB);
    assert.equal(changed.status, "changed");
    const msg = describeVerdict(changed, "127.0.0.1", 2200, keyB, ["/k/known_hosts"]);
    assert.match(msg, /\[127\.0\.0\.1\]:2200/);
    assert.ok(msg.includes(fingerprint(keyB)) && msg.includes(fingerprint(keyA)), msg);
    assert.match(msg, /CHANGED.*refusing/);
    const unknown = checkHostKey(entries, "other", 22, keyA);
    assert.equal(unknown.status, "unknown");
    assert.match(describeVerdict(unknown, "other", 22, keyA, ["/k/known_hosts"]), /other is not in \/k\/known_hosts.*SHA256:/);
  });

  it("matches hashed entries (HMAC-SHA1 keyed by the salt) including the [host]:port form", () => {
    const salt = Buffer.alloc(20, 7);
    const entries = parseKnownHosts(
      [line(hashKnownHostsName("web-1", salt), keyA), line(hashKnownHostsName("[127.0.0.1]:2222", salt), keyB)].join("\n"),
    );
    assert.ok(entries.every((e) => e.hashed));
    assert.equal(checkHostKey(entries, "web-1", 22, keyA).status, "trusted");
    assert.equal(checkHostKey(entries, "WEB-1", 22, keyA).status, "trusted");
    assert.equal(checkHostKey(entries, "127.0.0.1", 2222, keyB).status, "trusted");
    assert.equal(checkHostKey(entries, "web-2", 22, keyA).status, "unknown");
    assert.equal(checkHostKey(entries, "web-1", 22, keyB).status, "changed");
  });

  it("reads entries hashed by the real ssh-keygen -H", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "kh-"));
    try {
      const file = path.join(dir, "known_hosts");
      writeFileSync(file, [line("localhost", keyA), line("[127.0.0.1]:2222", keyB)].join("\n") + "\n");
      const r = spawnSync("ssh-keygen", ["-H", "-f", file], { encoding: "utf8" });
      assert.equal(r.status, 0, r.stderr);
      const entries = parseKnownHosts(readFileSync(file, "utf8"));
      assert.equal(entries.length, 2);
      assert.ok(entries.every((e) => e.hashed !== undefined), "ssh-keygen wrote |1| entries");
      assert.equal(checkHostKey(entries, "localhost", 22, keyA).status, "trusted");
      assert.equal(checkHostKey(entries, "127.0.0.1", 2222, keyB).status, "trusted");
      assert.equal(checkHostKey(entries, "127.0.0.1", 22, keyB).status, "unknown");
      // And ours is what ssh-keygen -F finds.
      writeFileSync(file, line(hashKnownHostsName("[10.1.2.3]:2022", Buffer.alloc(20, 9)), keyA) + "\n");
      const found = spawnSync("ssh-keygen", ["-F", "[10.1.2.3]:2022", "-f", file], { encoding: "utf8" });
      assert.equal(found.status, 0, `ssh-keygen -F did not find our hashed entry: ${found.stdout}${found.stderr}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("honours wildcards, negation, @revoked and skips @cert-authority", () => {
    const entries = parseKnownHosts(
      [line("*.example.com,!bad.example.com", keyA), `@revoked ${line("rev.example.com", keyA)}`, `@cert-authority ${line("*", keyB)}`].join("\n"),
    );
    assert.equal(checkHostKey(entries, "a.example.com", 22, keyA).status, "trusted");
    assert.equal(checkHostKey(entries, "bad.example.com", 22, keyA).status, "unknown");
    assert.equal(checkHostKey(entries, "rev.example.com", 22, keyA).status, "revoked");
    assert.equal(checkHostKey(entries, "x.other", 22, keyB).status, "unknown");
  });

  it("fingerprints like ssh-keygen -l and reads the key type", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "fp-"));
    try {
      const file = path.join(dir, "key.pub");
      writeFileSync(file, `ssh-ed25519 ${keyA.toString("base64")} test\n`);
      const r = spawnSync("ssh-keygen", ["-l", "-E", "sha256", "-f", file], { encoding: "utf8" });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.split(" ")[1], fingerprint(keyA));
      assert.equal(keyTypeOf(keyA), "ssh-ed25519");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
