// Column-aligned text: every column but the last is left-aligned and padded to its widest cell. Cells are escaped
// first (a name with ESC, CR, TAB or LF cannot move the cursor, forge a row or push columns): the escaped width is
// what is padded.
import { escapeLine } from "../../common/escape-text.js";


const GAP = "  ";

export function renderTable(rows: readonly (readonly string[])[], header?: readonly string[]): string {
  const all = (header === undefined ? rows : [header, ...rows]).map((row) => row.map(escapeLine));
  if (all.length === 0) return "";
  const widths: number[] = [];
  for (const row of all) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return all
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!)))
        .join(GAP)
        .trimEnd(),
    )
    .map((line) => `${line}\n`)
    .join("");
}
