// Dialling an agent (or an HTTP endpoint) that listens inside another network namespace (a container with its own
// network). 127.0.0.1:PORT means a different socket in every network namespace, so such a port can only be reached
// from inside its own namespace.
//
// dialInNamespace() opens the target's /proc/PID/ns/net and checks it against the namespace the port was verified
// in (same nsfs inode, same process start time: a reused pid or a process that moved to another namespace is never
// dialled into), right before the socket is made. Then, in order of preference:
//
// 1. setns (netns-socket.ts): gopsd's main thread enters the namespace, makes a nonblocking socket there and
//    returns; Node (libuv) connects that socket to the loopback port like any other. No process, microseconds.
// 2. The relay, only where (1) is not possible: koffi could not be loaded (native-ffi.ts), setns was refused
//    (EPERM), or GOPSCTL_NETNS_DIAL=relay is set (forces this path, for tests and for a node where loading native
//    code is unwanted). Logged once per process with the reason (setNamespaceDialLog). For each call a short-lived
//    process speaks the wire protocol through its stdin/stdout:
//
//      setpriv --pdeathsig KILL nsenter --net=/proc/self/fd/3 -- bash -c '<RELAY_SCRIPT>' HOST PORT
//
//    (fd 3: the target's namespace). The relay connects with bash's /dev/tcp and writes one marker byte ("+") once
//    connected; it then takes ONE line from stdin, the request with every byte written as a printf escape (\xNN),
//    writes it to the agent, and becomes `cat` from the socket to stdout until the agent's EOF. One process, only
//    execs (setpriv -> nsenter -> bash -> cat), no fork: a gops request is a single write, so nothing else needs to
//    flow towards the agent (an HTTP GET is one write too). Only Debian base packages (util-linux setpriv and
//    nsenter, bash, coreutils cat); nothing stays resident between calls.
//
//    Clean-up: destroy() SIGKILLs the relay unless it has exited (every exit path of the callers destroys their
//    connection). The relay dies with gopsd: setpriv sets PR_SET_PDEATHSIG=SIGKILL, kept across the execs, so a
//    SIGKILLed gopsd takes its relays with it (none stays in the namespace holding it alive). Every relay carries
//    GOPSD_RELAY=<owner pid> in its environment, so leftovers are easy to find (the tests look for them).
//    (Measured: a new process group per relay, or a background copier on stdin, costs several ms per call.)
import type { ChildProcess } from "node:child_process";
import { closeSync, fstatSync } from "node:fs";
import { Duplex } from "node:stream";
import { type GopsError, agentUnavailable, osPermission, processNotFound } from "../../common/errors.js";
import { errorText, isDenied, isGone } from "../proc/errno.js";
import { parseStat } from "../proc/parse-stat.js";
import type { ProcFs } from "../proc/proc-fs.js";
import type { AgentAddress } from "./client.js";
import { loadFfi } from "./native-ffi.js";
import { createNamespaceSockets, SetnsRefused, type NamespaceSockets } from "./netns-socket.js";

/** Exit status of the relay when bash cannot connect (any other status: nsenter or bash failed). */
const CONNECT_FAILED = 97;
/** Exit status of the relay when its stdin ended before the request line. */
const NO_REQUEST = 98;
const MARKER = 0x2b; // "+"
const STDERR_CAP = 4096;

// $0 = host, $1 = port. The request line holds only \xNN escapes, so printf writes exactly those bytes.
const RELAY_SCRIPT = [
  `exec 3<>"/dev/tcp/$0/$1" || exit ${CONNECT_FAILED}`,
  "printf +",
  `IFS= read -r req || exit ${NO_REQUEST}`,
  'printf "$req" >&3',
  "exec cat <&3 3<&-",
].join("\n");

/** The request as the relay's stdin line: every byte as \xNN, then a newline. */
export function encodeRelayRequest(request: Buffer): string {
  let line = "";
  for (const b of request) line += `\\x${b.toString(16).padStart(2, "0")}`;
  return `${line}\n`;
}

/** The fixed, minimal environment of a relay: no BASH_ENV or anything else from gopsd's environment. */
function relayEnv(): NodeJS.ProcessEnv {
  return { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", LC_ALL: "C", GOPSD_RELAY: String(process.pid) };
}

/** What the agent's socket was verified in: the namespace (e.g. "net:[4026532801]") and the process's start. */
export interface VerifiedNamespace {
  pid: number;
  netns: string;
  starttime: number;
}

/**
 * Opens /proc/PID/ns/net of `target.pid` and checks that it is still the namespace the agent was verified in,
 * held by the same process. Returns the descriptor (the caller closes it). Throws NOT_FOUND when the process is
 * gone (or its pid now belongs to another process), UNAVAILABLE when it moved to another network namespace.
 */
export function openVerifiedNamespace(fs: ProcFs, target: VerifiedNamespace): number {
  try {
    const fd = openChecked(fs, target);
    namespaceDials.opened++;
    return fd;
  } catch (e) {
    namespaceDials.failed++;
    throw e;
  }
}

/** Dials into another network namespace since this process started (gopsd's metrics: gopsd_namespace_dials_total). */
export const namespaceDials = { opened: 0, failed: 0 };

function openChecked(fs: ProcFs, target: VerifiedNamespace): number {
  const { pid } = target;
  let fd: number;
  try {
    fd = fs.openNetNamespace(pid);
  } catch (e) {
    if (isGone(e)) throw processNotFound(pid);
    if (isDenied(e)) throw namespaceDenied(`opening the network namespace of pid ${pid}`);
    throw agentUnavailable(`pid ${pid}`, `cannot open its network namespace: ${errorText(e)}`);
  }
  try {
    let starttime: number;
    try {
      starttime = parseStat(fs.readStat(pid)).starttime;
    } catch (e) {
      if (isGone(e)) throw processNotFound(pid);
      throw e;
    }
    // Read after the open: the descriptor belongs to the process that still has this start time.
    if (starttime !== target.starttime) throw processNotFound(pid);
    const inode = fstatSync(fd).ino;
    if (`net:[${inode}]` !== target.netns) {
      throw agentUnavailable(
        `pid ${pid}`,
        `it left the network namespace its agent was verified in (${target.netns}, now net:[${inode}]); list it again`,
      );
    }
    return fd;
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

/** Reaching into another network namespace needs more than reading /proc: say exactly what. */
function namespaceDenied(what: string): GopsError {
  return osPermission(
    `${what}: permission denied (an agent in another network namespace needs CAP_SYS_ADMIN and CAP_SYS_PTRACE, or root)`,
  );
}

/** Where a relayed address is, for messages: "127.0.0.1:41234 in net:[4026532801] of pid 4711". */
export function describeRelayTarget(addr: AgentAddress, target: VerifiedNamespace): string {
  const host = addr.host.includes(":") ? `[${addr.host}]` : addr.host;
  return `${host}:${addr.port} in ${target.netns} of pid ${target.pid}`;
}

/** The env var that forces the relay (value "relay"), e.g. for tests of the fallback. */
export const DIAL_ENV = "GOPSCTL_NETNS_DIAL";

type DialPath = { ok: true; sockets: NamespaceSockets } | { ok: false; why: string };
let dialPath: DialPath | undefined;
let log: (line: string) => void = () => {};
const logged = new Set<string>();

/** Where the one-time notes about the relay fallback go (gopsd: its log; default: nowhere). */
export function setNamespaceDialLog(sink: (line: string) => void): void {
  log = sink;
}

/** Says once per process and reason that namespaced ports are reached through the relay. */
function noteFallback(why: string): void {
  if (logged.has(why)) return;
  logged.add(why);
  log(`reaching ports in other network namespaces through a relay process per call (setpriv + nsenter + bash): ${why}`);
}

/** How this process makes sockets in other namespaces: decided at the first namespaced dial, kept for its life. */
function namespaceSockets(): DialPath {
  if (dialPath !== undefined) return dialPath;
  const forced = process.env[DIAL_ENV];
  if (forced === "relay") dialPath = { ok: false, why: `${DIAL_ENV}=relay is set` };
  else dialPath = createNamespaceSockets(loadFfi());
  return dialPath;
}

/**
 * A connection to `addr` inside the network namespace of `target`, verified again right now (throws NOT_FOUND when
 * the process is gone, UNAVAILABLE when it moved to another network namespace). A net.Socket made in that namespace
 * by setns, connecting; else (see the top of this file) a RelaySocket. Either emits "connect" once connected.
 */
export function dialInNamespace(fs: ProcFs, target: VerifiedNamespace, addr: AgentAddress, where: string): Duplex {
  const nsFd = openVerifiedNamespace(fs, target);
  try {
    const how = namespaceSockets();
    if (!how.ok) {
      noteFallback(how.why);
      return new RelaySocket(nsFd, addr, where);
    }
    const net = process.getBuiltinModule("node:net");
    let fd: number;
    try {
      fd = how.sockets.socketIn(nsFd, net.isIPv6(addr.host) ? 6 : 4);
    } catch (e) {
      if (e instanceof SetnsRefused) {
        noteFallback(`setns into a network namespace was refused (EPERM: no CAP_SYS_ADMIN over it, e.g. gopsd in a user namespace of its own)`);
        return new RelaySocket(nsFd, addr, where);
      }
      throw agentUnavailable(where, errorText(e));
    }
    let socket: import("node:net").Socket;
    try {
      socket = new net.Socket({ fd, readable: true, writable: true });
    } catch (e) {
      closeSync(fd);
      throw agentUnavailable(where, `cannot use the socket made in its namespace: ${errorText(e)}`);
    }
    // libuv connects the socket it was given (its namespace is the one it was made in), nonblocking.
    return socket.connect({ host: addr.host, port: addr.port, noDelay: true });
  } finally {
    closeSync(nsFd); // a relay has its own copy; a socket no longer needs it
  }
}

/**
 * A connection to `addr` made from inside the network namespace open at `nsFd` (which this function does not
 * close: the caller closes it once this returns, the relay has its own copy). Behaves like a net.Socket for the
 * agent client: "connect" once connected inside the namespace, the agent's bytes, "end" at its EOF, "error"
 * (a GopsError) when the relay cannot connect or dies.
 */
export class RelaySocket extends Duplex {
  private readonly child: ChildProcess;
  private connected = false;
  private exited = false;
  private requestSent = false;
  private stderr = "";

  constructor(
    nsFd: number,
    private readonly addr: AgentAddress,
    private readonly where: string,
  ) {
    super({ allowHalfOpen: true });
    // node:child_process at the first relay: it loads net and dgram, which a local `gopsctl ps` never needs.
    // setpriv first: PR_SET_PDEATHSIG=SIGKILL, so that the relay cannot outlive gopsd (issue 17, item 6).
    const argv = ["--pdeathsig", "KILL", "nsenter", "--net=/proc/self/fd/3", "--", "bash", "-c", RELAY_SCRIPT, addr.host, String(addr.port)];
    this.child = process.getBuiltinModule("node:child_process").spawn("setpriv", argv, {
      stdio: ["pipe", "pipe", "pipe", nsFd],
      env: relayEnv(),
    });
    const child = this.child;
    child.stdin!.on("error", () => {}); // EPIPE after the relay is gone: reported through "close" below
    child.stderr!.setEncoding("utf8");
    child.stderr!.on("data", (s: string) => {
      if (this.stderr.length < STDERR_CAP) this.stderr += s;
    });
    child.stdout!.on("data", (chunk: Buffer) => {
      if (!this.connected) {
        if (chunk[0] !== MARKER) {
          this.destroy(agentUnavailable(this.where, "the relay sent an unexpected first byte"));
          return;
        }
        this.connected = true;
        this.emit("connect");
        chunk = chunk.subarray(1);
        if (chunk.length === 0) return;
      }
      if (!this.push(chunk)) child.stdout!.pause();
    });
    child.once("error", (e) => this.destroy(agentUnavailable(this.where, `cannot start the relay: ${e.message}`)));
    child.once("exit", () => (this.exited = true));
    // After the exit and the end of stdout/stderr: every byte the agent sent has been taken by then.
    child.once("close", (code, signal) => {
      this.exited = true;
      if (this.destroyed) return;
      if (code === 0 && this.connected) {
        this.push(null);
        return;
      }
      this.destroy(this.failure(code, signal));
    });
  }

  /** The relay's pid. */
  get pid(): number | undefined {
    return this.child.pid;
  }

  private failure(code: number | null, signal: NodeJS.Signals | null): GopsError {
    const why = firstMeaningfulLine(this.stderr);
    if (!this.connected && code === CONNECT_FAILED) {
      return agentUnavailable(this.where, `connection refused or failed inside the namespace${why ? ` (${why})` : ""}`);
    }
    if (/Operation not permitted|Permission denied/i.test(why)) {
      return namespaceDenied(`entering the network namespace to reach the gops agent at ${this.where}`);
    }
    const status = signal ? `signal ${signal}` : `status ${code}`;
    return agentUnavailable(
      this.where,
      this.connected ? `the relay ended with ${status} before the reply ended` : `the relay exited with ${status}${why ? `: ${why}` : ""}`,
    );
  }

  override _read(): void {
    this.child.stdout?.resume();
  }

  /** The first write is the request; the gops protocol sends nothing after it, and neither can the relay. */
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    if (this.requestSent) {
      cb(agentUnavailable(this.where, "the relay carries one request per connection"));
      return;
    }
    this.requestSent = true;
    this.child.stdin!.end(encodeRelayRequest(chunk), () => cb(null));
  }

  override _destroy(err: Error | null, cb: (e: Error | null) => void): void {
    // Not yet reaped: its pid is still its own, so the kill cannot reach anyone else.
    if (!this.exited) this.child.kill("SIGKILL");
    this.child.stdin?.destroy();
    this.child.stdout?.destroy();
    this.child.stderr?.destroy();
    cb(err);
  }

  override toString(): string {
    return `relay to ${this.addr.host}:${this.addr.port}`;
  }
}

function firstMeaningfulLine(text: string): string {
  const line = text.split("\n").map((l) => l.trim()).find((l) => l !== "") ?? "";
  // stderr of nsenter/bash only, but keep it one printable line.
  return line.replace(/[^\x20-\x7e]/g, "?").slice(0, 200);
}
