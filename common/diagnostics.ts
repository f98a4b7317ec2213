// The Diagnostics interface: one shape for a remote gopsd (gRPC client) and the in-process local backend.
// Requests are partial messages; unary calls return promises; streams are async iterables of chunks.
// Every call takes `{ signal?: AbortSignal, deadline?: Date | number (ms from now) }`.
import type { DeadlineOptions } from "nice-grpc-client-middleware-deadline";
import type { DiagnosticsServiceClient } from "../proto/index.js";

/** The gops.v1.Diagnostics calls: list processes, inspect one, stacks, memory, GC, profiles, traces. */
export type Diagnostics = DiagnosticsServiceClient<DeadlineOptions>;

/** A Diagnostics that holds resources (a channel, caches) until closed. */
export interface DiagnosticsHandle extends Diagnostics {
  /** Where calls go: "local" or the gopsd address. */
  readonly target: string;
  close(): void;
}
