// gopsctl's client library: one Diagnostics interface, reached through gopsd over gRPC or in-process.
export type { Diagnostics, DiagnosticsHandle } from "../common/diagnostics.js";
export { connect, isLocalTarget, type ConnectOptions } from "./connect.js";
export { type TokenSource } from "./bearer-middleware.js";
export { CredentialsError } from "./credentials-error.js";
export { type PemSource, type TlsOptions } from "./tls-credentials.js";
export { readTokenFile } from "./token-file.js";
export * from "../proto/index.js";
export { Status, ClientError } from "nice-grpc";
export { GopsError } from "../common/errors.js";
export * from "./fleet/index.js";
export * from "./ssh/index.js";
