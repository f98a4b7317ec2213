// Which built help page a command line asks for, for the bin's fast path (cli/bin.ts): only the shapes whose page
// depends on nothing but the command line — `help`, `help CMD`, `-h`/`--help`, `-h CMD`, `CMD -h` — so the page
// printed is the one the CLI would print. Anything else (more words, other flags, a pid) is the CLI's to parse.

/** The page's name ("" the overview, else a command's name or alias, unchecked), or undefined. */
export function helpTopic(argv: readonly string[]): string | undefined {
  const isFlag = (a: string) => a === "--help" || a === "-h";
  const [a, b, ...rest] = argv;
  if (a === undefined || rest.length > 0) return undefined;
  if (b === undefined) return a === "help" || isFlag(a) ? "" : undefined;
  if (a === "help" || isFlag(a)) return isFlag(b) ? undefined : b;
  return isFlag(b) ? a : undefined;
}
