// gopsd's API as a client that is not this project's meets it: Debian's python3-grpcio and python3-protobuf, with
// stubs generated here by Debian's protoc and grpc_python_plugin (integration/python-client/gopsd_client.py), against
// a real gopsd with token auth and a real Go program with a gops agent. The client lists services through reflection
// v1 and v1alpha and resolves every listed one by symbol and by file, calls Health/Check through message classes it
// builds from the FileDescriptorProtos reflection returned (no local health .proto), makes a unary and a streaming
// Diagnostics call with a token, and reads the ErrorInfo (and RetryInfo) of failing calls.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { createToken } from "../common/token.testkit.js";
import { startFixture, startGopsd, type Fixture, type Gopsd } from "./harness.js";

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, "..");
/** Debian's, not whatever python3 comes first on PATH (a pyenv one has no python3-grpcio). */
const PYTHON = "/usr/bin/python3";
const PROTOC = "/usr/bin/protoc";
const GRPC_PYTHON_PLUGIN = "/usr/bin/grpc_python_plugin";
const ISS = "https://issuer.api-py.test";
const AUD = "gopsd";

interface ErrorReport {
  code: string;
  message?: string;
  statusCode?: number;
  statusMessage?: string;
  errorInfo?: { reason: string; domain: string; metadata: Record<string, string> };
  retryDelayMs?: number;
}
interface ReflectionReport {
  error?: string;
  services: string[];
  bySymbol: Record<string, { file?: string; defines?: boolean; error?: string }>;
  byFile: Record<string, { name?: string; services?: string[]; error?: string }>;
}
interface Report {
  reflection: { v1: ReflectionReport; v1alpha: ReflectionReport };
  health: { method: string; status: string } | { error: string };
  unary: { pids: number[]; host: string; error?: string };
  streaming: { bytes: number; head: string; error?: string };
  notFound: ErrorReport;
  scopeMissing: ErrorReport;
  fixedDuration: ErrorReport;
}

/** A pid no process has now (high in the pid range, checked against /proc). */
function missingPid(): number {
  for (let pid = 4_194_000; pid > 4_000_000; pid--) if (!existsSync(`/proc/${pid}`)) return pid;
  throw new Error("no free pid found");
}

/** Python stubs from Debian's protoc: gops (from its .proto), reflection v1/v1alpha, google.rpc Status/ErrorInfo/RetryInfo. */
async function generateStubs(dir: string): Promise<string> {
  const out = path.join(dir, "stubs");
  const src = path.join(dir, "src");
  await mkdir(out, { recursive: true });
  // Reflection's files go in under other directory names: a top-level "grpc" directory on sys.path would shadow
  // the grpc package itself. The package (grpc.reflection.v1, the method paths) is what the .proto says.
  for (const v of ["v1", "v1alpha"]) {
    await mkdir(path.join(src, `reflection_${v}`), { recursive: true });
    await copyFile(path.join(root, `proto/std/grpc/reflection/${v}/reflection.proto`), path.join(src, `reflection_${v}/reflection.proto`));
  }
  const grpcPlugin = `--plugin=protoc-gen-grpc_python=${GRPC_PYTHON_PLUGIN}`;
  await run(PROTOC, ["-I", path.join(root, "proto"), "-I", src, `--python_out=${out}`, `--grpc_python_out=${out}`, grpcPlugin,
    "gops/v1/diagnostics.proto", "reflection_v1/reflection.proto", "reflection_v1alpha/reflection.proto"], { timeout: 60_000 });
  // google/rpc imports google/protobuf/{any,duration}.proto, whose sources Debian ships only in libprotobuf-dev: protoc
  // reads them as descriptors instead, taken from python3-protobuf's own compiled copies.
  const wkt = path.join(dir, "wkt.binpb");
  await run(PYTHON, ["-c", [
    "import sys",
    "from google.protobuf import any_pb2, duration_pb2, descriptor_pb2",
    "s = descriptor_pb2.FileDescriptorSet()",
    "[m.DESCRIPTOR.CopyToProto(s.file.add()) for m in (any_pb2, duration_pb2)]",
    "open(sys.argv[1], 'wb').write(s.SerializeToString())",
  ].join("\n"), wkt], { timeout: 60_000 });
  await run(PROTOC, [`--descriptor_set_in=${wkt}`, "-I", path.join(root, "proto/std"), `--python_out=${out}`, "google/rpc/status.proto", "google/rpc/error_details.proto"], { timeout: 60_000 });
  return out;
}

describe("an independent client (Debian python3-grpcio, protoc stubs) against a real gopsd", { timeout: 180_000 }, () => {
  let dir: string;
  let gopsd: Gopsd;
  let fixture: Fixture;
  let report: Report;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "gopsctl-api-py-"));
    const secretFile = path.join(dir, "hs256.secret");
    await writeFile(secretFile, "an-api-python-test-secret-of-32-bytes-or-more", { mode: 0o600 });
    const [stubs, started, agent] = await Promise.all([
      generateStubs(dir),
      startGopsd({ args: ["--host-name", "api-py", "--auth-algorithms", "HS256", "--auth-hs-secret-file", secretFile, "--auth-issuer", ISS, "--auth-audience", AUD] }),
      startFixture("agentprog"),
    ]);
    gopsd = started;
    fixture = agent;
    const token = (scopes: string[]) => createToken({ keyFile: secretFile, alg: "HS256", issuer: ISS, audience: AUD, subject: "python", scopes, ttlSec: 600 });
    const { stdout } = await run(
      PYTHON,
      [path.join(root, "integration/python-client/gopsd_client.py"), gopsd.address, stubs, String(fixture.pid), String(missingPid())],
      {
        env: { PATH: "/usr/bin:/bin", GOPSD_TOKEN: token(["gops:read", "gops:stack", "gops:profile"]), GOPSD_WEAK_TOKEN: token(["gops:read"]) },
        timeout: 120_000,
        maxBuffer: 4 * 1024 * 1024,
      },
    );
    report = JSON.parse(stdout) as Report;
  });

  after(async () => {
    await Promise.all([gopsd?.stop(), fixture?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const LISTED = ["gops.v1.DiagnosticsService", "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"];

  for (const version of ["v1", "v1alpha"] as const) {
    it(`reflection ${version}: lists every service and resolves each by symbol and by file (with the files it imports)`, () => {
      const r = report.reflection[version];
      assert.equal(r.error, undefined, r.error);
      assert.deepEqual(r.services, LISTED);
      for (const name of LISTED) {
        const s = r.bySymbol[name]!;
        assert.equal(s.error, undefined, `${name}: ${s.error}`);
        assert.equal(s.defines, true, `${name} is defined in ${s.file}`);
        const f = r.byFile[s.file!]!;
        assert.equal(f.error, undefined, `${s.file}: ${f.error}`);
        assert.ok(f.services!.includes(name.slice(name.lastIndexOf(".") + 1)), `${s.file} by file name holds ${name}`);
      }
      for (const [file, f] of Object.entries(r.byFile)) assert.equal(f.error, undefined, `${file}: ${f.error}`);
      assert.equal(r.bySymbol["grpc.health.v1.Health"]!.file, "grpc/health/v1/health.proto");
    });
  }

  it("Health/Check through message classes built from reflection's descriptors: SERVING", () => {
    assert.deepEqual(report.health, { method: "/grpc.health.v1.Health/Check", status: "SERVING" });
  });

  it("a unary call (ListProcesses) and a streaming call (Stack) with a token", () => {
    assert.equal(report.unary.error, undefined, report.unary.error);
    assert.equal(report.streaming.error, undefined, report.streaming.error);
    assert.equal(report.unary.host, "api-py");
    assert.ok(report.unary.pids.includes(fixture.pid), `fixture pid ${fixture.pid} listed`);
    assert.ok(report.streaming.bytes > 0);
    assert.match(report.streaming.head, /^goroutine \d+ /);
  });

  it("failing calls carry google.rpc.Status details: ErrorInfo reason, domain gopsd, metadata; the same code and message", () => {
    const nf = report.notFound;
    assert.equal(nf.code, "NOT_FOUND");
    assert.deepEqual(nf.errorInfo?.reason, "PROCESS_NOT_FOUND");
    assert.equal(nf.errorInfo?.domain, "gopsd");
    assert.match(nf.errorInfo!.metadata.pid!, /^\d+$/);
    assert.equal(nf.statusCode, 5);
    assert.equal(nf.statusMessage, nf.message);

    const scope = report.scopeMissing;
    assert.equal(scope.code, "PERMISSION_DENIED");
    assert.deepEqual(scope.errorInfo, { reason: "SCOPE_MISSING", domain: "gopsd", metadata: { scope: "gops:stack" } });
    assert.equal(scope.retryDelayMs, undefined);

    const fixed = report.fixedDuration;
    assert.equal(fixed.code, "FAILED_PRECONDITION");
    assert.equal(fixed.errorInfo?.reason, "FIXED_DURATION");
    assert.deepEqual(fixed.errorInfo?.metadata, { pid: String(fixture.pid), seconds: "5" });
  });
});
