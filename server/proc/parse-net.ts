// /proc/PID/net/{tcp,tcp6,udp,udp6,unix} and socket fd links.
// Addresses in the inet tables are hex dumps of 32-bit words in host byte order (so little-endian on x86 and
// arm64): "0100007F" is 127.0.0.1. Ports are plain hex numbers.
import { endianness } from "node:os";

export interface InetSocket {
  family: 4 | 6;
  localIp: string;
  localPort: number;
  remoteIp: string;
  remotePort: number;
  /** Kernel state name (tcp_states.h), e.g. "LISTEN", "ESTABLISHED"; "CLOSE" for an unconnected udp socket. */
  state: string;
  inode: number;
}

export interface UnixSocket {
  /** Bound path; "@name" for the abstract namespace; "" when unbound. */
  path: string;
  inode: number;
  type: "stream" | "dgram" | "seqpacket" | "unknown";
  /** "LISTEN", "CONNECTED", "CONNECTING", "DISCONNECTING" or "" (unconnected). */
  state: string;
}

const TCP_STATES = [
  "",
  "ESTABLISHED",
  "SYN_SENT",
  "SYN_RECV",
  "FIN_WAIT1",
  "FIN_WAIT2",
  "TIME_WAIT",
  "CLOSE",
  "CLOSE_WAIT",
  "LAST_ACK",
  "LISTEN",
  "CLOSING",
  "NEW_SYN_RECV",
];

export function tcpStateName(code: number): string {
  return TCP_STATES[code] || `UNKNOWN(${code})`;
}

const HOST_LITTLE_ENDIAN = endianness() === "LE";

function wordBytes(hex: string, out: number[], littleEndian: boolean): void {
  const w = parseInt(hex, 16);
  if (littleEndian) out.push(w & 0xff, (w >>> 8) & 0xff, (w >>> 16) & 0xff, w >>> 24);
  else out.push(w >>> 24, (w >>> 16) & 0xff, (w >>> 8) & 0xff, w & 0xff);
}

/** Text form of an IPv4 (4 bytes) or IPv6 (16 bytes) address; IPv6 compressed as RFC 5952 says. */
export function formatIp(bytes: readonly number[]): string {
  if (bytes.length === 4) return bytes.join(".");
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${bytes.slice(12).join(".")}`;
  }
  // The longest run of two or more zero groups becomes "::" (the first one on a tie).
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (gs: number[]) => gs.map((g) => g.toString(16)).join(":");
  if (bestAt < 0) return hex(groups);
  return `${hex(groups.slice(0, bestAt))}::${hex(groups.slice(bestAt + bestLen))}`;
}

function parseEndpoint(field: string, littleEndian: boolean): { ip: string; port: number; family: 4 | 6 } {
  const colon = field.indexOf(":");
  const hex = field.slice(0, colon);
  if ((hex.length !== 8 && hex.length !== 32) || colon < 0) throw new Error(`malformed socket address ${field}`);
  const bytes: number[] = [];
  for (let i = 0; i < hex.length; i += 8) wordBytes(hex.slice(i, i + 8), bytes, littleEndian);
  return { ip: formatIp(bytes), port: parseInt(field.slice(colon + 1), 16), family: hex.length === 8 ? 4 : 6 };
}

/** /proc/net/tcp, tcp6, udp or udp6 (they share one layout). */
export function parseInetTable(text: string, littleEndian = HOST_LITTLE_ENDIAN): InetSocket[] {
  const out: InetSocket[] = [];
  const lines = text.split("\n");
  for (let i = 1; i < lines.length; i++) {
    const f = lines[i]!.trim().split(/\s+/);
    if (f.length < 10) continue;
    const local = parseEndpoint(f[1]!, littleEndian);
    const remote = parseEndpoint(f[2]!, littleEndian);
    out.push({
      family: local.family,
      localIp: local.ip,
      localPort: local.port,
      remoteIp: remote.ip,
      remotePort: remote.port,
      state: tcpStateName(parseInt(f[3]!, 16)),
      inode: Number(f[9]),
    });
  }
  return out;
}

const SO_ACCEPTCON = 0x10000;
const UNIX_TYPES: Record<number, UnixSocket["type"]> = { 1: "stream", 2: "dgram", 5: "seqpacket" };
const UNIX_STATES = ["", "", "CONNECTING", "CONNECTED", "DISCONNECTING"];

/** /proc/net/unix: "Num RefCount Protocol Flags Type St Inode Path". */
export function parseUnixTable(text: string): UnixSocket[] {
  const out: UnixSocket[] = [];
  const lines = text.split("\n");
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const m = /^\s*[0-9a-fA-F]+:\s+[0-9a-fA-F]+\s+[0-9a-fA-F]+\s+([0-9a-fA-F]+)\s+([0-9a-fA-F]+)\s+([0-9a-fA-F]+)\s+(\d+)(?: (.*))?$/.exec(
      line,
    );
    if (!m) continue;
    const flags = parseInt(m[1]!, 16);
    out.push({
      path: m[5] ?? "",
      inode: Number(m[4]),
      type: UNIX_TYPES[parseInt(m[2]!, 16)] ?? "unknown",
      state: flags & SO_ACCEPTCON ? "LISTEN" : (UNIX_STATES[parseInt(m[3]!, 16)] ?? ""),
    });
  }
  return out;
}

/** The inode of an fd link "socket:[12345]", or undefined for anything else. */
export function socketInode(link: string): number | undefined {
  if (!link.startsWith("socket:[") || !link.endsWith("]")) return undefined;
  const v = Number(link.slice(8, -1));
  return Number.isInteger(v) ? v : undefined;
}

export function socketInodes(links: readonly string[]): Set<number> {
  const set = new Set<number>();
  for (const l of links) {
    const inode = socketInode(l);
    if (inode !== undefined) set.add(inode);
  }
  return set;
}
