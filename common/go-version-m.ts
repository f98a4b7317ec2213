// The `go version -m` view of Go build info (runtime/debug.BuildInfo's text form, tab-indented under
// `<file>: <goversion>`), shared by gopsd's ELF reader (tests compare it with the real `go version -m`) and gopsctl
// buildinfo. Pure; structural types, so the ELF reader's GoBuildInfo and the proto BuildInfo both fit.
import { goQuote } from "./go-quote.js";

export interface GoModuleLike {
  path: string;
  version: string;
  sum: string;
  replace?: GoModuleLike | undefined;
}

export interface ModInfoLike {
  path: string;
  main?: GoModuleLike | undefined;
  deps: readonly GoModuleLike[];
  settings: readonly { key: string; value: string }[];
}

/** Go quotes a "build" key holding "=", space, tab, CR, LF, a quote or a backquote (and the empty key). */
export const needsQuotedKey = (key: string): boolean => key === "" || /[= \t\r\n"`]/.test(key);
/** Go quotes a "build" value holding space, tab, CR, LF, a quote or a backquote. */
export const needsQuotedValue = (value: string): boolean => /[ \t\r\n"`]/.test(value);

/** Module info text in Go's format (runtime/debug.BuildInfo.String without the "go" line). */
export function formatModInfo(info: ModInfoLike): string {
  let out = "";
  if (info.path !== "") out += `path\t${info.path}\n`;
  const mod = (word: string, m: GoModuleLike): void => {
    out += `${word}\t${m.path}\t${m.version}`;
    if (m.replace === undefined) out += `\t${m.sum}\n`;
    else {
      out += "\n";
      mod("=>", m.replace);
    }
  };
  const m = info.main;
  if (m !== undefined && (m.path !== "" || m.version !== "" || m.sum !== "" || m.replace !== undefined)) mod("mod", m);
  for (const d of info.deps) mod("dep", d);
  for (const { key, value } of info.settings) {
    out += `build\t${needsQuotedKey(key) ? goQuote(key) : key}=${needsQuotedValue(value) ? goQuote(value) : value}\n`;
  }
  return out;
}

/** Exactly what `go version -m <file>` prints for this build info. */
export function formatGoVersionM(file: string, info: ModInfoLike & { goVersion: string }): string {
  const mod = formatModInfo(info);
  const body = mod === "" ? "" : `\t${mod.slice(0, -1).replaceAll("\n", "\n\t")}\n`;
  return `${file}: ${info.goVersion}\n${body}`;
}
