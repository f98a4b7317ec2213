// Errors the CLI raises itself. Their exit codes are decided in exit-codes.ts, like every other error's.
import type { Status } from "nice-grpc-common";
import { formatDurationMs } from "../common/duration.js";

/** Bad command line: unknown command or flag, missing or malformed argument. Exit code 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** The user pressed Ctrl-C (SIGINT) while a call was running. Exit code 130. */
export class InterruptedError extends Error {
  override readonly name = "InterruptedError";
  constructor() {
    super("interrupted");
  }
}

/** The --timeout deadline (or the command's default one) expired before the call finished. Exit code 6. */
export class CallTimeoutError extends Error {
  override readonly name = "CallTimeoutError";
  constructor(readonly timeoutMs: number) {
    super(`no answer within ${formatDurationMs(timeoutMs)} (raise the deadline with --timeout)`);
  }
}

/**
 * A command run across hosts where some hosts failed. Their results and the summary line are already printed;
 * the exit code is the first failure's status (exit-codes.ts), so scripts see "non-zero when any host failed".
 */
export class HostsFailedError extends Error {
  override readonly name = "HostsFailedError";
  constructor(
    readonly code: Status,
    summary: string,
    /** The first failure's stable reason, when it has one (it may choose the exit code: exit-codes.ts). */
    readonly reason?: string,
  ) {
    super(summary);
  }
}
