// mTLS end to end: the interceptor carries the client certificate subject into the audit line, and a client
// cannot forge it through metadata. Certificates are made by the openssl CLI at set-up.
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { ChannelCredentials, ServerCredentials } from "@grpc/grpc-js";
import { Metadata, createChannel, createClient, createServer } from "nice-grpc";
import { HealthDefinition, HealthServiceImpl } from "nice-grpc-server-health";
import type { AuditRecord, AuditSink } from "./audit.js";
import { auditMiddleware } from "./audit-middleware.js";
import { CERT_SUBJECT_METADATA, certSubjectOf, peerCertInterceptor } from "./peer-cert.js";

let dir: string;
const pem: Record<string, Buffer> = {};

function openssl(...args: string[]) {
  execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "gopsd-mtls-"));
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  openssl("req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=test-ca", "-days", "1");
  await writeFile(join(dir, "san.ext"), "subjectAltName=DNS:gopsd.test\n");
  for (const [name, subj] of [["server", "/CN=gopsd"], ["client", "/O=ops/CN=alice"]]) {
    openssl("req", ...ec, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", subj!);
    openssl("x509", "-req", "-in", `${name}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
      "-out", `${name}.pem`, "-days", "1", "-extfile", "san.ext");
  }
  for (const f of ["ca.pem", "server.key", "server.pem", "client.key", "client.pem"]) pem[f] = await readFile(join(dir, f));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function serve(credentials: ServerCredentials) {
  const records: AuditRecord[] = [];
  const sink: AuditSink = { write: (r) => void records.push(r), close: async () => {} };
  const server = createServer({ interceptors: [peerCertInterceptor] }).use(
    auditMiddleware({ hostName: "h", sink, certSubject: certSubjectOf }),
  );
  server.add(HealthDefinition, HealthServiceImpl());
  const port = await server.listen("127.0.0.1:0", credentials);
  return { records, port, close: () => server.forceShutdown() };
}

const forged = { metadata: Metadata({ [CERT_SUBJECT_METADATA]: Buffer.from("CN=root") }) };

describe("peer certificate subject", () => {
  it("reaches the audit line over mTLS and cannot be forged", async () => {
    const s = await serve(ServerCredentials.createSsl(pem["ca.pem"]!, [{ cert_chain: pem["server.pem"]!, private_key: pem["server.key"]! }], true));
    const channel = createChannel(`127.0.0.1:${s.port}`, ChannelCredentials.createSsl(pem["ca.pem"]!, pem["client.key"]!, pem["client.pem"]!), {
      "grpc.ssl_target_name_override": "gopsd.test",
    });
    try {
      const health = createClient(HealthDefinition, channel);
      await health.check({ service: "" });
      await health.check({ service: "" }, forged);
      assert.deepEqual(s.records.map((r) => r.certSubject), ["O=ops,CN=alice", "O=ops,CN=alice"]);
    } finally {
      channel.close();
      s.close();
    }
  });

  it("is null without TLS, even when the client sends the reserved metadata", async () => {
    const s = await serve(ServerCredentials.createInsecure());
    const channel = createChannel(`127.0.0.1:${s.port}`);
    try {
      await createClient(HealthDefinition, channel).check({ service: "" }, forged);
      assert.equal(s.records[0]?.certSubject, null);
    } finally {
      channel.close();
      s.close();
    }
  });
});
