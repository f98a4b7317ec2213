// The one place generated protobuf code is re-exported from (DESIGN rule 6).
export * from "./gen/gops/v1/diagnostics.js";
