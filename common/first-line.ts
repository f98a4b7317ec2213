// Errors from libraries (YAML parsers, TLS, fs) can span lines; messages here are one line.

/** The first line of an error's message (or of the value as text), trimmed. */
export function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split("\n")[0]!.trim();
}
