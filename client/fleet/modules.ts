// `ps --module PATH[@[op]VERSION]`: which processes' binaries contain a Go module, optionally below (or at, or
// above) a version. Pure: it reads the main module from ListProcesses and the dependencies from GetBuildInfo.
// Versions compare like Go modules (semver with a leading "v": v1.2.3 < v1.10.0, pre-releases before their release,
// pseudo-versions are pre-releases, "+incompatible" ignored); "(devel)" and other non-versions never satisfy a
// version bound.
import type { BuildInfo, Module, Process } from "../../proto/index.js";

export type VersionOp = "<" | "<=" | "=" | ">=" | ">";

export interface ModuleQuery {
  path: string;
  /** Absent: any version. */
  bound?: { op: VersionOp; version: string };
}

export class ModuleQueryError extends Error {
  override readonly name = "ModuleQueryError";
}

/** "example.com/m", "example.com/m@v1.2.3" (exactly), "example.com/m@<v1.2.3", "@<=", "@>", "@>=". */
export function parseModuleQuery(text: string): ModuleQuery {
  const at = text.lastIndexOf("@");
  const modPath = (at < 0 ? text : text.slice(0, at)).trim();
  if (modPath === "" || /\s/.test(modPath)) throw new ModuleQueryError(`module "${text}": expected PATH or PATH@[<|<=|=|>=|>]VERSION`);
  if (at < 0) return { path: modPath };
  const m = /^(<=|>=|<|>|=)?(.+)$/.exec(text.slice(at + 1).trim());
  const version = m?.[2] ?? "";
  if (!m || parseGoVersion(version) === undefined) {
    throw new ModuleQueryError(`module "${text}": "${text.slice(at + 1)}" is not a Go module version like v1.2.3 (optionally after <, <=, =, >=, >)`);
  }
  return { path: modPath, bound: { op: (m[1] ?? "=") as VersionOp, version } };
}

interface ParsedVersion {
  nums: [number, number, number];
  pre: string[];
}

/** Parses "v1", "v1.2", "v1.2.3", with "-pre" and "+build"; undefined when not a module version. */
export function parseGoVersion(v: string): ParsedVersion | undefined {
  const m = /^v(0|[1-9]\d*)(?:\.(0|[1-9]\d*)(?:\.(0|[1-9]\d*)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?)?)?$/.exec(v);
  if (!m) return undefined;
  const pre = m[4] ? m[4].split(".") : [];
  if (pre.some((p) => /^\d+$/.test(p) && p.length > 1 && p.startsWith("0"))) return undefined;
  return { nums: [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)], pre };
}

/** Go module version order; undefined when either is not a version. */
export function compareGoVersions(a: string, b: string): number | undefined {
  const x = parseGoVersion(a);
  const y = parseGoVersion(b);
  if (!x || !y) return undefined;
  for (let i = 0; i < 3; i++) if (x.nums[i] !== y.nums[i]) return x.nums[i]! < y.nums[i]! ? -1 : 1;
  if (x.pre.length === 0 || y.pre.length === 0) return x.pre.length === y.pre.length ? 0 : x.pre.length === 0 ? 1 : -1;
  for (let i = 0; i < Math.min(x.pre.length, y.pre.length); i++) {
    const c = comparePreIdentifier(x.pre[i]!, y.pre[i]!);
    if (c !== 0) return c;
  }
  return Math.sign(x.pre.length - y.pre.length);
}

function comparePreIdentifier(a: string, b: string): number {
  const an = /^\d+$/.test(a);
  const bn = /^\d+$/.test(b);
  if (an && bn) return a.length !== b.length ? Math.sign(a.length - b.length) : a < b ? -1 : a > b ? 1 : 0;
  if (an !== bn) return an ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

export function satisfies(version: string, bound: ModuleQuery["bound"]): boolean {
  if (!bound) return true;
  const c = compareGoVersions(version, bound.version);
  if (c === undefined) return false;
  switch (bound.op) {
    case "<":
      return c < 0;
    case "<=":
      return c <= 0;
    case "=":
      return c === 0;
    case ">=":
      return c >= 0;
    case ">":
      return c > 0;
  }
}

/** A process as ListProcesses gives it, with GetBuildInfo's build info when it was fetched (for dependencies). */
export type ProcessWithBuildInfo = Process & { buildInfo?: BuildInfo };

export interface ModuleMatch<P extends ProcessWithBuildInfo> {
  process: P;
  /** The module found, as built (a replacement when the dependency was replaced by the queried path). */
  module: { path: string; version: string };
  via: "main" | "dependency" | "replacement";
  /** Set when the matched dependency is replaced by another module or a directory. */
  replacedBy?: Module;
}

/** The processes whose binaries contain the queried module at a version that satisfies the bound. */
export function findModule<P extends ProcessWithBuildInfo>(processes: readonly P[], query: string | ModuleQuery): ModuleMatch<P>[] {
  const q = typeof query === "string" ? parseModuleQuery(query) : query;
  const out: ModuleMatch<P>[] = [];
  for (const process of processes) {
    const match = matchProcess(process, q);
    if (match) out.push(match);
  }
  return out;
}

function matchProcess<P extends ProcessWithBuildInfo>(process: P, q: ModuleQuery): ModuleMatch<P> | undefined {
  const main = process.buildInfo?.main ?? { path: process.modulePath, version: process.moduleVersion };
  if (main.path === q.path && satisfies(main.version, q.bound)) {
    return { process, module: { path: main.path, version: main.version }, via: "main" };
  }
  for (const dep of process.buildInfo?.deps ?? []) {
    const replace = dep.replace;
    if (replace && replace.path !== dep.path && replace.path === q.path && replace.version !== "" && satisfies(replace.version, q.bound)) {
      return { process, module: { path: replace.path, version: replace.version }, via: "replacement" };
    }
    if (dep.path !== q.path) continue;
    // Replaced by the same path at another version: that version is what was built.
    const built = replace && replace.path === dep.path && replace.version !== "" ? replace.version : dep.version;
    if (satisfies(built, q.bound)) {
      return {
        process,
        module: { path: dep.path, version: built },
        via: "dependency",
        ...(replace ? { replacedBy: replace } : {}),
      };
    }
  }
  return undefined;
}
