// Test helper: hashed known_hosts names, written independently of the matcher in known-hosts.ts so a test that
// checks one against the other can fail.
import { createHmac } from "node:crypto";

/** `|1|salt|hash` for `name`, as `ssh-keygen -H` writes it (HMAC-SHA1 of the name keyed by the salt). */
export function hashKnownHostsName(name: string, salt: Buffer): string {
  return `|1|${salt.toString("base64")}|${createHmac("sha1", salt).update(name).digest("base64")}`;
}
