// The one place generated protobuf code is re-exported from (docs/ARCHITECTURE.md rule 6).
export * from "./gen/gops/v1/diagnostics.js";
