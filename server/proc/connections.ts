// The sockets of one process (the `local/remote` lines of `gops <pid>`): the entries of its network
// namespace's /proc/PID/net tables whose inode is among its open fds.
import type { Connection } from "../../proto/index.js";
import { isGone } from "./errno.js";
import { parseInetTable, parseUnixTable, socketInodes, type InetSocket } from "./parse-net.js";
import type { NetTable, ProcFs } from "./proc-fs.js";

const INET_TABLES = ["tcp", "tcp6", "udp", "udp6"] as const;

const isAny = (ip: string) => ip === "0.0.0.0" || ip === "::";
const host = (ip: string) => (ip.includes(":") ? `[${ip}]` : ip);

/** "127.0.0.1:56765", "[::1]:80"; an unset remote end (any address, port 0) is ":0" as gops prints it. */
function formatEndpoint(ip: string, port: number): string {
  return isAny(ip) && port === 0 ? ":0" : `${host(ip)}:${port}`;
}

function connectionState(table: NetTable, s: InetSocket): string {
  if (table === "tcp" || table === "tcp6") return s.state;
  return s.state === "ESTABLISHED" ? s.state : ""; // a udp socket has a state only when connected
}

/** Reads the fds and the socket tables of `pid`. Throws errno errors (EACCES on another user's fds). */
export function readConnections(fs: ProcFs, pid: number): Connection[] {
  const inodes = socketInodes(fs.readFdLinks(pid));
  if (inodes.size === 0) return [];
  const table = (name: NetTable): string => {
    try {
      return fs.readNet(pid, name);
    } catch (e) {
      if (isGone(e)) return ""; // e.g. no tcp6 table when IPv6 is disabled
      throw e;
    }
  };
  const out: Connection[] = [];
  for (const name of INET_TABLES) {
    for (const s of parseInetTable(table(name))) {
      if (!inodes.has(s.inode)) continue;
      out.push({
        type: name,
        localAddress: formatEndpoint(s.localIp, s.localPort),
        remoteAddress: formatEndpoint(s.remoteIp, s.remotePort),
        state: connectionState(name, s),
      });
    }
  }
  for (const s of parseUnixTable(table("unix"))) {
    if (inodes.has(s.inode)) out.push({ type: "unix", localAddress: s.path, remoteAddress: "", state: s.state });
  }
  return out;
}
