// The fleet file's one error, apart from the parser (YAML, ssh-config): the CLI maps it to an exit status and host
// selection throws it, without loading what reads the file.

/** The fleet file cannot be read or is invalid; the one-line message names the file, host and key. */
export class InventoryError extends Error {
  override readonly name = "InventoryError";
}
