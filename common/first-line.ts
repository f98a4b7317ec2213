// Errors from libraries (YAML parsers, TLS, fs) can span lines; messages here are one line: the first, or all joined.

/** The first line of an error's message (or of the value as text), trimmed. */
export function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split("\n")[0]!.trim();
}

/** The whole message on one line: its lines joined with "; " (gopsctl's error line, where nothing may be lost). */
export function oneLine(s: string): string {
  return s.trim().replace(/\s*\n\s*/g, "; ");
}
