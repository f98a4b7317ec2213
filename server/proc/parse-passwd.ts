// /etc/passwd: name:password:uid:gid:gecos:home:shell.

export interface PasswdEntry {
  name: string;
  uid: number;
  home: string;
}

/** Entries by uid; when a uid repeats, the first entry wins (as getpwuid does). */
export function parsePasswd(text: string): Map<number, PasswdEntry> {
  const byUid = new Map<number, PasswdEntry>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const f = line.split(":");
    if (f.length < 7) continue;
    const uid = Number(f[2]);
    if (f[2] === "" || !Number.isInteger(uid) || uid < 0) continue;
    if (!byUid.has(uid)) byUid.set(uid, { name: f[0]!, uid, home: f[5]! });
  }
  return byUid;
}
