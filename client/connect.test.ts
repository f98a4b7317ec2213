// connect(): addresses, unreachable wording, and TLS/mTLS + bearer token against real nice-grpc servers on
// 127.0.0.1:0. Certificates are made by the openssl CLI at set-up.
import { execFileSync } from "node:child_process";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { ServerCredentials } from "@grpc/grpc-js";
import { ClientError, Metadata, Status, createServer, type CallContext, type Server } from "nice-grpc";
import { certSubjectOf, peerCertInterceptor } from "../server/auth/index.js";
import { DiagnosticsServiceDefinition } from "../proto/index.js";
import { portNobodyListensOn } from "../integration/ports.js";
import { channelAddress, connect, describeUnreachable, isLocalTarget } from "./connect.js";
import { CredentialsError } from "./credentials-error.js";
import { scriptedService } from "./scripted-service.testkit.js";
import { TlsCredentialsCache } from "./tls-credentials.js";
import { readTokenFile } from "./token-file.js";

test("unix targets become grpc-js unix URIs; IP addresses go to the ipv4:/ipv6: resolvers; names stay", () => {
  assert.equal(channelAddress("unix:/run/gopsd.sock"), "unix:///run/gopsd.sock");
  assert.equal(channelAddress("unix:///run/gopsd.sock"), "unix:///run/gopsd.sock");
  assert.equal(channelAddress("127.0.0.1:4677"), "ipv4:127.0.0.1:4677");
  assert.equal(channelAddress("[::1]:4677"), "ipv6:[::1]:4677");
  assert.equal(channelAddress("gopsd.example:4677"), "gopsd.example:4677");
  assert.equal(channelAddress("localhost:4677"), "localhost:4677");
});

test("grpc-js connection failures are reworded to name the gopsd; certificate failures say so", () => {
  assert.equal(
    describeUnreachable("127.0.0.1:1", "No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:1. Resolution note: "),
    "gopsd at 127.0.0.1:1 is unreachable: connect ECONNREFUSED 127.0.0.1:1",
  );
  assert.equal(
    describeUnreachable(
      "h:1",
      "No connection established. Last error: Error [ERR_TLS_CERT_ALTNAME_INVALID]: Hostname/IP does not match certificate's altnames: Host: x. is not in the cert's altnames: DNS:y. Resolution note: ",
    ),
    "gopsd at h:1 is unreachable: TLS certificate check failed: Hostname/IP does not match certificate's altnames: Host: x. is not in the cert's altnames: DNS:y",
  );
  assert.equal(describeUnreachable("x", "agent at 1.2.3.4 is unreachable"), undefined);
});

test("a call to a closed port fails at once with UNAVAILABLE naming the target", async () => {
  const port = await portNobodyListensOn();
  const client = connect(`127.0.0.1:${port}`);
  try {
    await assert.rejects(client.listProcesses({}, { deadline: 5000 }), (e: unknown) => {
      assert.ok(e instanceof ClientError);
      assert.equal(e.code, Status.UNAVAILABLE);
      assert.match(e.details, new RegExp(`^gopsd at 127\\.0\\.0\\.1:${port} is unreachable: .*ECONNREFUSED`));
      return true;
    });
  } finally {
    client.close();
  }
});

test("loopback and unix targets are local; anything else is not", () => {
  for (const t of ["unix:/run/gopsd.sock", "127.0.0.1:4677", "127.1.2.3:1", "localhost:4677", "LOCALHOST", "[::1]:4677", "::1"]) assert.ok(isLocalTarget(t), t);
  for (const t of ["10.0.0.1:4677", "gopsd.example:4677", "[2001:db8::1]:4677", "128.0.0.1:1", "dns:///127.0.0.1:1", "localhost.evil.example:1"]) {
    assert.ok(!isLocalTarget(t), t);
  }
});

test("a token is never sent in clear text off the machine; an unsendable token is refused without echoing it", async () => {
  assert.throws(() => connect("10.0.0.1:4677", { token: "secret-token" }), (e: unknown) => {
    assert.ok(e instanceof CredentialsError);
    assert.equal(e.message, "refusing to send a token to 10.0.0.1:4677 without TLS");
    return true;
  });
  const client = connect("127.0.0.1:1", { token: "secret\ntoken" });
  try {
    await assert.rejects(client.version({ pid: 1 }, { deadline: 5000 }), (e: unknown) => {
      assert.ok(e instanceof CredentialsError);
      assert.doesNotMatch(e.message, /secret/);
      return true;
    });
  } finally {
    client.close();
  }
});

describe("TLS, mTLS and the bearer token", () => {
  let dir: string;
  const pem: Record<string, Buffer> = {};
  const servers: Server[] = [];
  let tlsPort: number;
  let mtlsPort: number;
  let plainPort: number;

  const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });

  /** version() answers with what the server saw, as JSON in goVersion. */
  const seen = (ctx: CallContext) =>
    JSON.stringify({
      authorization: ctx.metadata.get("authorization") ?? null,
      requestId: ctx.metadata.get("x-request-id") ?? null,
      certSubject: certSubjectOf(ctx) ?? null,
    });
  const impl = scriptedService({
    async version(_req, ctx) {
      return { goVersion: seen(ctx) };
    },
    async *stack(_req, ctx) {
      yield { chunk: Buffer.from(seen(ctx)) };
    },
  });

  async function serve(credentials: ServerCredentials): Promise<number> {
    const server = createServer({ interceptors: [peerCertInterceptor] });
    server.add(DiagnosticsServiceDefinition, impl);
    servers.push(server);
    return server.listen("127.0.0.1:0", credentials);
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "gopsctl-tls-"));
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
    openssl("req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=test-ca", "-days", "1");
    openssl("req", "-x509", ...ec, "-keyout", "other-ca.key", "-out", "other-ca.pem", "-subj", "/CN=other-ca", "-days", "1");
    await writeFile(join(dir, "san.ext"), "subjectAltName=DNS:gopsd.test\n");
    for (const [name, subj, ca] of [["server", "/CN=gopsd", "ca"], ["client", "/O=ops/CN=alice", "ca"], ["stranger", "/CN=mallory", "other-ca"]] as const) {
      openssl("req", ...ec, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", subj);
      openssl("x509", "-req", "-in", `${name}.csr`, "-CA", `${ca}.pem`, "-CAkey", `${ca}.key`, "-CAcreateserial",
        "-out", `${name}.pem`, "-days", "1", "-extfile", "san.ext");
    }
    for (const f of ["ca.pem", "other-ca.pem", "server.key", "server.pem", "client.key", "client.pem", "stranger.key", "stranger.pem"]) pem[f] = await readFile(join(dir, f));
    const keyCert = [{ cert_chain: pem["server.pem"]!, private_key: pem["server.key"]! }];
    tlsPort = await serve(ServerCredentials.createSsl(null, keyCert, false));
    mtlsPort = await serve(ServerCredentials.createSsl(pem["ca.pem"]!, keyCert, true));
    plainPort = await serve(ServerCredentials.createInsecure());
  });

  after(async () => {
    for (const s of servers) s.forceShutdown();
    await rm(dir, { recursive: true, force: true });
  });

  async function seenBy(target: string, opts: Parameters<typeof connect>[1], callOpts: { metadata?: Metadata } = {}) {
    const client = connect(target, opts);
    try {
      return JSON.parse((await client.version({ pid: 1 }, { deadline: 5000, ...callOpts })).goVersion) as Record<string, string | null>;
    } finally {
      client.close();
    }
  }

  async function refusal(target: string, opts: Parameters<typeof connect>[1]): Promise<ClientError> {
    const client = connect(target, opts);
    try {
      await client.version({ pid: 1 }, { deadline: 5000 });
    } catch (e) {
      assert.ok(e instanceof ClientError, String(e));
      return e;
    } finally {
      client.close();
    }
    assert.fail("the call succeeded");
  }

  test("over TLS the server sees the bearer header, next to the caller's own metadata, which is not mutated", async () => {
    const callerMetadata = Metadata({ "x-request-id": "r-1" });
    const s = await seenBy(`127.0.0.1:${tlsPort}`, { tls: { ca: pem["ca.pem"]!, serverName: "gopsd.test" }, token: "tok.en.1" }, { metadata: callerMetadata });
    assert.deepEqual(s, { authorization: "Bearer tok.en.1", requestId: "r-1", certSubject: null });
    assert.equal(callerMetadata.has("authorization"), false);
    assert.deepEqual([...callerMetadata].map(([k]) => k), ["x-request-id"]);
  });

  test("a caller's own authorization metadata is replaced, not doubled", async () => {
    const s = await seenBy(`127.0.0.1:${tlsPort}`, { tls: { ca: pem["ca.pem"]!, serverName: "gopsd.test" }, token: "mine" }, { metadata: Metadata({ authorization: "Bearer theirs" }) });
    assert.equal(s["authorization"], "Bearer mine");
  });

  test("a token function is asked before every call, unary and streaming; CA and token may come from files", async () => {
    await writeFile(join(dir, "ca-file.pem"), pem["ca.pem"]!);
    let n = 0;
    const client = connect(`127.0.0.1:${tlsPort}`, {
      tls: { ca: join(dir, "ca-file.pem"), serverName: "gopsd.test" },
      token: async () => `t${++n}`,
    });
    try {
      const a = JSON.parse((await client.version({ pid: 1 }, { deadline: 5000 })).goVersion);
      const chunks: Buffer[] = [];
      for await (const c of client.stack({ pid: 1 }, { deadline: 5000 })) chunks.push(Buffer.from(c.chunk));
      const b = JSON.parse(Buffer.concat(chunks).toString());
      assert.equal(a.authorization, "Bearer t1");
      assert.equal(b.authorization, "Bearer t2");
    } finally {
      client.close();
    }
    const tokenFile = join(dir, "token");
    await writeFile(tokenFile, "from.file.tok\n", { mode: 0o600 });
    const s = await seenBy(`127.0.0.1:${tlsPort}`, { tls: { ca: pem["ca.pem"]!, serverName: "gopsd.test" }, token: () => readTokenFile(tokenFile) });
    assert.equal(s["authorization"], "Bearer from.file.tok");
  });

  test("without a token no authorization header is sent (plain TCP on loopback)", async () => {
    assert.deepEqual(await seenBy(`127.0.0.1:${plainPort}`, {}), { authorization: null, requestId: null, certSubject: null });
    assert.equal((await seenBy(`localhost:${plainPort}`, { token: "loopback-ok" }))["authorization"], "Bearer loopback-ok");
  });

  test("mTLS: the client certificate is presented; without one, or with one from another CA, the server refuses", async () => {
    const s = await seenBy(`127.0.0.1:${mtlsPort}`, {
      tls: { ca: pem["ca.pem"]!, cert: pem["client.pem"]!, key: pem["client.key"]!, serverName: "gopsd.test" },
      token: "t",
    });
    assert.equal(s["certSubject"], "O=ops,CN=alice");
    const e = await refusal(`127.0.0.1:${mtlsPort}`, { tls: { ca: pem["ca.pem"]!, serverName: "gopsd.test" } });
    assert.equal(e.code, Status.UNAVAILABLE);
    const f = await refusal(`127.0.0.1:${mtlsPort}`, {
      tls: { ca: pem["ca.pem"]!, cert: pem["stranger.pem"]!, key: pem["stranger.key"]!, serverName: "gopsd.test" },
    });
    assert.equal(f.code, Status.UNAVAILABLE);
  });

  test("a gopsd certificate from another CA (or not in the system roots) is refused with a clear UNAVAILABLE", async () => {
    for (const tls of [{ ca: pem["other-ca.pem"]!, serverName: "gopsd.test" }, { serverName: "gopsd.test" }]) {
      const e = await refusal(`127.0.0.1:${tlsPort}`, { tls, token: "never-shown" });
      assert.equal(e.code, Status.UNAVAILABLE);
      // gopsd sends its certificate without the CA, so OpenSSL has no issuer to check it against.
      assert.equal(e.details, `gopsd at 127.0.0.1:${tlsPort} is unreachable: TLS certificate check failed: unable to verify the first certificate`);
    }
  });

  test("the certificate must name the server: serverName is what is checked", async () => {
    const e = await refusal(`127.0.0.1:${tlsPort}`, { tls: { ca: pem["ca.pem"]!, serverName: "other.test" } });
    assert.equal(e.code, Status.UNAVAILABLE);
    assert.match(e.details, /^gopsd at 127\.0\.0\.1:\d+ is unreachable: TLS certificate check failed: Hostname\/IP does not match certificate's altnames: Host: other\.test\. /);
  });

  test("TLS to a plain-text gopsd fails as unreachable", async () => {
    const e = await refusal(`127.0.0.1:${plainPort}`, { tls: { ca: pem["ca.pem"]!, serverName: "gopsd.test" } });
    assert.equal(e.code, Status.UNAVAILABLE);
    assert.match(e.details, /^gopsd at 127\.0\.0\.1:\d+ is unreachable: /);
  });

  test("a TlsCredentialsCache shares one secure context per TLS material; each connection still checks its server", async () => {
    const cache = new TlsCredentialsCache();
    const caFile = join(dir, "ca-shared.pem");
    await writeFile(caFile, pem["ca.pem"]!);
    const a = { ca: caFile, serverName: "gopsd.test" };
    assert.equal(cache.get(a), cache.get({ ca: caFile, serverName: "other.test" }), "the server name is not part of the context");
    assert.notEqual(cache.get(a), cache.get({ ca: pem["other-ca.pem"]!, serverName: "gopsd.test" }));
    assert.notEqual(cache.get(a), cache.get({ ca: caFile, cert: pem["client.pem"]!, key: pem["client.key"]!, serverName: "gopsd.test" }));
    assert.deepEqual(await seenBy(`127.0.0.1:${tlsPort}`, { tls: a, tlsCache: cache, token: "shared" }), { authorization: "Bearer shared", requestId: null, certSubject: null });
    const mtls = { ca: caFile, cert: pem["client.pem"]!, key: pem["client.key"]!, serverName: "gopsd.test" };
    assert.equal((await seenBy(`127.0.0.1:${mtlsPort}`, { tls: mtls, tlsCache: cache }))["certSubject"], "O=ops,CN=alice");
    const wrongName = await refusal(`127.0.0.1:${tlsPort}`, { tls: { ca: caFile, serverName: "other.test" }, tlsCache: cache });
    assert.match(wrongName.details, /TLS certificate check failed: Hostname\/IP does not match/);
    assert.throws(() => cache.get({ ca: caFile, serverName: "not a name" }), { name: "CredentialsError" });
  });

  test("unusable TLS material is a CredentialsError naming the file", async () => {
    const missing = join(dir, "nope.pem");
    assert.throws(() => connect("h:1", { tls: { ca: missing } }), { name: "CredentialsError", message: `cannot read CA certificate ${missing}: ENOENT` });
    assert.throws(() => connect("h:1", { tls: { cert: pem["client.pem"]! } }), { message: "a TLS client certificate needs its key" });
    assert.throws(() => connect("h:1", { tls: { key: pem["client.key"]! } }), { message: "a TLS client key needs its certificate" });
    const garbage = join(dir, "garbage.pem");
    await writeFile(garbage, "not a certificate\n");
    await chmod(garbage, 0o644);
    assert.throws(() => connect("h:1", { tls: { ca: garbage } }), (e: unknown) => e instanceof CredentialsError && e.message.startsWith(`CA certificate ${garbage} is not a PEM certificate: `));
    assert.throws(() => connect("h:1", { tls: { cert: pem["client.pem"]!, key: Buffer.from("nope") } }), (e: unknown) => e instanceof CredentialsError && e.message.startsWith("client key (given in memory) is not an unencrypted PEM private key: "));
    await writeFile(join(dir, "client.pem.copy"), pem["client.pem"]!);
    assert.throws(
      () => connect("h:1", { tls: { cert: join(dir, "client.pem.copy"), key: pem["server.key"]! } }),
      (e: unknown) => e instanceof CredentialsError && /^unusable TLS material \(from certificate .*client\.pem\.copy\): .*mismatch/.test(e.message),
    );
  });
});
