// Status details end to end over real gRPC on loopback: gopsd's error middleware (server/error-middleware.ts) sends
// google.rpc.Status with ErrorInfo and RetryInfo in grpc-status-details-bin; the client library (connect()) reads
// them into GopsdCallError. Also the raw trailer, decoded without the client middleware.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ClientError, Status, createChannel, createClient, createServer, type Metadata, type Server } from "nice-grpc";
import { busy, fixedDuration, limitExceeded, permissionDenied, processNotFound, scopeMissing } from "../common/errors.js";
import type { DiagnosticsHandle } from "../common/diagnostics.js";
import { STATUS_DETAILS_KEY, decodeStatusDetails } from "../common/status-details.js";
import { DiagnosticsServiceDefinition } from "../proto/index.js";
import { errorMiddleware } from "../server/error-middleware.js";
import { connect } from "./connect.js";
import { scriptedService } from "./scripted-service.testkit.js";
import { GopsdCallError, reasonOf } from "./status-details.js";

describe("google.rpc.Status details from gopsd's error middleware to the client library", () => {
  let server: Server;
  let address: string;
  let handle: DiagnosticsHandle;
  const internals: unknown[] = [];

  before(async () => {
    server = createServer().use(errorMiddleware((_m, e) => internals.push(e)));
    server.add(
      DiagnosticsServiceDefinition,
      scriptedService({
        getProcess: async (req) => {
          throw processNotFound(req.pid);
        },
        memStats: async () => {
          throw limitExceeded("rate limit exceeded for alice; retry in 1.5s", "rate", 1500);
        },
        getBuildInfo: async (req) => {
          throw permissionDenied(`reading the executable of pid ${req.pid}`, req.pid);
        },
        version: async () => {
          throw new TypeError("a bug");
        },
        stats: async () => {
          throw scopeMissing("gops:read");
        },
        async *stack(req) {
          yield { chunk: Buffer.from("goroutine 1 [running]:\n") };
          throw busy(req.pid, "a CPU profile is already running (about 12s left)", 12_345);
        },
        async *streamTrace(req) {
          throw fixedDuration(req.pid, "has a gops agent", "traces", 5);
        },
      }),
    );
    address = `127.0.0.1:${await server.listen("127.0.0.1:0")}`;
    handle = connect(address);
  });

  after(async () => {
    handle?.close();
    await server?.shutdown();
  });

  const failure = async (p: Promise<unknown>): Promise<GopsdCallError> => {
    try {
      await p;
    } catch (e) {
      assert.ok(e instanceof GopsdCallError, `a GopsdCallError, got ${String(e)}`);
      assert.ok(e instanceof ClientError, "still a ClientError for code that checks that");
      return e;
    }
    assert.fail("the call succeeded");
  };
  const drain = async (it: AsyncIterable<unknown>) => {
    for await (const _ of it);
  };

  it("a unary failure: code, message, reason, domain and metadata", async () => {
    const e = await failure(handle.getProcess({ pid: 4242 }));
    assert.equal(e.code, Status.NOT_FOUND);
    assert.equal(e.details, "no process with pid 4242 on this host (list them with 'gopsctl ps')");
    assert.equal(e.reason, "PROCESS_NOT_FOUND");
    assert.equal(e.domain, "gopsd");
    assert.deepEqual(e.metadata, { pid: "4242" });
    assert.equal(e.retryDelayMs, undefined);
    assert.equal(reasonOf(e), "PROCESS_NOT_FOUND");
  });

  it("RetryInfo where a retry makes sense, with the delay the error knows", async () => {
    const limit = await failure(handle.memStats({ pid: 1 }));
    assert.equal(limit.code, Status.RESOURCE_EXHAUSTED);
    assert.equal(limit.reason, "LIMIT_REACHED");
    assert.deepEqual(limit.metadata, { limit: "rate" });
    assert.equal(limit.retryDelayMs, 1500);
    // A stream that fails after its first message.
    const capture = await failure(drain(handle.stack({ pid: 77 })));
    assert.equal(capture.reason, "CAPTURE_BUSY");
    assert.deepEqual(capture.metadata, { pid: "77" });
    assert.equal(capture.retryDelayMs, 12_345);
  });

  it("gopsd's own lack of OS rights is FAILED_PRECONDITION / OS_PERMISSION; the caller's is PERMISSION_DENIED / SCOPE_MISSING", async () => {
    const os = await failure(handle.getBuildInfo({ pid: 9 }));
    assert.equal(os.code, Status.FAILED_PRECONDITION);
    assert.equal(os.reason, "OS_PERMISSION");
    assert.deepEqual(os.metadata, { pid: "9" });
    const caller = await failure(handle.stats({ pid: 9 }));
    assert.equal(caller.code, Status.PERMISSION_DENIED);
    assert.equal(caller.reason, "SCOPE_MISSING");
    assert.deepEqual(caller.metadata, { scope: "gops:read" });
  });

  it("FIXED_DURATION for a capture the agent does for a fixed time; INTERNAL for a bug (logged)", async () => {
    const fixed = await failure(drain(handle.streamTrace({ pid: 5, durationSeconds: 7 })));
    assert.equal(fixed.code, Status.FAILED_PRECONDITION);
    assert.equal(fixed.reason, "FIXED_DURATION");
    assert.deepEqual(fixed.metadata, { pid: "5", seconds: "5" });
    assert.equal(fixed.details, "pid 5 has a gops agent, which traces for a fixed 5s: ask for 5s or leave the duration out");
    const bug = await failure(handle.version({ pid: 5 }));
    assert.equal(bug.code, Status.INTERNAL);
    assert.equal(bug.reason, "INTERNAL");
    assert.equal(bug.details, "internal error: a bug");
    assert.equal(internals.length, 1);
  });

  it("the raw trailer is a google.rpc.Status with the same code and message", async () => {
    const channel = createChannel(address);
    try {
      let trailer: Metadata | undefined;
      const raw = createClient(DiagnosticsServiceDefinition, channel);
      await assert.rejects(raw.getProcess({ pid: 31 }, { onTrailer: (t) => (trailer = t) }), ClientError);
      const bytes = trailer?.get(STATUS_DETAILS_KEY);
      assert.ok(bytes instanceof Uint8Array, "grpc-status-details-bin is set");
      assert.deepEqual(decodeStatusDetails(bytes), { reason: "PROCESS_NOT_FOUND", domain: "gopsd", metadata: { pid: "31" } });
    } finally {
      channel.close();
    }
  });
});
