// What a benchmark needs to run gopsd as deployed: a fresh CA and server certificate for 127.0.0.1, an HS256 key,
// a token signed with it, and the gopsd flags that use them. Shared by bench/gopsd.ts and the fleet simulator.
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { signToken, signingKey, type Scope } from "../common/token.js";

export interface SecureSetup {
  dir: string;
  caFile: string;
  token: string;
  /** gopsd flags: TLS, JWT verification, an audit file, and limits lifted for one subject on one address. */
  gopsdArgs: string[];
}

export function secureSetup(prefix: string, scopes: Scope[]): SecureSetup {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "ignore" });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  openssl("req", "-x509", ...ec, "-days", "1", "-subj", "/CN=gopsctl bench CA", "-keyout", "ca.key", "-out", "ca.pem");
  openssl("req", ...ec, "-subj", "/CN=localhost", "-keyout", "server.key", "-out", "server.csr");
  writeFileSync(path.join(dir, "ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
  openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "1", "-extfile", "ext", "-out", "server.pem");
  const secret = Buffer.from("bench-secret-bench-secret-bench-secret!!");
  writeFileSync(path.join(dir, "hs.key"), secret, { mode: 0o600 });
  const token = signToken(signingKey(secret, "HS256", "bench"), { alg: "HS256", issuer: "bench", audience: "gopsd", subject: "bench", scopes, ttlSec: 3600 });
  const gopsdArgs = [
    "--listen", "127.0.0.1:0",
    "--tls-cert", path.join(dir, "server.pem"),
    "--tls-key", path.join(dir, "server.key"),
    "--auth-algorithms", "HS256",
    "--auth-hs-secret-file", path.join(dir, "hs.key"),
    "--auth-issuer", "bench",
    "--auth-audience", "gopsd",
    "--audit-file", path.join(dir, "audit.log"),
    // One subject makes every call here (standing for many operators): per-subject limits are not what is measured.
    "--limits-rate-per-second", "1000000",
    "--limits-burst", "1000000",
    "--limits-max-concurrent-per-subject", "1000000",
    // Every client here connects from 127.0.0.1, standing for as many machines.
    "--limits-max-connections", "4096",
    "--limits-max-connections-per-source", "4096",
  ];
  return { dir, caFile: path.join(dir, "ca.pem"), token, gopsdArgs };
}
