// The gops `label:<TAB>value` view, one line per pair; a value's own TAB, CR or LF is escaped (one pair, one line).
import { escapeLine } from "../../common/escape-text.js";


export function renderLabels(pairs: readonly (readonly [string, string])[]): string {
  return pairs.map(([label, value]) => `${escapeLine(label)}:\t${escapeLine(value)}\n`).join("");
}
