// gopsctl's client library: one Diagnostics interface, reached through gopsd over gRPC or in-process.
export type { Diagnostics, DiagnosticsHandle } from "./diagnostics.js";
export { connect, type ConnectOptions } from "./connect.js";
export { createLocalDiagnostics } from "./local.js";
export * from "../proto/index.js";
export { Status, ClientError } from "nice-grpc";
export { GopsError } from "../server/errors.js";
