// The gops `label:<TAB>value` view, one line per pair.

export function renderLabels(pairs: readonly (readonly [string, string])[]): string {
  return pairs.map(([label, value]) => `${label}:\t${value}\n`).join("");
}
