// A TCP socket that lives in another network namespace, made by gopsd itself (no process):
//
//   setns(target, CLONE_NEWNET)  ->  socket(AF_INET[6], SOCK_STREAM|SOCK_NONBLOCK|SOCK_CLOEXEC)  ->  setns(own)
//
// A network namespace is a property of a thread, and a socket belongs for its whole life to the namespace of the
// thread that created it: after the return, the socket still routes, binds and connects in the target's namespace
// (127.0.0.1 there is the container's loopback), while every thread of gopsd is back in gopsd's own namespace.
// The three calls run synchronously on Node's main thread, a few microseconds, so nothing else runs on that thread
// meanwhile (no callback, no spawn); the other threads (libuv's pool, V8's) never leave gopsd's namespace.
// The connect is NOT made here: the socket goes to Node (net.Socket over the descriptor) and libuv connects it,
// nonblocking, on the event loop, under the call's connect timeout, deadline and AbortSignal (a listener whose
// backlog is full holds no thread).
//
// Safety: gopsd's own namespace is opened once (/proc/self/ns/net, at the first use, before any setns). If the
// return to it fails, the main thread would stay in a foreign namespace (every later socket, file under /proc/net
// and child process would be the container's): that is fatal, gopsd aborts at once after one line on stderr.
//
// Needs CAP_SYS_ADMIN in the user namespace that owns the target's network namespace (root on the node does; a
// gopsd in a user namespace of its own does not, for a container of the host's user namespace): setns then fails
// with EPERM, reported as SetnsRefused so that the caller can fall back (netns-dial.ts).
import { openSync, writeSync } from "node:fs";
import type { FfiLoad } from "./native-ffi.js";

const CLONE_NEWNET = 0x40000000;
const AF_INET = 2;
const AF_INET6 = 10;
const SOCK_STREAM = 1;
// Linux's generic values (x86, arm, riscv, loongarch); not those of mips/sparc/alpha, where Node does not run.
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const EPERM = 1;

/** setns into the target's namespace was refused (EPERM): no CAP_SYS_ADMIN over it. */
export class SetnsRefused extends Error {}

/** Makes sockets inside other network namespaces. */
export interface NamespaceSockets {
  /** A nonblocking, close-on-exec TCP socket (IPv4 or IPv6) of the network namespace open at `nsFd`. */
  socketIn(nsFd: number, family: 4 | 6): number;
}

export interface NamespaceSocketsOptions {
  /**
   * The descriptor to return to after each socket (default: /proc/self/ns/net, opened now, kept open for the
   * process's life). Must be a network namespace descriptor; anything else makes the first return fail (fatal).
   */
  ownNamespaceFd?: number;
  /** What a failed return does after its message is written (default: process.abort()). */
  fatal?: (message: string) => never;
}

/** The setns path over `ffi`, or why it is not available. */
export function createNamespaceSockets(ffi: FfiLoad, opts: NamespaceSocketsOptions = {}): { ok: true; sockets: NamespaceSockets } | { ok: false; why: string } {
  if (!ffi.ok) return ffi;
  if (process.platform !== "linux") return { ok: false, why: `network namespaces are Linux only (this is ${process.platform})` };
  const { koffi } = ffi;
  let setns: (fd: number, nstype: number) => number;
  let socket: (domain: number, type: number, protocol: number) => number;
  try {
    // The C library Node itself is linked with (glibc or musl): its symbols are in the process already.
    const libc = koffi.load(null);
    setns = libc.func("int setns(int fd, int nstype)") as typeof setns;
    socket = libc.func("int socket(int domain, int type, int protocol)") as typeof socket;
  } catch (e) {
    return { ok: false, why: `koffi cannot bind setns/socket from the C library: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}` };
  }
  const own = opts.ownNamespaceFd ?? openSync("/proc/self/ns/net", "r");
  const fatal =
    opts.fatal ??
    ((message: string): never => {
      process.abort();
      throw new Error(message); // not reached
    });
  return {
    ok: true,
    sockets: {
      socketIn(nsFd, family) {
        if (setns(nsFd, CLONE_NEWNET) !== 0) {
          const errno = koffi.errno();
          if (errno === EPERM) throw new SetnsRefused("setns: operation not permitted (EPERM)");
          throw new Error(`setns into the target's network namespace failed: ${errnoName(koffi, errno)}`);
        }
        const fd = socket(family === 6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        const socketErrno = koffi.errno();
        if (setns(own, CLONE_NEWNET) !== 0) {
          const message = `FATAL: cannot return to gopsd's own network namespace after making a socket in another (${errnoName(koffi, koffi.errno())}); aborting rather than running on inside a container's network`;
          try {
            writeSync(2, `gopsd: ${message}\n`);
          } catch {
            // stderr closed: abort all the same
          }
          fatal(message);
        }
        if (fd < 0) throw new Error(`socket() in the target's network namespace failed: ${errnoName(koffi, socketErrno)}`);
        return fd;
      },
    },
  };
}

function errnoName(koffi: { os: { errno: Record<string, number> } }, errno: number): string {
  for (const [name, value] of Object.entries(koffi.os.errno)) if (value === errno) return `${name} (errno ${errno})`;
  return `errno ${errno}`;
}
