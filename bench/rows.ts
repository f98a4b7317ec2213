// One row of `npm run bench`'s table: a figure, the baseline it is compared with in the same run, their ratio, and
// the goal (issue 12) with whether this run met it. printTable prints them all; writeResults keeps them as JSON.
import { writeFileSync } from "node:fs";

export interface Row {
  bench: string;
  metric: string;
  value: number;
  unit: string;
  baseline: string;
  baselineValue: number;
  ratio: number;
  goal?: string;
  ok?: boolean;
}

export function printTable(rows: readonly Row[]): string {
  const num = (n: number) => (Math.abs(n) >= 100 ? n.toFixed(0) : n.toFixed(2));
  const lines = [
    `| bench | metric | value | baseline | ratio | goal | met |`,
    `| --- | --- | ---: | ---: | ---: | --- | --- |`,
    ...rows.map(
      (r) =>
        `| ${r.bench} | ${r.metric} | ${num(r.value)} ${r.unit} | ${num(r.baselineValue)} (${r.baseline}) | ${r.ratio.toFixed(2)} | ${r.goal ?? ""} | ${r.ok === undefined ? "" : r.ok ? "yes" : "NO"} |`,
    ),
  ];
  return lines.join("\n");
}

export function writeResults(file: string, rows: readonly Row[]): void {
  writeFileSync(file, `${JSON.stringify({ date: new Date().toISOString(), node: process.version, rows }, null, 2)}\n`);
}
