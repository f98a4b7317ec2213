// Pure parsers for ELF files and the Go build info blob (what `go version -m` shows), plus one I/O
// entry point that reads it from a file with a few small positioned reads.
export type { ReadAt } from "./file-view.js";
export type { GoModule, GoBuildInfo } from "./go-build-info.js";
export { readGoBuildInfo } from "./go-build-info.js";
export { type BuildInfoErrorKind, BuildInfoError } from "./build-info-error.js";
export { readGoBuildInfoFromFile } from "./read-go-build-info-from-file.js";
export { fdReadAt } from "./fd-read-at.js";
export { parseModInfo, formatModInfo, formatGoVersionM } from "./mod-info.js";
