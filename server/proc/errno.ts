// Node errno errors from ProcFs, classified the way every /proc reader needs them.
import { escapeLine } from "../../common/escape-text.js";

export function errnoCode(e: unknown): string | undefined {
  if (typeof e !== "object" || e === null) return undefined;
  const code = (e as { code?: unknown }).code;
  return typeof code === "string" ? code : undefined;
}

/** The process (or the file) is gone: it exited between two reads, which is normal during a scan. */
export function isGone(e: unknown): boolean {
  const code = errnoCode(e);
  return code === "ENOENT" || code === "ESRCH";
}

/** Not allowed to look (another user's process without root, ptrace restrictions, hidepid). */
export function isDenied(e: unknown): boolean {
  const code = errnoCode(e);
  return code === "EACCES" || code === "EPERM";
}

/** An error as one line of text, control characters escaped (fs errors quote target-controlled paths). */
export function errorText(e: unknown): string {
  return escapeLine(e instanceof Error ? e.message : String(e));
}
