// The listening sockets of the tcp/tcp6 tables, shared by the processes of one network namespace: what an agent's
// port or a net/http/pprof endpoint is checked against. Reading /proc/PID/net/tcp makes the kernel format its
// whole socket hash (milliseconds on a busy host): a scan reads each table at most once per namespace, and only
// as far as the listeners go (ProcFs.readNet "listening").
import { parseInetTable, type InetSocket } from "./parse-net.js";
import type { ProcFs } from "./proc-fs.js";

export class NetTables {
  private readonly byNamespace = new Map<string, Map<"tcp" | "tcp6", InetSocket[]>>();

  constructor(private readonly fs: ProcFs) {}

  /** The table's listening sockets as `pid` sees them. Throws errno errors of the read. */
  listening(pid: number, table: "tcp" | "tcp6"): InetSocket[] {
    let ns: string | undefined;
    try {
      ns = this.fs.readNetNamespace(pid);
    } catch {
      ns = undefined; // not shareable without a namespace identity; read it for this pid alone
    }
    if (ns === undefined) return this.read(pid, table);
    let tables = this.byNamespace.get(ns);
    if (!tables) this.byNamespace.set(ns, (tables = new Map()));
    let sockets = tables.get(table);
    if (!sockets) tables.set(table, (sockets = this.read(pid, table)));
    return sockets;
  }

  private read(pid: number, table: "tcp" | "tcp6"): InetSocket[] {
    return parseInetTable(this.fs.readNet(pid, table, "listening")).filter((s) => s.state === "LISTEN");
  }
}
