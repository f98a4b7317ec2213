// Value scaling and percentages as `go tool pprof` prints them: bytes scale by 1024 (B, kB, MB, ...),
// nanoseconds by the usual time units (ns, us, ms, s, hrs, ...), counts are printed bare.

interface Unit {
  name: string;
  aliases: readonly string[];
  factor: number;
}

interface UnitFamily {
  units: readonly Unit[];
  fallback: Unit;
}

const KIB = 1024;
const SECOND = 1e9;
const HOUR = 3600 * SECOND;
const DAY = 24 * HOUR;

const bytesFamily: UnitFamily = (() => {
  const units: Unit[] = [
    { name: "B", aliases: ["b", "byte", "bytes"], factor: 1 },
    { name: "kB", aliases: ["kb", "kbyte", "kbytes", "kilobyte", "kilobytes"], factor: KIB },
    { name: "MB", aliases: ["mb", "mbyte", "mbytes", "megabyte", "megabytes"], factor: KIB ** 2 },
    { name: "GB", aliases: ["gb", "gbyte", "gbytes", "gigabyte", "gigabytes"], factor: KIB ** 3 },
    { name: "TB", aliases: ["tb", "tbyte", "tbytes", "terabyte", "terabytes"], factor: KIB ** 4 },
    { name: "PB", aliases: ["pb", "pbyte", "pbytes", "petabyte", "petabytes"], factor: KIB ** 5 },
  ];
  return { units, fallback: units[0]! };
})();

const timeFamily: UnitFamily = (() => {
  const units: Unit[] = [
    { name: "ns", aliases: ["ns", "nanosecond", "nanoseconds"], factor: 1 },
    { name: "us", aliases: ["us", "microsecond", "microseconds"], factor: 1e3 },
    { name: "ms", aliases: ["ms", "millisecond", "milliseconds"], factor: 1e6 },
    { name: "s", aliases: ["s", "sec", "second", "seconds"], factor: SECOND },
    { name: "hrs", aliases: ["hour", "hours", "hrs"], factor: HOUR },
    { name: "days", aliases: ["day", "days"], factor: DAY },
    { name: "wks", aliases: ["wk", "week", "weeks", "wks"], factor: 7 * DAY },
    { name: "yrs", aliases: ["yr", "year", "years", "yrs"], factor: 365 * DAY },
  ];
  return { units, fallback: units[3]! };
})();

const families = [bytesFamily, timeFamily];

function lookup(unit: string): { family: UnitFamily; unit: Unit } | undefined {
  const wanted = unit.toLowerCase();
  for (const family of families) {
    const found = family.units.find((u) => u.name.toLowerCase() === wanted || u.aliases.includes(wanted));
    if (found) return { family, unit: found };
  }
  return undefined;
}

/** "bytes" or "time" for units pprof scales, else undefined (count, objects, ...). */
export function unitFamily(unit: string): "bytes" | "time" | undefined {
  const found = lookup(unit);
  if (!found) return undefined;
  return found.family === bytesFamily ? "bytes" : "time";
}

/**
 * The largest unit of `fromUnit`'s family in which |value| is at least 1 (pprof's "minimum" unit);
 * undefined for units pprof does not scale (count, objects, ...).
 */
export function autoUnit(value: number, fromUnit: string): string | undefined {
  const from = lookup(fromUnit);
  if (!from) return undefined;
  const base = Math.abs(value) * from.unit.factor;
  let best: Unit | undefined;
  for (const u of from.family.units) {
    if (base / u.factor >= 1 && (!best || u.factor >= best.factor)) best = u;
  }
  return (best ?? from.family.fallback).name;
}

/** `value` (in `fromUnit`) expressed in `toUnit` of the same family; the value itself for unscaled units. */
export function convert(value: number, fromUnit: string, toUnit: string): number {
  const units = sameFamily(fromUnit, toUnit);
  return units ? (value * units.from.factor) / units.to.factor : value;
}

/** `1.97s`, `30105.50kB`, `5461`, `0`: two decimals without a trailing `.00`, the unit appended. */
export function scaledLabel(value: number, fromUnit: string, toUnit: string): string {
  const units = sameFamily(fromUnit, toUnit);
  let text = fixed2(units ? (value * units.from.factor) / units.to.factor : value);
  if (text.endsWith(".00")) text = text.slice(0, -3);
  if (text === "0" || text === "-0") return "0";
  return units ? text + units.to.name : text;
}

/** Both units, when they are of one family pprof scales; else undefined (the value is shown as it is). */
function sameFamily(fromUnit: string, toUnit: string): { from: Unit; to: Unit } | undefined {
  const from = lookup(fromUnit);
  const to = lookup(toUnit);
  return from && to && from.family === to.family ? { from: from.unit, to: to.unit } : undefined;
}

/**
 * The one unit pprof's text reports use for every row: the minimum unit of the smallest non-zero node,
 * moved up when that is more than 100 times smaller than the total.
 */
export function reportUnit(minValue: number, total: number, sampleUnit: string): string {
  const min = minValue === 0 ? total : minValue;
  const minUnit = autoUnit(min, sampleUnit);
  if (minUnit === undefined) return sampleUnit;
  const maxUnit = autoUnit(total, sampleUnit);
  if (minUnit !== maxUnit && Math.abs(min) * 100 < Math.abs(total)) return autoUnit(min * 100, sampleUnit)!;
  return minUnit;
}

/** pprof's percentage column: `  100%`, `98.01%`, `    1%`, `0.82%` (two significant digits below 1%). */
export function percentage(value: number, total: number): string {
  const ratio = total === 0 ? 0 : Math.abs(value / total) * 100;
  if (ratio >= 99.95 && ratio <= 100.05) return "  100%";
  if (ratio >= 1) return `${fixed2(ratio)}%`.padStart(6);
  return `${twoSignificant(ratio)}%`.padStart(6);
}

/**
 * Go's `%.2f`. JavaScript's toFixed rounds an exact tie away from zero, Go to even; a double is an exact
 * tie at two decimals only when its fraction ends in .125, .375, .625 or .875.
 */
function fixed2(x: number): string {
  const magnitude = Math.abs(x);
  const hundredths = magnitude * 100;
  if (Number.isInteger(magnitude * 8) && hundredths - Math.floor(hundredths) === 0.5) {
    const down = Math.floor(hundredths);
    const even = down % 2 === 0 ? down : down + 1;
    return (x < 0 ? "-" : "") + (even / 100).toFixed(2);
  }
  return x.toFixed(2);
}

/** Go's `%.2g`: two significant digits, trailing zeros dropped, exponent form below 1e-4. */
function twoSignificant(x: number): string {
  if (x === 0) return "0";
  const [mantissa, exponentText] = toExponential1(x).split("e") as [string, string];
  const exponent = Number(exponentText);
  const digits = mantissa.replace(/\.0$/, "");
  if (exponent < -4 || exponent >= 2) {
    const sign = exponent < 0 ? "-" : "+";
    return `${digits}e${sign}${String(Math.abs(exponent)).padStart(2, "0")}`;
  }
  return String(Number(`${mantissa}e${exponent}`));
}

/**
 * `x.toExponential(1)` with Go's rounding: an exact tie (the double's decimal expansion ends right after a 5 in
 * the third significant digit, e.g. 0.625 or 0.0625) goes to the even digit; JavaScript rounds it up.
 */
function toExponential1(x: number): string {
  const exact = Math.abs(x).toExponential(40); // a double's expansion is exact this far for any tie
  const [digits, exponentText] = exact.replace(".", "").split("e") as [string, string];
  if (digits[2] !== "5" || !/^0*$/.test(digits.slice(3))) return x.toExponential(1);
  let kept = Number(digits.slice(0, 2));
  if (kept % 2 === 1) kept += 1;
  let exponent = Number(exponentText);
  if (kept === 100) {
    kept = 10;
    exponent += 1;
  }
  const text = String(kept);
  return `${x < 0 ? "-" : ""}${text[0]}.${text[1]}e${exponent >= 0 ? "+" : ""}${exponent}`;
}
