// Words for a POSIX shell, for the commands gopsctl suggests ("open it with: go tool trace FILE").

/** `word` unchanged when it only holds characters safe in sh, else single-quoted. */
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_\/.,:@%+=-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}
