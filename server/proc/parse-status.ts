// /proc/PID/status: "Key:\tvalue" lines. Only the fields gopsd uses are extracted.

export interface ProcStatus {
  name: string;
  /** Real user id (first of the four Uid: values). */
  uid: number;
  /** Credentials the process opens files with: fs uid, fs gid (last of the four values), supplementary groups. */
  fsuid: number;
  fsgid: number;
  groups: number[];
  threads: number;
  /** The pid in each pid namespace, outermost first; the last one is the pid the process sees itself. */
  nspid: number[];
}

/** The value of "Key:" (after the tab, up to the end of the line), or undefined when absent. */
function field(text: string, key: string): string | undefined {
  let at = text.startsWith(`${key}:`) ? 0 : text.indexOf(`\n${key}:`);
  if (at < 0) return undefined;
  if (at > 0) at++;
  const end = text.indexOf("\n", at);
  return text.slice(at + key.length + 1, end < 0 ? text.length : end).trim();
}

export function parseStatus(text: string): ProcStatus {
  const uid = Number.parseInt(field(text, "Uid") ?? "", 10);
  if (!(uid >= 0)) throw new Error("malformed /proc/PID/status: no Uid line");
  const nspid = field(text, "NSpid");
  const ids = (key: string): number[] => (field(text, key) ?? "").split(/\s+/).filter((v) => /^\d+$/.test(v)).map(Number);
  const uids = ids("Uid");
  const gids = ids("Gid");
  return {
    name: field(text, "Name") ?? "",
    uid,
    fsuid: uids[3] ?? uid,
    // Without a Gid line nothing is known of the groups: 2^32-1 (the invalid gid) matches no file.
    fsgid: gids[3] ?? gids[0] ?? 0xffffffff,
    groups: ids("Groups"),
    threads: Number(field(text, "Threads") ?? 0),
    nspid: nspid ? nspid.split(/\s+/).map(Number) : [],
  };
}
