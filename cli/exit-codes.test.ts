import assert from "node:assert/strict";
import { test } from "node:test";
import { ClientError, Status } from "nice-grpc-common";
import { CredentialsError, InventoryError, ModuleQueryError } from "../client/index.js";
import { GopsError } from "../common/errors.js";
import { CallTimeoutError, HostsFailedError, InterruptedError, UsageError } from "./errors.js";
import { describeFailure, ExitCode, exitCodeFor, exitCodeForStatus } from "./exit-codes.js";

test("gRPC statuses map to the documented exit codes", () => {
  const table: [Status, number][] = [
    [Status.NOT_FOUND, 3],
    [Status.FAILED_PRECONDITION, 4],
    [Status.UNAVAILABLE, 5],
    [Status.DEADLINE_EXCEEDED, 6],
    [Status.RESOURCE_EXHAUSTED, 7],
    [Status.UNAUTHENTICATED, 8],
    [Status.PERMISSION_DENIED, 8],
    [Status.CANCELLED, 130],
    [Status.INTERNAL, 1],
    [Status.UNKNOWN, 1],
    [Status.INVALID_ARGUMENT, 1],
    [Status.UNIMPLEMENTED, 1],
  ];
  for (const [status, code] of table) {
    assert.equal(exitCodeForStatus(status), code, Status[status]);
    assert.equal(exitCodeFor(new ClientError("/gops.v1.DiagnosticsService/Stack", status, "x")), code, `client ${Status[status]}`);
    assert.equal(exitCodeFor(new GopsError(status, "x")), code, `local ${Status[status]}`);
  }
});

test("the CLI's own errors", () => {
  assert.equal(exitCodeFor(new UsageError("bad")), ExitCode.USAGE);
  assert.equal(exitCodeFor(new CredentialsError("token file t is accessible by others")), ExitCode.USAGE);
  assert.equal(exitCodeFor(new InterruptedError()), 130);
  assert.equal(exitCodeFor(new CallTimeoutError(30_000)), 6);
  assert.equal(exitCodeFor(new Error("disk full")), 1);
  assert.equal(exitCodeFor("a string"), 1);
});

test("messages: the server's details for remote errors, the message for local ones", () => {
  assert.deepEqual(describeFailure(new ClientError("/p/M", Status.NOT_FOUND, "no process with pid 9")), {
    exitCode: 3,
    message: "no process with pid 9",
    reported: false,
  });
  assert.deepEqual(describeFailure(new ClientError("/p/M", Status.UNAVAILABLE, "")), { exitCode: 5, message: "UNAVAILABLE from /p/M", reported: false });
  assert.deepEqual(describeFailure(new GopsError(Status.RESOURCE_EXHAUSTED, "pid 9 is busy")), { exitCode: 7, message: "pid 9 is busy", reported: false });
  // gopsd's authentication and authorization refusals: its reason, as it is
  assert.deepEqual(describeFailure(new ClientError("/p/M", Status.UNAUTHENTICATED, "token expired")), { exitCode: 8, message: "token expired", reported: false });
  assert.deepEqual(describeFailure(new ClientError("/p/M", Status.PERMISSION_DENIED, "token lacks scope gops:stack")), {
    exitCode: 8,
    message: "token lacks scope gops:stack",
    reported: false,
  });
  assert.deepEqual(describeFailure(new CallTimeoutError(30_000)), {
    exitCode: 6,
    message: "no answer within 30s (raise the deadline with --timeout)",
    reported: false,
  });
  assert.equal(describeFailure(new Error("two\n  lines\n")).message, "two; lines");
});

test("across hosts: the first failed host's status is the exit code; the summary was already printed", () => {
  assert.deepEqual(describeFailure(new HostsFailedError(Status.DEADLINE_EXCEEDED, "31/32 hosts ok; web-7: DEADLINE_EXCEEDED after 5s")), {
    exitCode: 6,
    message: "31/32 hosts ok; web-7: DEADLINE_EXCEEDED after 5s",
    reported: true,
  });
  assert.equal(exitCodeFor(new HostsFailedError(Status.PERMISSION_DENIED, "x")), 8);
  assert.equal(exitCodeFor(new InventoryError("fleet.yaml: unknown key")), 2);
  assert.equal(exitCodeFor(new ModuleQueryError("bad module")), 2);
});

test("when the call's signal was aborted by Ctrl-C or the deadline, that is the failure, not the echo", () => {
  const abortError = Object.assign(new Error("The operation has been aborted"), { name: "AbortError" });
  const interrupted = new AbortController();
  interrupted.abort(new InterruptedError());
  assert.deepEqual(describeFailure(abortError, interrupted.signal), { exitCode: 130, message: "interrupted", reported: false });
  const timedOut = new AbortController();
  timedOut.abort(new CallTimeoutError(1500));
  assert.equal(describeFailure(new GopsError(Status.CANCELLED, "x was cancelled"), timedOut.signal).exitCode, 6);
  // a signal aborted for another reason does not hide the real error
  const other = new AbortController();
  other.abort(new Error("something else"));
  assert.equal(describeFailure(new GopsError(Status.NOT_FOUND, "gone"), other.signal).exitCode, 3);
  assert.equal(describeFailure(new GopsError(Status.NOT_FOUND, "gone"), new AbortController().signal).exitCode, 3);
});

test("the error line escapes control characters a target put in the message (a remote or a local one)", () => {
  const hostile = "port file /home/u/\x1b]0;owned\x07\r\u202e/.config/gops/42: not a regular file";
  const want = "port file /home/u/\\e]0;owned\\x07\\r\\u202e/.config/gops/42: not a regular file";
  assert.equal(describeFailure(new ClientError("/p/M", Status.FAILED_PRECONDITION, hostile)).message, want);
  assert.equal(describeFailure(new Error(hostile)).message, want);
  assert.equal(describeFailure(new Error("a\x9b2J\nb")).message, "a\\x9b2J; b", "newlines still join the lines; C1 CSI escaped");
});

test("gopsd's own lack of OS rights (FAILED_PRECONDITION, reason OS_PERMISSION) still exits 8, read from the reason, in-process, remote and across hosts", async () => {
  const { permissionDenied } = await import("../common/errors.js");
  const { GopsdCallError } = await import("../client/status-details.js");
  const local = permissionDenied("reading the executable of pid 1", 1);
  assert.equal(local.code, Status.FAILED_PRECONDITION);
  assert.equal(exitCodeFor(local), ExitCode.NOT_ALLOWED);
  const remote = new GopsdCallError(new ClientError("/gops.v1.DiagnosticsService/GetBuildInfo", Status.FAILED_PRECONDITION, local.message), {
    reason: "OS_PERMISSION",
    domain: "gopsd",
    metadata: { pid: "1" },
  });
  assert.equal(exitCodeFor(remote), ExitCode.NOT_ALLOWED);
  assert.equal(exitCodeFor(new HostsFailedError(Status.FAILED_PRECONDITION, "1/2 hosts ok", "OS_PERMISSION")), ExitCode.NOT_ALLOWED);
  // Another FAILED_PRECONDITION keeps its exit code; the English text decides nothing.
  const notGo = new GopsdCallError(new ClientError("/p/M", Status.FAILED_PRECONDITION, "permission denied"), { reason: "NOT_GO", domain: "gopsd", metadata: {} });
  assert.equal(exitCodeFor(notGo), ExitCode.FAILED_PRECONDITION);
  assert.equal(exitCodeFor(new HostsFailedError(Status.FAILED_PRECONDITION, "1/2 hosts ok")), ExitCode.FAILED_PRECONDITION);
});
