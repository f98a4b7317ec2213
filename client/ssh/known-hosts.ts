// known_hosts: parsing and host-key checking (pure). Plain host patterns (with * ? and !negation), hashed
// `|1|salt|hash` entries (HMAC-SHA1 of the looked-up name keyed by the salt), `[host]:port` names for ports other
// than 22, and @revoked markers. @cert-authority lines are kept but never match: certificates are not supported.
import { createHash, createHmac, timingSafeEqual } from "node:crypto";

export interface KnownHostsEntry {
  marker?: "cert-authority" | "revoked";
  /** Plain patterns (lower-cased), or one hashed name. */
  patterns: string[];
  hashed?: { salt: Buffer; hash: Buffer };
  keyType: string;
  key: Buffer;
  /** 1-based line number in its file, for messages. */
  line: number;
}

/** Parses known_hosts text; malformed lines are skipped, as OpenSSH does. */
export function parseKnownHosts(text: string): KnownHostsEntry[] {
  const entries: KnownHostsEntry[] = [];
  text.split("\n").forEach((raw, index) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const fields = line.split(/\s+/);
    let marker: KnownHostsEntry["marker"];
    if (fields[0]?.startsWith("@")) {
      const m = fields.shift()!.slice(1);
      if (m !== "cert-authority" && m !== "revoked") return;
      marker = m;
    }
    const [names, keyType, keyB64] = fields;
    if (!names || !keyType || !keyB64) return;
    const key = Buffer.from(keyB64, "base64");
    if (key.length === 0 || keyTypeOf(key) !== keyType) return;
    const entry: KnownHostsEntry = { patterns: [], keyType, key, line: index + 1, ...(marker ? { marker } : {}) };
    if (names.startsWith("|1|")) {
      const [salt, hash] = names.slice(3).split("|");
      if (!salt || !hash) return;
      entry.hashed = { salt: Buffer.from(salt, "base64"), hash: Buffer.from(hash, "base64") };
    } else {
      entry.patterns = names.toLowerCase().split(",").filter((p) => p !== "");
    }
    entries.push(entry);
  });
  return entries;
}

/** The name known_hosts stores for a host: `host` on port 22, else `[host]:port`. */
export function knownHostsName(host: string, port: number): string {
  const h = host.toLowerCase();
  return port === 22 ? h : `[${h}]:${port}`;
}

/** The hash of a hashed known_hosts name: HMAC-SHA1 of the name keyed by the salt. */
function nameHash(name: string, salt: Buffer): Buffer {
  return createHmac("sha1", salt).update(name).digest();
}

/** The key type named inside an SSH public key blob (its first string), e.g. "ssh-ed25519". */
export function keyTypeOf(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const len = blob.readUInt32BE(0);
  if (len === 0 || len > 64 || 4 + len > blob.length) return undefined;
  return blob.subarray(4, 4 + len).toString("latin1");
}

/** OpenSSH's fingerprint: "SHA256:" + unpadded base64 of the key blob's SHA-256. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
}

export type HostKeyVerdict =
  | { status: "trusted"; entry: KnownHostsEntry }
  | { status: "revoked"; entry: KnownHostsEntry }
  /** known_hosts names this host but with other keys (which are listed). */
  | { status: "changed"; known: KnownHostsEntry[] }
  | { status: "unknown" };

export function checkHostKey(entries: readonly KnownHostsEntry[], host: string, port: number, key: Buffer): HostKeyVerdict {
  const name = knownHostsName(host, port);
  const forHost = entries.filter((e) => e.marker !== "cert-authority" && entryMatches(e, name));
  const same = forHost.filter((e) => e.key.equals(key));
  const revoked = same.find((e) => e.marker === "revoked");
  if (revoked) return { status: "revoked", entry: revoked };
  const trusted = same[0];
  if (trusted) return { status: "trusted", entry: trusted };
  const known = forHost.filter((e) => e.marker === undefined);
  return known.length > 0 ? { status: "changed", known } : { status: "unknown" };
}

/** Does a known_hosts entry name `name` (already in known_hosts form, lower-case)? */
function entryMatches(entry: KnownHostsEntry, name: string): boolean {
  if (entry.hashed) {
    const computed = nameHash(name, entry.hashed.salt);
    return computed.length === entry.hashed.hash.length && timingSafeEqual(computed, entry.hashed.hash);
  }
  let matched = false;
  for (const pattern of entry.patterns) {
    const negated = pattern.startsWith("!");
    if (globMatch(negated ? pattern.slice(1) : pattern, name)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

/** ssh's pattern language: `*` any run, `?` one character; everything else literal. */
function globMatch(pattern: string, text: string): boolean {
  const re = new RegExp(
    `^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`,
    "s",
  );
  return re.test(text);
}

/** One line for a refusal: names the host, the key type and its fingerprint, and what to do. */
export function describeVerdict(verdict: HostKeyVerdict, host: string, port: number, key: Buffer, files: string[]): string {
  const who = knownHostsName(host, port);
  const offered = `${keyTypeOf(key) ?? "unknown-type"} key ${fingerprint(key)}`;
  const where = files.join(", ") || "(no known_hosts file)";
  switch (verdict.status) {
    case "trusted":
      return `host key for ${who} is trusted (${offered})`;
    case "revoked":
      return `host key for ${who} is REVOKED in known_hosts (line ${verdict.entry.line}): ${offered}; refusing to connect`;
    case "changed": {
      const known = verdict.known.map((e) => `${e.keyType} ${fingerprint(e.key)} (line ${e.line})`).join(", ");
      return `host key for ${who} has CHANGED: the server offered ${offered} but ${where} has ${known}; refusing to connect (possible man-in-the-middle; if the key was rotated, fix the entry with ssh-keygen -R)`;
    }
    case "unknown":
      return `host key for ${who} is not in ${where}: the server offered ${offered}; refusing to connect (verify the fingerprint, then add it, e.g. ssh-keyscan -p ${port} ${host} >> known_hosts)`;
  }
}
