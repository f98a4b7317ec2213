// Finds a process's gops agent the way the agent itself advertised it: a port file named after the pid in
// the TARGET's own config dir (resolved from its environment and passwd, seen through /proc/PID/root so
// containers and other users work), then checks that the port is a listening socket owned by that pid.
// A stale or spoofed file is reported, never trusted.
import { readlinkSync } from "node:fs";
import { posix } from "node:path";
import { AgentState, type Agent } from "../../proto/index.js";
import { errnoCode, errorText, isDenied, isGone } from "../proc/errno.js";
import { parseEnviron } from "../proc/parse-cmdline.js";
import { NetTables } from "../proc/net-tables.js";
import { socketInode, type InetSocket } from "../proc/parse-net.js";
import { parsePasswd } from "../proc/parse-passwd.js";
import { parseStat } from "../proc/parse-stat.js";
import { parseStatus } from "../proc/parse-status.js";
import type { PidDir, ProcFs } from "../proc/proc-fs.js";
import type { Credentials } from "../proc/target-file.js";
import { escapeLine } from "../../common/escape-text.js";
import { isLoopbackIp } from "../../common/loopback.js";

/** A port file holds at most "65535" and some whitespace; anything longer is not a port file. */
const MAX_PORT_FILE_BYTES = 64;
const MAX_PASSWD_BYTES = 4 * 1024 * 1024;

interface Candidate {
  dir: PidDir;
  path: string;
}

/** A located agent; for a LISTENING one also its socket (inode, descriptor) and the port file it came from. */
interface Located {
  agent: Agent;
  inode?: number;
  fd?: number;
  candidate?: Candidate;
  content?: string;
  who?: Credentials;
}

const agent = (state: AgentState, portFile: string, detail: string, port = 0, address = ""): Agent => ({
  state,
  portFile,
  address,
  port,
  // One line that may quote the target's paths or file content: controls escaped where it is built.
  detail: escapeLine(detail),
});
const located = (...args: Parameters<typeof agent>): Located => ({ agent: agent(...args) });

/**
 * Where agents of every gops version would have written the port file of a process, most likely first:
 * GOPS_CONFIG_DIR (verbatim), $XDG_CONFIG_HOME/gops, $HOME/.config/gops, <passwd home>/.config/gops, and
 * the v0.3.9 layout without the "gops" suffix. Relative paths are relative to the process's cwd.
 */
function* portFileCandidates(
  env: ReadonlyMap<string, string>,
  fileName: string,
  passwdHome: () => string | undefined,
): Generator<Candidate> {
  const seen = new Set<string>();
  function* at(dir: string | undefined, ...rest: string[]): Generator<Candidate> {
    if (!dir) return;
    const c: Candidate = dir.startsWith("/")
      ? { dir: "root", path: posix.join(dir, ...rest, fileName) }
      : { dir: "cwd", path: posix.join(dir, ...rest, fileName) };
    const key = `${c.dir}:${c.path}`;
    if (seen.has(key)) return;
    seen.add(key);
    yield c;
  }
  const xdg = env.get("XDG_CONFIG_HOME");
  const home = env.get("HOME");
  yield* at(env.get("GOPS_CONFIG_DIR"));
  yield* at(xdg, "gops");
  yield* at(home, ".config", "gops");
  yield* at(passwdHome(), ".config", "gops");
  if (xdg) yield* at(xdg);
  else yield* at(home, ".config");
}

/**
 * The address to dial for the owned listeners on one port: a loopback one (127.0.0.0/8, ::1), or loopback for a
 * wildcard (0.0.0.0 -> 127.0.0.1, :: -> ::1); undefined when the process listens there only off loopback (such an
 * agent is never dialled: the address may route anywhere, e.g. over a veth into another namespace).
 */
export function dialAddress(listeners: readonly InetSocket[], port: number): string | undefined {
  const rank = (s: InetSocket): [number, string] | undefined => {
    const ip = s.localIp.startsWith("::ffff:") && s.family === 6 ? s.localIp.slice(7) : s.localIp;
    if (ip === "0.0.0.0") return [0, `127.0.0.1:${port}`];
    if (ip === "::") return [1, `[::1]:${port}`];
    if (!isLoopbackIp(ip)) return undefined;
    return ip.includes(":") ? [1, `[::1]:${port}`] : [0, `${ip}:${port}`];
  };
  return listeners
    .map(rank)
    .filter((r) => r !== undefined)
    .sort((a, b) => a[0] - b[0])[0]?.[1];
}

/** How listening sockets are named in messages: "10.99.0.2:PORT", "[fd00::5]:PORT". */
function socketNames(listeners: readonly InetSocket[]): string {
  return listeners.map((s) => (s.localIp.includes(":") ? `[${s.localIp}]:${s.localPort}` : `${s.localIp}:${s.localPort}`)).join(", ");
}

/**
 * The port a port file holds: "1".."65535" with surrounding whitespace, nothing else, at most
 * MAX_PORT_FILE_BYTES. Pure; never throws.
 */
export function parsePortFile(raw: Uint8Array): number | undefined {
  if (raw.length > MAX_PORT_FILE_BYTES) return undefined;
  const text = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString("latin1").trim();
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  return port >= 1 && port <= 65535 ? port : undefined;
}

function verifyPort(fs: ProcFs, pid: number, portFile: string, raw: Buffer, tables: NetTables): Located {
  const port = parsePortFile(raw);
  if (port === undefined) {
    return located(
      AgentState.AGENT_STATE_INVALID,
      portFile,
      // Neither content nor size is echoed: the file is the target's, but what it says is not ours to repeat.
      "port file does not hold a port number in 1..65535",
    );
  }
  // The process's sockets: inode -> the descriptor holding it.
  let owned: Map<number, number> | undefined;
  let fdError: unknown;
  try {
    owned = new Map();
    for (const { fd, link } of fs.readFdEntries(pid)) {
      const inode = socketInode(link);
      if (inode !== undefined) owned.set(inode, fd);
    }
  } catch (e) {
    owned = undefined;
    fdError = e;
  }
  const listeners: InetSocket[] = [];
  try {
    for (const table of ["tcp", "tcp6"] as const) {
      for (const s of tables.listening(pid, table)) if (s.localPort === port) listeners.push(s);
      // An owned IPv4 listener on loopback or the wildcard is the best address there is: skip tcp6.
      if (listeners.some((s) => owned?.has(s.inode) && (s.localIp === "0.0.0.0" || s.localIp.startsWith("127.")))) break;
    }
  } catch (e) {
    return located(AgentState.AGENT_STATE_UNKNOWN, portFile, `cannot read the TCP sockets of pid ${pid}: ${errorText(e)}`, port);
  }
  if (listeners.length === 0) {
    return located(
      AgentState.AGENT_STATE_STALE,
      portFile,
      `nothing listens on TCP port ${port} in the network namespace of pid ${pid} (the agent is gone; the file was left behind)`,
      port,
    );
  }
  if (owned === undefined) {
    const why = isDenied(fdError) ? "permission denied" : isGone(fdError) ? "the process has exited" : errorText(fdError);
    return located(
      AgentState.AGENT_STATE_UNKNOWN,
      portFile,
      `port ${port} is listening but the open files of pid ${pid} cannot be read to check its owner: ${why}`,
      port,
    );
  }
  const mine = listeners.filter((s) => owned.has(s.inode));
  if (mine.length === 0) {
    return located(
      AgentState.AGENT_STATE_SPOOFED,
      portFile,
      `port ${port} is listened on by another process (socket inode ${listeners.map((s) => s.inode).join(", ")}), not by pid ${pid}; not dialled`,
      port,
    );
  }
  const address = dialAddress(mine, port);
  if (address === undefined) {
    return located(
      AgentState.AGENT_STATE_OFF_LOOPBACK,
      portFile,
      `pid ${pid} listens on ${socketNames(mine)}, not on loopback: gops agents are dialled on 127.0.0.0/8 or ::1 only; not dialled`,
      port,
    );
  }
  const inode = mine.find((s) => dialAddress([s], port) !== undefined)!.inode;
  return { agent: agent(AgentState.AGENT_STATE_LISTENING, portFile, "", port, address), inode, fd: owned.get(inode)! };
}

/**
 * The agent of process `pid` as its port file and sockets show it. Never throws. `tables` may be shared by
 * the lookups of one scan (the socket tables of a network namespace are read once).
 */
export function locateAgent(fs: ProcFs, pid: number, tables: NetTables = new NetTables(fs)): Agent {
  return locate(fs, pid, tables).agent;
}

function locate(fs: ProcFs, pid: number, tables: NetTables): Located {
  let env: Map<string, string>;
  let uid: number;
  let who: Credentials;
  let fileName: string;
  try {
    const status = parseStatus(fs.readStatus(pid));
    uid = status.uid;
    // Files under the target's root and cwd are read with the target's eyes: what it could not read, it
    // cannot make gopsd read for it (a port file symlinked to a root-only file).
    who = { uid: status.fsuid, gid: status.fsgid, groups: status.groups };
    // The agent names the file with the pid it sees: the innermost one when it runs in a pid namespace.
    fileName = String(status.nspid.at(-1) ?? pid);
    env = parseEnviron(fs.readEnviron(pid));
  } catch (e) {
    const why = isGone(e) ? "the process has exited" : isDenied(e) ? "permission denied" : errorText(e);
    return located(AgentState.AGENT_STATE_UNKNOWN, "", `cannot read the environment of pid ${pid}: ${why}`);
  }
  const passwdHome = (): string | undefined => {
    try {
      const text = fs.readFileUnder(pid, "root", "/etc/passwd", MAX_PASSWD_BYTES, who).toString("utf8");
      return parsePasswd(text).get(uid)?.home;
    } catch {
      return undefined;
    }
  };
  let denied: string | undefined;
  for (const c of portFileCandidates(env, fileName, passwdHome)) {
    const hostPath = fs.pathUnder(pid, c.dir, c.path);
    let raw: Buffer;
    try {
      raw = fs.readFileUnder(pid, c.dir, c.path, MAX_PORT_FILE_BYTES, who);
    } catch (e) {
      const code = errnoCode(e);
      if (code === "ENOENT" || code === "ENOTDIR") continue;
      if (isDenied(e)) {
        denied ??= hostPath;
        continue;
      }
      const why =
        code === "ENOTREG"
          ? "port file is not a regular file (a FIFO, device, socket or directory is never opened for reading)"
          : code === "EFBIG"
            ? `port file is longer than ${MAX_PORT_FILE_BYTES} bytes`
            : code === "ELOOP"
              ? "too many symbolic links on the way to the port file"
              : `cannot read the port file: ${errorText(e)}`;
      return located(AgentState.AGENT_STATE_INVALID, hostPath, why);
    }
    return { ...verifyPort(fs, pid, hostPath, raw, tables), candidate: c, content: raw.toString("latin1"), who };
  }
  if (denied !== undefined) {
    return located(AgentState.AGENT_STATE_UNKNOWN, denied, `cannot look for a port file at ${denied}: permission denied`);
  }
  return located(AgentState.AGENT_STATE_NONE, "", "no gops port file in the config directories of the process");
}

interface Verified {
  agent: Agent;
  inode: number;
  fd: number;
  candidate: Candidate;
  content: string;
  who: Credentials;
  starttime: number;
  /** When the port file was last read and found unchanged (nowMs clock). */
  portFileReadAt: number;
}

/**
 * How long a verified agent's port file is trusted without reading it again. The start time and the socket are
 * checked on every lookup; the port file only tells whether the agent now advertises another port, and reading it
 * (a walk of its path with the target's credentials, ~40 us) was most of the cost of a lookup under a stream of calls.
 */
export const PORT_FILE_RECHECK_MS = 1000;

/**
 * locateAgent with memory. Reading /proc/PID/net/tcp costs milliseconds (the kernel walks every socket of the
 * namespace), so a verified agent is remembered by the inode of its listening socket. A later lookup trusts
 * it only if the process is the same one (start time) and the descriptor that held the socket still holds it
 * (one readlink, however many files the process has open): a bound socket never changes its port, so the
 * verification still holds. Its port file must still say the same too, read again once PORT_FILE_RECHECK_MS
 * have passed since it last did (an agent that advertises a new port while its old socket stays open is dialled
 * on the old one, still its own, for at most that long). Anything else falls back to the full lookup.
 */
export class AgentLocator {
  private readonly verified = new Map<number, Verified>();

  /**
   * `ownNetns` is the network namespace the caller dials from (default: this process's). An agent verified in
   * another namespace carries that namespace in `networkNamespace`: its address means something only there
   * (127.0.0.1:PORT here may be a different process altogether), so it must be dialled from inside it.
   */
  constructor(
    private readonly fs: ProcFs,
    private readonly maxEntries = 4096,
    private readonly ownNetns: string | undefined = ownNetworkNamespace(),
    private readonly nowMs: () => number = () => performance.now(),
  ) {}

  locate(pid: number, tables: NetTables = new NetTables(this.fs)): Agent {
    const known = this.verified.get(pid);
    if (known !== undefined) {
      if (this.stillValid(pid, known)) return known.agent;
      this.verified.delete(pid);
    }
    const found = locate(this.fs, pid, tables);
    if (found.agent.state === AgentState.AGENT_STATE_LISTENING) {
      const theirs = netnsOf(this.fs, pid);
      if (theirs === undefined) {
        return {
          ...found.agent,
          state: AgentState.AGENT_STATE_UNKNOWN,
          address: "",
          detail: `the agent listens on port ${found.agent.port}, but the network namespace of pid ${pid} cannot be read to know where`,
        };
      }
      if (theirs !== this.ownNetns) found.agent = { ...found.agent, networkNamespace: theirs };
    }
    const { inode, fd, candidate, content, who } = found;
    if (inode !== undefined && fd !== undefined && candidate !== undefined && content !== undefined && who !== undefined) {
      const starttime = this.starttime(pid);
      if (starttime !== undefined) {
        if (this.verified.size >= this.maxEntries) this.verified.delete(this.verified.keys().next().value!);
        this.verified.set(pid, { agent: found.agent, inode, fd, candidate, content, who, starttime, portFileReadAt: this.nowMs() });
      }
    }
    return found.agent;
  }

  /** The start time of pid when its agent was verified (undefined when not remembered). */
  verifiedStart(pid: number): number | undefined {
    return this.verified.get(pid)?.starttime;
  }

  private starttime(pid: number): number | undefined {
    try {
      return parseStat(this.fs.readStat(pid)).starttime;
    } catch {
      return undefined;
    }
  }

  private stillValid(pid: number, v: Verified): boolean {
    try {
      if (this.starttime(pid) !== v.starttime) return false;
      if (socketInode(this.fs.readFdLink(pid, v.fd)) !== v.inode) return false;
      const now = this.nowMs();
      if (now - v.portFileReadAt >= PORT_FILE_RECHECK_MS) {
        const content = this.fs.readFileUnder(pid, v.candidate.dir, v.candidate.path, MAX_PORT_FILE_BYTES, v.who);
        if (content.toString("latin1") !== v.content) return false;
        v.portFileReadAt = now;
      }
      return true;
    } catch {
      return false;
    }
  }
}

/**
 * This process's network namespace from its own /proc/self (not the ProcFs root: with --proc-root gopsd may read
 * another pid namespace's /proc, where process.pid names someone else). nsfs inode numbers are host-wide.
 */
function ownNetworkNamespace(): string | undefined {
  try {
    return readlinkSync("/proc/self/ns/net");
  } catch {
    return undefined;
  }
}

function netnsOf(fs: ProcFs, pid: number): string | undefined {
  try {
    return fs.readNetNamespace(pid);
  } catch {
    return undefined;
  }
}
