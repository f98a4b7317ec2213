// The one error type of server/elf. Parsers never throw anything else for bad input; only the I/O of
// readGoBuildInfoFromFile (open/fstat/read errors such as ENOENT or EACCES) and exceptions thrown by a
// caller's ReadAt pass through unchanged, so callers can still tell "permission denied" from "not Go".

export type BuildInfoErrorKind =
  | "not-elf" // not an ELF file at all (no \x7fELF magic, or not a regular file)
  | "no-build-info" // a sound ELF file without a Go build info blob (C program, packed binary, ...)
  | "corrupt"; // an ELF file or build info blob that breaks its own rules (truncated, lying sizes, ...)

export class BuildInfoError extends Error {
  override readonly name = "BuildInfoError";
  constructor(
    readonly kind: BuildInfoErrorKind,
    message: string,
  ) {
    super(message);
  }
}
