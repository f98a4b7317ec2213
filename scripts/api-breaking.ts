// `buf breaking` for gopsd's API (npm test runs it): the proto in the tree against the API as released, and the
// accepted breaks, each explained. The baseline is a committed image (proto/breaking/gops-v0.1.0.binpb), not a git
// tag or ref: CI's fresh clone may have no tags, and the image needs no git at all. It was built with
// `buf build --exclude-source-info` from the tree of commit 8d30035 (the first gopsd serving gops.v1, package
// version 0.1.0; no release tag exists). After a release, rebuild it from the release's tree and empty ACCEPTED.
//
// Usage: node --import tsx scripts/api-breaking.ts   (exit 1 on a break that is not accepted)
import { execFile } from "node:child_process";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";

const root = path.resolve(import.meta.dirname, "..");
export const BASELINE = "proto/breaking/gops-v0.1.0.binpb";

/** One finding of `buf breaking --error-format json`. */
export interface BreakingFinding {
  path: string;
  type: string;
  message: string;
  start_line?: number;
}

/** A break accepted on purpose: the rule, the file, the exact message buf prints, and why it is accepted. */
export interface AcceptedBreak {
  type: string;
  path: string;
  message: string;
  why: string;
}

export const ACCEPTED: readonly AcceptedBreak[] = [
  {
    type: "FIELD_SAME_CARDINALITY",
    path: "proto/gops/v1/diagnostics.proto",
    message:
      'Field "2" with name "percent" on message "SetGCPercentRequest" changed cardinality from "optional with implicit presence" to "optional with explicit presence".',
    why:
      "Issue 8: SetGCPercentRequest.percent became proto3 `optional`, so that a request without it is refused " +
      "(INVALID_ARGUMENT \"percent is required\") instead of setting GOGC=0, which stops the target's garbage collector. " +
      "On the wire nothing changed (same field number and type); generated code gains presence. What changes is that an " +
      "old client asking for percent=0 sends no field (implicit presence) and is now refused: setting GOGC=0 needs a " +
      "client built from the new proto. Accepted because silently disabling a production program's GC on a missing field was the worse failure.",
  },
];

const same = (a: BreakingFinding, b: AcceptedBreak) => a.type === b.type && a.path === b.path && a.message === b.message;

/** The findings no accepted break covers. */
export function unexpectedBreaks(findings: readonly BreakingFinding[]): BreakingFinding[] {
  return findings.filter((f) => !ACCEPTED.some((a) => same(f, a)));
}

/** Accepted breaks buf no longer reports (a stale exception is an error too: it would hide a later break). */
export function staleExceptions(findings: readonly BreakingFinding[]): AcceptedBreak[] {
  return ACCEPTED.filter((a) => !findings.some((f) => same(f, a)));
}

/** Parses buf's JSON lines. */
export function parseFindings(stdout: string): BreakingFinding[] {
  return stdout
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as BreakingFinding);
}

/** Runs buf breaking in `dir` (a workspace with buf.yaml) against `against`; its findings. */
export async function runBufBreaking(dir = root, against = path.join(root, BASELINE)): Promise<BreakingFinding[]> {
  const buf = path.join(root, "node_modules/.bin/buf");
  try {
    await promisify(execFile)(buf, ["breaking", "--against", against, "--error-format", "json"], { cwd: dir, timeout: 120_000 });
    return [];
  } catch (e) {
    const err = e as { code?: unknown; stdout?: string; stderr?: string };
    // buf exits 100 when it found breaking changes; anything else is buf failing.
    if (err.code === 100 && typeof err.stdout === "string") return parseFindings(err.stdout);
    throw new Error(`buf breaking failed: ${err.stderr ?? String(e)}`);
  }
}

async function main(): Promise<void> {
  const findings = await runBufBreaking();
  const bad = unexpectedBreaks(findings);
  const stale = staleExceptions(findings);
  for (const f of bad) console.error(`${f.path}:${f.start_line ?? 0}: ${f.type}: ${f.message}`);
  for (const a of stale) console.error(`accepted break no longer reported (remove it from scripts/api-breaking.ts): ${a.type}: ${a.message}`);
  if (bad.length > 0 || stale.length > 0) {
    console.error(`buf breaking against ${BASELINE}: ${bad.length} breaking change(s) not accepted, ${stale.length} stale exception(s)`);
    process.exit(1);
  }
  console.log(`buf breaking against ${BASELINE}: no breaking change beyond the ${ACCEPTED.length} accepted`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
