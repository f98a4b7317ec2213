// Go module info text (runtime/debug.BuildInfo's text form) and the `go version -m` view of it.
// Lines are "path\t...", "mod\t<path>\t<version>[\t<sum>]", "dep\t..." and "=>\t<path>\t<version>\t<sum>"
// (replacement of the module on the line before), "build\t<key>=<value>" with Go-quoted keys/values
// when they hold spaces, tabs, quotes or newlines. Unknown lines are ignored, as Go does.
import { BuildInfoError } from "./build-info-error.js";
import type { GoBuildInfo, GoModule } from "./go-build-info.js";
import { goQuote, goUnquote, goUnquotePrefix } from "../../common/go-quote.js";
import { needsQuotedKey, needsQuotedValue } from "../../common/go-version-m.js";

type ModInfo = Pick<GoBuildInfo, "path" | "main" | "deps" | "settings">;


/** Parses module info text; throws BuildInfoError("corrupt") on a malformed line, like Go's ParseBuildInfo. */
export function parseModInfo(text: string): ModInfo {
  const info: ModInfo = { path: "", deps: [], settings: [] };
  let last: GoModule | undefined;
  const lines = text.split("\n");
  lines.pop(); // text after the last newline is not a line (Go stops there too)
  lines.forEach((line, i) => {
    const bad = (why: string) => new BuildInfoError("corrupt", `corrupt Go module info: line ${i + 1}: ${why}`);
    const tab = line.indexOf("\t");
    const word = tab < 0 ? line : line.slice(0, tab);
    const rest = line.slice(tab + 1);
    if (tab < 0) return;
    switch (word) {
      case "path":
        info.path = rest;
        break;
      case "mod":
      case "dep": {
        const cols = rest.split("\t");
        if (cols.length !== 2 && cols.length !== 3) throw bad(`expected 2 or 3 columns; got ${cols.length}`);
        last = { path: cols[0]!, version: cols[1]!, sum: cols[2] ?? "" };
        if (word === "mod") info.main = last;
        else info.deps.push(last);
        break;
      }
      case "=>": {
        const cols = rest.split("\t");
        if (cols.length !== 3) throw bad(`expected 3 columns for replacement; got ${cols.length}`);
        if (last === undefined) throw bad("replacement with no module on previous line");
        last.replace = { path: cols[0]!, version: cols[1]!, sum: cols[2]! };
        last = undefined;
        break;
      }
      case "build":
        info.settings.push(parseSetting(rest, bad));
        break;
    }
  });
  return info;
}

function parseSetting(kv: string, bad: (why: string) => BuildInfoError): { key: string; value: string } {
  if (kv === "") throw bad("build line missing '='");
  let key: string;
  let raw: string;
  if (kv[0] === "=") throw bad("build line with missing key");
  if (kv[0] === '"' || kv[0] === "`") {
    const q = goUnquotePrefix(kv);
    if (q === undefined) throw bad("invalid quoted key in build line");
    if (kv[q.end] !== "=") throw bad("build line missing '=' after quoted key");
    key = q.value;
    raw = kv.slice(q.end + 1);
  } else {
    const eq = kv.indexOf("=");
    if (eq < 0) throw bad("build line missing '=' after key");
    key = kv.slice(0, eq);
    raw = kv.slice(eq + 1);
    if (needsQuotedKey(key)) throw bad(`unquoted key ${goQuote(key)} must be quoted`);
  }
  if (raw[0] === '"' || raw[0] === "`") {
    const value = goUnquote(raw);
    if (value === undefined) throw bad("invalid quoted value in build line");
    return { key, value };
  }
  if (needsQuotedValue(raw)) throw bad(`unquoted value ${goQuote(raw)} must be quoted`);
  return { key, value: raw };
}

export { formatGoVersionM, formatModInfo } from "../../common/go-version-m.js";
