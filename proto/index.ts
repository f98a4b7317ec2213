// The one place generated protobuf code is re-exported from (docs/ARCHITECTURE.md rule 6).
export * from "./gen/gops/v1/diagnostics.js";
// google.rpc.Status and its ErrorInfo and RetryInfo details (the status details gopsd sends), and the
// google.protobuf types they use. Status is exported as RpcStatus: "Status" is the gRPC code enum everywhere else.
export { Status as RpcStatus } from "./gen/google/rpc/status.js";
export { ErrorInfo, RetryInfo } from "./gen/google/rpc/error_details.js";
export { Any } from "./gen/google/protobuf/any.js";
export { Duration } from "./gen/google/protobuf/duration.js";
