/** Text as it came, ending with exactly the newline it needs to end the line (none added to empty text). */
export function withNewline(text: string): string {
  return text === "" || text.endsWith("\n") ? text : `${text}\n`;
}
