// Parsed tcp/tcp6 tables shared by the processes of one network namespace. Reading /proc/PID/net/tcp makes
// the kernel walk its whole socket hash (milliseconds on a busy host), and every process of a namespace
// sees the same table, so a scan reads each table at most once per namespace.
import { parseInetTable, type InetSocket } from "./parse-net.js";
import type { ProcFs } from "./proc-fs.js";

export class NetTables {
  private readonly byNamespace = new Map<string, Map<"tcp" | "tcp6", InetSocket[]>>();

  constructor(private readonly fs: ProcFs) {}

  /** The table as `pid` sees it. Throws errno errors of the read. */
  inet(pid: number, table: "tcp" | "tcp6"): InetSocket[] {
    let ns: string | undefined;
    try {
      ns = this.fs.readNetNamespace(pid);
    } catch {
      ns = undefined; // not shareable without a namespace identity; read it for this pid alone
    }
    if (ns === undefined) return parseInetTable(this.fs.readNet(pid, table));
    let tables = this.byNamespace.get(ns);
    if (!tables) this.byNamespace.set(ns, (tables = new Map()));
    let sockets = tables.get(table);
    if (!sockets) tables.set(table, (sockets = parseInetTable(this.fs.readNet(pid, table))));
    return sockets;
  }
}
