// Finds a Go process's net/http/pprof endpoint. Probing sends requests to production services, so it happens
// only when asked (a diagnostic call on a process without a usable gops agent, a listing with probe); a plain
// listing consults only what is known: endpoints verified before (remembered by socket inode, re-verified
// with one readlink, forgotten when the socket goes) and endpoints declared in gopsd's config.
//
// A probe goes only to a listening TCP socket the pid owns (its inode among /proc/PID/fd), on loopback
// (127.0.0.1 or ::1 as the socket is bound; a wildcard listener is dialled on loopback; a socket bound to
// another address is not probed), never to a port that a socket of another process also listens on. A process
// in another network namespace (a container) is probed and called in ITS namespace, through the per-call relay
// of ../agent/netns-dial.ts (same loopback-only rule, same budget and limits; its sockets as that namespace
// shows them); never by dialling the port from gopsd's own namespace. It is `GET <prefix>/debug/pprof/cmdline`, which must equal the process's
// argv (so the endpoint belongs to that process), then `GET <prefix>/debug/pprof/`, which must be the index.
// Every request has a short deadline and a small reply limit; a listing has a budget of requests and time.
import { AgentKind, type Agent } from "../../proto/index.js";
import { errorText } from "../proc/errno.js";
import { NetTables } from "../proc/net-tables.js";
import { parseCmdline } from "../proc/parse-cmdline.js";
import { socketInode, type InetSocket } from "../proc/parse-net.js";
import { parseStat } from "../proc/parse-stat.js";
import type { ProcFs } from "../proc/proc-fs.js";
import { formatTarget, httpGet, readBody, type HttpTarget, type RelayedNamespace } from "./http-get.js";

/** An endpoint declared in gopsd's config for muxes mounted elsewhere (or ports one does not want probed). */
export interface DeclaredEndpoint {
  /** Match: at least one of pid, exe (exact /proc/PID/exe path) and cmdline (substring of argv joined by spaces). */
  readonly pid?: number;
  readonly exe?: string;
  readonly cmdline?: string;
  readonly port: number;
  /** Path before /debug/pprof/, "" or e.g. "/admin". */
  readonly prefix: string;
}

export interface PprofEndpoint {
  readonly target: HttpTarget;
  readonly prefix: string;
  /** A request confirmed that the endpoint belongs to the process. */
  readonly verified: boolean;
}

export interface ProbeBudget {
  /** Most HTTP requests in all. */
  maxRequests: number;
  /** Time for the whole probing, ms. */
  totalMs: number;
  /** Probes run at once. */
  concurrency: number;
}

export interface PprofLocatorOptions {
  declared?: readonly DeclaredEndpoint[];
  /** Deadline of one probe request (default 500 ms). */
  requestTimeoutMs?: number;
  /** Reply limit of one probe request (default 64 KiB). */
  maxReplyBytes?: number;
  /** How long a socket that is not pprof is not probed again by listings (default 10 min). */
  negativeTtlMs?: number;
  /** The network namespace gopsd dials from (default its own). */
  ownNetns?: string | undefined;
  /**
   * Reach processes in other network namespaces through a relay started inside theirs (default true; needs
   * CAP_SYS_ADMIN and CAP_SYS_PTRACE, else such probes fail like unreachable ports). false: leave them out.
   */
  relay?: boolean;
  /** Most remembered endpoints and negatives (default 4096 each). */
  maxEntries?: number;
  /**
   * Only processes whose executable (/proc/PID/exe) is one of these are probed: exact paths, or prefixes
   * written with a trailing `*`. Default: every Go process. Declared endpoints are always verified.
   */
  probeExe?: readonly string[];
}

export const LISTING_BUDGET: ProbeBudget = Object.freeze({ maxRequests: 64, totalMs: 2_000, concurrency: 4 });
export const CALL_BUDGET: ProbeBudget = Object.freeze({ maxRequests: 16, totalMs: 3_000, concurrency: 2 });

interface Remembered {
  endpoint: PprofEndpoint;
  starttime: number;
  fd: number;
  inode: number;
}

/** One listening port of a process that may be probed. */
interface Candidate {
  target: HttpTarget;
  inode: number;
  fd: number;
}

/** The Agent fields that describe an HTTP endpoint. */
export function httpAgentFields(ep: PprofEndpoint): Pick<Agent, "kind" | "httpAddress" | "httpPathPrefix" | "httpVerified" | "networkNamespace"> {
  return {
    kind: AgentKind.AGENT_KIND_HTTP_PPROF,
    httpAddress: formatTarget(ep.target),
    httpPathPrefix: ep.prefix,
    httpVerified: ep.verified,
    ...(ep.target.netns !== undefined ? { networkNamespace: ep.target.netns.ns.netns } : {}),
  };
}

export class PprofLocator {
  private readonly known = new Map<number, Remembered>();
  /** Socket inode + prefix → when a probe found it is not pprof may be retried. */
  private readonly negative = new Map<string, number>();
  private readonly declared: readonly DeclaredEndpoint[];
  private readonly requestTimeoutMs: number;
  private readonly maxReplyBytes: number;
  private readonly negativeTtlMs: number;
  private readonly ownNetns: string | undefined;
  private readonly maxEntries: number;
  private readonly probeExe: readonly string[] | undefined;
  private readonly relay: boolean;
  /** Requests sent by probes since start (for tests and the bench). */
  requestsSent = 0;

  constructor(
    private readonly fs: ProcFs,
    opts: PprofLocatorOptions = {},
  ) {
    this.declared = opts.declared ?? [];
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 500;
    this.maxReplyBytes = opts.maxReplyBytes ?? 64 * 1024;
    this.negativeTtlMs = opts.negativeTtlMs ?? 10 * 60_000;
    this.ownNetns = "ownNetns" in opts ? opts.ownNetns : netnsOf(fs, process.pid);
    this.maxEntries = opts.maxEntries ?? 4096;
    this.probeExe = opts.probeExe;
    this.relay = opts.relay ?? true;
  }

  /**
   * What is known about pid without sending anything: a remembered endpoint whose socket is still the one
   * verified, else a declared one whose port pid listens on. Never throws.
   */
  lookup(pid: number, tables: NetTables = new NetTables(this.fs)): PprofEndpoint | undefined {
    const r = this.known.get(pid);
    if (r !== undefined) {
      if (this.stillValid(pid, r)) return r.endpoint;
      this.known.delete(pid);
    }
    for (const d of this.declaredFor(pid)) {
      const c = this.candidates(pid, tables).ports.get(d.port);
      if (c) return { target: c.target, prefix: d.prefix, verified: false };
    }
    return undefined;
  }

  /**
   * Probes the processes (Go, without a usable gops agent) within one budget, concurrently; returns the
   * endpoints found. `useNegative`: skip sockets found not to be pprof recently (listings); a diagnostic call
   * asks afresh.
   */
  async probe(
    pids: readonly number[],
    budget: ProbeBudget,
    opts: { signal?: AbortSignal; useNegative: boolean; tables?: NetTables },
  ): Promise<Map<number, PprofEndpoint>> {
    const tables = opts.tables ?? new NetTables(this.fs);
    const found = new Map<number, PprofEndpoint>();
    const state = { requests: 0, deadline: Date.now() + budget.totalMs };
    const jobs: Array<() => Promise<void>> = [];
    for (const pid of pids) {
      const known = this.lookup(pid, tables);
      if (known?.verified) {
        found.set(pid, known);
        continue;
      }
      const { ports } = this.candidates(pid, tables);
      // Declared prefixes first (on their port), then the default mux on every other port.
      const tries: Array<{ c: Candidate; prefix: string }> = [];
      for (const d of this.declaredFor(pid)) {
        const c = ports.get(d.port);
        if (c) tries.push({ c, prefix: d.prefix });
      }
      if (this.mayProbe(pid)) for (const c of ports.values()) if (!tries.some((t) => t.c === c)) tries.push({ c, prefix: "" });
      if (tries.length === 0) continue;
      jobs.push(async () => {
        const cmdline = this.cmdlineOf(pid);
        if (cmdline === undefined) return;
        for (const t of tries) {
          const key = `${t.c.inode}:${t.prefix}`;
          if (opts.useNegative && (this.negative.get(key) ?? 0) > Date.now()) continue;
          const verdict = await this.probeOne(t.c.target, t.prefix, cmdline, state, budget, opts.signal);
          if (verdict === "budget") return;
          if (verdict === "pprof") {
            const ep: PprofEndpoint = { target: t.c.target, prefix: t.prefix, verified: true };
            this.remember(pid, ep, t.c);
            this.negative.delete(key);
            found.set(pid, ep);
            return;
          }
          if (this.negative.size >= this.maxEntries) this.negative.delete(this.negative.keys().next().value!);
          this.negative.set(key, Date.now() + this.negativeTtlMs);
        }
      });
    }
    await runPool(jobs, budget.concurrency);
    return found;
  }

  /** Why pid has no endpoint to probe, for messages; "" when it has candidates. */
  whyNone(pid: number, tables: NetTables = new NetTables(this.fs)): string {
    if (!this.mayProbe(pid) && this.declaredFor(pid).length === 0) return "its executable is not among those gopsd's config allows to probe (pprof.probeExe)";
    const c = this.candidates(pid, tables);
    if (c.ports.size > 0) return "";
    return c.why;
  }

  /** One probe: cmdline must equal argv, then the index must be served. */
  private async probeOne(
    target: HttpTarget,
    prefix: string,
    cmdline: string,
    state: { requests: number; deadline: number },
    budget: ProbeBudget,
    signal: AbortSignal | undefined,
  ): Promise<"pprof" | "not" | "budget"> {
    const get = async (path: string, maxBytes: number): Promise<{ status: number; body: Buffer } | "budget" | undefined> => {
      const left = state.deadline - Date.now();
      if (state.requests >= budget.maxRequests || left <= 0 || signal?.aborted) return "budget";
      state.requests++;
      this.requestsSent++;
      const ms = Math.max(1, Math.min(this.requestTimeoutMs, left));
      try {
        const res = await httpGet(target, path, { signal, connectTimeoutMs: ms, deadlineMs: ms, maxBytes, what: "a pprof probe" });
        if (res.status !== 200) {
          res.close();
          return { status: res.status, body: Buffer.alloc(0) };
        }
        return { status: 200, body: await readBody(res) };
      } catch {
        return undefined; // unreachable, too slow, too large, not HTTP: not a pprof endpoint we can use
      }
    };
    const cmd = await get(`${prefix}/debug/pprof/cmdline`, this.maxReplyBytes);
    if (cmd === "budget") return "budget";
    if (cmd === undefined || cmd.status !== 200 || cmd.body.toString("latin1") !== cmdline) return "not";
    const index = await get(`${prefix}/debug/pprof/`, this.maxReplyBytes);
    if (index === "budget") return "budget";
    if (index === undefined || index.status !== 200 || !index.body.includes("goroutine")) return "not";
    return "pprof";
  }

  private mayProbe(pid: number): boolean {
    if (this.probeExe === undefined) return true;
    let exe: string;
    try {
      exe = this.fs.readExeLink(pid);
    } catch {
      return false;
    }
    return this.probeExe.some((p) => (p.endsWith("*") ? exe.startsWith(p.slice(0, -1)) : exe === p));
  }

  /** The argv as net/http/pprof's cmdline handler writes it: joined by NUL, no trailing NUL. */
  private cmdlineOf(pid: number): string | undefined {
    try {
      const argv = parseCmdline(this.fs.readCmdline(pid));
      return argv.length > 0 ? argv.join("\0") : undefined;
    } catch {
      return undefined;
    }
  }

  private declaredFor(pid: number): DeclaredEndpoint[] {
    if (this.declared.length === 0) return [];
    let exe: string | undefined;
    let cmdline: string | undefined;
    const out: DeclaredEndpoint[] = [];
    for (const d of this.declared) {
      if (d.pid !== undefined && d.pid !== pid) continue;
      if (d.exe !== undefined) {
        try {
          exe ??= this.fs.readExeLink(pid);
        } catch {
          continue;
        }
        if (exe !== d.exe) continue;
      }
      if (d.cmdline !== undefined) {
        try {
          cmdline ??= parseCmdline(this.fs.readCmdline(pid)).join(" ");
        } catch {
          continue;
        }
        if (!cmdline.includes(d.cmdline)) continue;
      }
      out.push(d);
    }
    return out;
  }

  /** pid's listening TCP ports that may be probed, by port; or why there are none. */
  private candidates(pid: number, tables: NetTables): { ports: Map<number, Candidate>; why: string } {
    const ports = new Map<number, Candidate>();
    let netns: RelayedNamespace | undefined;
    if (this.ownNetns !== undefined) {
      const theirs = netnsOf(this.fs, pid);
      if (theirs !== this.ownNetns) {
        if (theirs === undefined || !this.relay) return { ports, why: `it is in another network namespace (${theirs ?? "unreadable"})` };
        let starttime: number;
        try {
          starttime = parseStat(this.fs.readStat(pid)).starttime;
        } catch (e) {
          return { ports, why: `cannot read pid ${pid}: ${errorText(e)}` };
        }
        // Its sockets below are read in its namespace's view (/proc/PID/net/tcp); requests go through a relay there.
        netns = { fs: this.fs, ns: { pid, netns: theirs, starttime } };
      }
    }
    const owned = new Map<number, number>();
    try {
      for (const { fd, link } of this.fs.readFdEntries(pid)) {
        const inode = socketInode(link);
        if (inode !== undefined) owned.set(inode, fd);
      }
    } catch (e) {
      return { ports, why: `cannot read the open files of pid ${pid}: ${errorText(e)}` };
    }
    const listeners: InetSocket[] = [];
    try {
      for (const table of ["tcp", "tcp6"] as const) listeners.push(...tables.listening(pid, table));
    } catch (e) {
      return { ports, why: `cannot read the TCP sockets of pid ${pid}: ${errorText(e)}` };
    }
    const byPort = new Map<number, InetSocket[]>();
    for (const s of listeners) byPort.set(s.localPort, [...(byPort.get(s.localPort) ?? []), s]);
    for (const [port, socks] of byPort) {
      const mine = socks.filter((s) => owned.has(s.inode));
      if (mine.length === 0 || mine.length !== socks.length) continue; // not pid's, or shared with another process
      const t = loopbackTarget(mine);
      if (t) ports.set(port, { target: { host: t.host, port, ...(netns !== undefined ? { netns } : {}) }, inode: t.inode, fd: owned.get(t.inode)! });
    }
    return { ports, why: ports.size === 0 ? "it listens on no loopback or wildcard TCP port of its own" : "" };
  }

  private remember(pid: number, endpoint: PprofEndpoint, c: Candidate): void {
    let starttime: number;
    try {
      starttime = parseStat(this.fs.readStat(pid)).starttime;
    } catch {
      return;
    }
    if (this.known.size >= this.maxEntries) this.known.delete(this.known.keys().next().value!);
    this.known.set(pid, { endpoint, starttime, fd: c.fd, inode: c.inode });
  }

  private stillValid(pid: number, r: Remembered): boolean {
    try {
      if (parseStat(this.fs.readStat(pid)).starttime !== r.starttime) return false;
      return socketInode(this.fs.readFdLink(pid, r.fd)) === r.inode;
    } catch {
      return false;
    }
  }
}

/** Where to dial a port pid listens on: its loopback address, or loopback for a wildcard; else none. */
function loopbackTarget(socks: readonly InetSocket[]): { host: string; inode: number } | undefined {
  const rank = (s: InetSocket): [number, string] | undefined => {
    const ip = s.family === 6 && s.localIp.startsWith("::ffff:") ? s.localIp.slice(7) : s.localIp;
    if (ip === "0.0.0.0") return [0, "127.0.0.1"];
    if (ip.startsWith("127.")) return [0, ip];
    if (ip === "::1" || ip === "::") return [1, "::1"];
    return undefined;
  };
  let best: { r: number; host: string; inode: number } | undefined;
  for (const s of socks) {
    const r = rank(s);
    if (r && (best === undefined || r[0] < best.r)) best = { r: r[0], host: r[1], inode: s.inode };
  }
  return best && { host: best.host, inode: best.inode };
}

async function runPool(jobs: ReadonlyArray<() => Promise<void>>, concurrency: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) await jobs[next++]!();
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, jobs.length)) }, worker));
}

function netnsOf(fs: ProcFs, pid: number): string | undefined {
  try {
    return fs.readNetNamespace(pid);
  } catch {
    return undefined;
  }
}
