// The one place an error becomes an exit status and a one-line message (docs/ARCHITECTURE.md rule 3), with control
// characters escaped: a message may quote a target's path, name or agent reply.
import { oneLine } from "../common/first-line.js";
import { ClientError, Status } from "nice-grpc-common";
import { CredentialsError } from "../client/credentials-error.js";
import { InventoryError } from "../client/fleet/inventory-error.js";
import { ModuleQueryError } from "../client/fleet/modules.js";
import { ERROR_TABLE, GopsError } from "../common/errors.js";
import { reasonOf } from "../client/status-details.js";
import { escapeLine } from "../common/escape-text.js";
import { CallTimeoutError, HostsFailedError, InterruptedError, UsageError } from "./errors.js";

export const ExitCode = {
  OK: 0,
  ERROR: 1,
  USAGE: 2,
  NOT_FOUND: 3,
  FAILED_PRECONDITION: 4,
  UNAVAILABLE: 5,
  DEADLINE_EXCEEDED: 6,
  RESOURCE_EXHAUSTED: 7,
  NOT_ALLOWED: 8,
  INTERRUPTED: 130,
} as const;

export function exitCodeForStatus(code: Status): number {
  switch (code) {
    case Status.OK:
      return ExitCode.OK;
    case Status.NOT_FOUND:
      return ExitCode.NOT_FOUND;
    case Status.FAILED_PRECONDITION:
      return ExitCode.FAILED_PRECONDITION;
    case Status.UNAVAILABLE:
      return ExitCode.UNAVAILABLE;
    case Status.DEADLINE_EXCEEDED:
      return ExitCode.DEADLINE_EXCEEDED;
    case Status.RESOURCE_EXHAUSTED:
      return ExitCode.RESOURCE_EXHAUSTED;
    case Status.UNAUTHENTICATED:
    case Status.PERMISSION_DENIED:
      return ExitCode.NOT_ALLOWED;
    case Status.CANCELLED:
      return ExitCode.INTERRUPTED;
    default:
      return ExitCode.ERROR;
  }
}

export interface Failure {
  exitCode: number;
  /** One line, without the "gopsctl: " prefix. */
  message: string;
  /** The command already told the user (across hosts: each host's error and the summary line). */
  reported: boolean;
}

/**
 * Describes a failed command. When the call's signal was aborted (Ctrl-C or the deadline), the abort's reason
 * is what happened; the error the aborted call threw is only its echo.
 */
export function describeFailure(err: unknown, signal?: AbortSignal): Failure {
  const cause = signal?.aborted === true && isOwnAbortReason(signal.reason) ? signal.reason : err;
  return { exitCode: exitCodeFor(cause), message: escapeLine(oneLine(messageOf(cause))), reported: cause instanceof HostsFailedError };
}

/**
 * Exit codes chosen by a failure's reason rather than its status code. gopsd's own lack of OS rights is
 * FAILED_PRECONDITION on the wire (the caller is not refused: docs/ERRORS.md) but, for the operator, what to fix is
 * access rights: it exits NOT_ALLOWED, as it did when gopsd sent PERMISSION_DENIED for it.
 */
const EXIT_CODE_BY_REASON: Readonly<Record<string, number>> = { [ERROR_TABLE.osPermission.reason]: ExitCode.NOT_ALLOWED };

export function exitCodeFor(err: unknown): number {
  const byReason = EXIT_CODE_BY_REASON[(err instanceof HostsFailedError ? err.reason : reasonOf(err)) ?? ""];
  if (byReason !== undefined) return byReason;
  if (err instanceof UsageError || err instanceof CredentialsError) return ExitCode.USAGE;
  // A fleet file or selection that cannot be used, a --module query that is not one: configuration and usage.
  if (err instanceof InventoryError || err instanceof ModuleQueryError) return ExitCode.USAGE;
  if (err instanceof HostsFailedError) return exitCodeForStatus(err.code);
  if (err instanceof InterruptedError) return ExitCode.INTERRUPTED;
  if (err instanceof CallTimeoutError) return ExitCode.DEADLINE_EXCEEDED;
  if (err instanceof ClientError || err instanceof GopsError) return exitCodeForStatus(err.code);
  return ExitCode.ERROR;
}

function messageOf(err: unknown): string {
  if (err instanceof ClientError) return err.details !== "" ? err.details : `${Status[err.code]} from ${err.path}`;
  if (err instanceof Error) return err.message;
  return String(err);
}

function isOwnAbortReason(reason: unknown): boolean {
  return reason instanceof InterruptedError || reason instanceof CallTimeoutError;
}
