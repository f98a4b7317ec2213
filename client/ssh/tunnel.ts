// An SSH tunnel to a remote gopsd with ssh2: one SSH connection per host (optionally through a jump host), its host
// key checked against known_hosts, and a local net.Server on 127.0.0.1:0 whose connections are piped to
// direct-tcpip (or OpenSSH streamlocal) channels. grpc-js dials the local port and multiplexes every call over one
// connection, hence one channel.
//
// Tuning (untuned, gRPC through the tunnel took ~44 ms per unary call and streamed under 2 MiB/s; tuned, ~1 ms and
// 150+ MiB/s): Nagle is off on every socket we own; sshd only turns Nagle off
// for a connection with an interactive session, so a pty session running `cat` is kept open beside the forwards
// (best effort: a server that refuses sessions still tunnels, only slower). grpc's flow-control window is raised
// by connect().
import { readFile } from "node:fs/promises";
import { createServer, connect as netConnect, type Server, type Socket } from "node:net";
import { homedir } from "node:os";
import path from "node:path";
import type { Duplex } from "node:stream";
import ssh2 from "ssh2";
import type { AnyAuthMethod, ClientChannel } from "ssh2";
import { GopsError, Status } from "../../common/errors.js";
import { checkHostKey, describeVerdict, parseKnownHosts, type KnownHostsEntry } from "./known-hosts.js";

type SshClient = InstanceType<typeof ssh2.Client>;

export interface SshEndpoint {
  /** Address to dial (ssh_config HostName). */
  host: string;
  /** Default 22. */
  port?: number;
  user: string;
  /** Private key files to offer (unencrypted). Default: ~/.ssh/id_ed25519, id_ecdsa, id_rsa that exist. */
  identityFiles?: string[];
  /** ssh-agent socket; default $SSH_AUTH_SOCK. Pass "" to not use an agent. */
  agentSocket?: string;
  /** known_hosts files; default ~/.ssh/known_hosts. */
  knownHostsFiles?: string[];
}

export interface SshTunnelOptions {
  target: SshEndpoint;
  /** Reach `target` through this host (connect to it, forward to the target's sshd, run SSH over that stream). */
  jump?: SshEndpoint;
  /** The remote gopsd: "host:port", "[v6]:port" or "unix:/path", as seen from the target. */
  forward: string;
  signal?: AbortSignal;
  /** Bound on TCP connect + SSH handshake + authentication (per hop), ms. Default 10000. */
  connectTimeoutMs?: number;
  /** SSH keepalive interval, ms; the connection is declared dead after 3 unanswered. Default 15000. */
  keepaliveIntervalMs?: number;
  /** Keep a pty session open so sshd disables Nagle (see above). Default true. */
  interactiveSession?: boolean;
}

export interface SshTunnel {
  /** "127.0.0.1:<port>": hand this to connect(). */
  readonly localAddress: string;
  /** Resolves when the SSH connection is gone, with the reason (undefined after close()). */
  readonly closed: Promise<Error | undefined>;
  readonly isOpen: boolean;
  /** Tears down the local server, every forwarded connection and the SSH connection(s). Idempotent. */
  close(): void;
}

const DEFAULT_IDENTITIES = ["id_ed25519", "id_ecdsa", "id_rsa"];

export async function openSshTunnel(opts: SshTunnelOptions): Promise<SshTunnel> {
  const forward = parseForward(opts.forward);
  const timeoutMs = opts.connectTimeoutMs ?? 10_000;
  const clients: SshClient[] = [];
  const destroyAll = () => clients.forEach((c) => c.destroy());
  try {
    let sock: Duplex;
    if (opts.jump) {
      const jump = await sshConnect(opts.jump, await dialTcp(opts.jump, timeoutMs, opts.signal), timeoutMs, opts);
      clients.push(jump);
      sock = await forwardOut(jump, "127.0.0.1", 0, { host: opts.target.host, port: opts.target.port ?? 22 }).catch(
        (e: Error) => {
          throw unavailable(`jump host ${opts.jump!.host} could not reach ${endpointName(opts.target)}: ${e.message}`);
        },
      );
    } else {
      sock = await dialTcp(opts.target, timeoutMs, opts.signal);
    }
    const client = await sshConnect(opts.target, sock, timeoutMs, opts);
    clients.push(client);
    if (opts.interactiveSession ?? true) await openInteractiveSession(client);
    return await listenLocally(clients, forward);
  } catch (e) {
    destroyAll();
    throw e;
  }
}

type Forward = { kind: "tcp"; host: string; port: number } | { kind: "unix"; path: string };

export function parseForward(address: string): Forward {
  if (address.startsWith("unix:")) {
    const p = address.slice(5);
    if (!p.startsWith("/")) throw new GopsError(Status.INVALID_ARGUMENT, `ssh forward "${address}": unix socket path must be absolute`);
    return { kind: "unix", path: p };
  }
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(address);
  const port = Number(m?.[3]);
  if (!m || !(port >= 1 && port <= 65535)) {
    throw new GopsError(Status.INVALID_ARGUMENT, `ssh forward "${address}" is not host:port or unix:/path`);
  }
  return { kind: "tcp", host: (m[1] ?? m[2])!, port };
}

function endpointName(e: SshEndpoint): string {
  return `${e.user}@${e.host}:${e.port ?? 22}`;
}

function unavailable(message: string, cause?: unknown): GopsError {
  return new GopsError(Status.UNAVAILABLE, message, { cause });
}

function abortError(signal: AbortSignal, what: string): GopsError {
  const reason = signal.reason instanceof Error ? signal.reason.message : String(signal.reason ?? "aborted");
  return new GopsError(Status.CANCELLED, `${what} was cancelled: ${reason}`);
}

/** A TCP connection to the endpoint's sshd with Nagle off, bounded by `timeoutMs` and the signal. */
function dialTcp(e: SshEndpoint, timeoutMs: number, signal: AbortSignal | undefined): Promise<Socket> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal, `ssh connect to ${endpointName(e)}`));
    const sock = netConnect({ host: e.host, port: e.port ?? 22, noDelay: true });
    const finish = (err?: Error) => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      sock.off("error", onError);
      if (err) {
        sock.destroy();
        reject(err);
      } else resolve(sock);
    };
    const onError = (err: Error) => finish(unavailable(`ssh to ${endpointName(e)}: ${err.message}`, err));
    const onAbort = () => finish(abortError(signal!, `ssh connect to ${endpointName(e)}`));
    const timer = setTimeout(
      () => finish(unavailable(`ssh to ${endpointName(e)}: no TCP connection within ${timeoutMs} ms`)),
      timeoutMs,
    );
    sock.once("connect", () => finish());
    sock.once("error", onError);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

async function loadKnownHosts(files: string[]): Promise<KnownHostsEntry[]> {
  const all: KnownHostsEntry[] = [];
  for (const file of files) {
    try {
      all.push(...parseKnownHosts(await readFile(file, "utf8")));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
  }
  return all;
}

async function authMethods(e: SshEndpoint): Promise<AnyAuthMethod[]> {
  const methods: AnyAuthMethod[] = [];
  const agent = e.agentSocket ?? process.env.SSH_AUTH_SOCK ?? "";
  if (agent !== "") methods.push({ type: "agent", username: e.user, agent });
  const explicit = e.identityFiles !== undefined && e.identityFiles.length > 0;
  const files = explicit ? e.identityFiles! : DEFAULT_IDENTITIES.map((n) => path.join(homedir(), ".ssh", n));
  for (const file of files) {
    try {
      methods.push({ type: "publickey", username: e.user, key: await readFile(file) });
    } catch (err) {
      if (explicit) throw new GopsError(Status.UNAUTHENTICATED, `ssh identity file ${file}: ${(err as Error).message}`);
    }
  }
  if (methods.length === 0) {
    throw new GopsError(
      Status.UNAUTHENTICATED,
      `ssh to ${endpointName(e)}: no ssh-agent (SSH_AUTH_SOCK is unset) and no identity file (set ssh.identityFile)`,
    );
  }
  return methods;
}

/** SSH handshake, host-key check and authentication over `sock`. */
async function sshConnect(e: SshEndpoint, sock: Duplex, timeoutMs: number, opts: SshTunnelOptions): Promise<SshClient> {
  const port = e.port ?? 22;
  const knownHostsFiles = e.knownHostsFiles ?? [path.join(homedir(), ".ssh", "known_hosts")];
  const [entries, methods] = await Promise.all([loadKnownHosts(knownHostsFiles), authMethods(e)]);
  const client = new ssh2.Client();
  // Errors after the handshake are handled by the tunnel's teardown; this keeps a late one from crashing the process.
  client.on("error", () => undefined);
  let refusal: string | undefined;
  return new Promise<SshClient>((resolve, reject) => {
    const signal = opts.signal;
    const finish = (err?: Error) => {
      signal?.removeEventListener("abort", onAbort);
      client.off("error", onError);
      client.off("close", onClose);
      if (err) {
        client.destroy();
        sock.destroy();
        reject(err);
      } else resolve(client);
    };
    const onError = (err: Error & { level?: string }) => {
      if (refusal !== undefined) return finish(new GopsError(Status.UNAUTHENTICATED, `ssh to ${endpointName(e)}: ${refusal}`));
      if (err.level === "client-authentication") {
        return finish(
          new GopsError(
            Status.UNAUTHENTICATED,
            `ssh to ${endpointName(e)}: authentication failed (tried ${methods.map((m) => m.type).join(", ")})`,
          ),
        );
      }
      finish(unavailable(`ssh to ${endpointName(e)}: ${err.message}`, err));
    };
    const onClose = () => finish(unavailable(`ssh to ${endpointName(e)}: connection closed during the handshake`));
    const onAbort = () => finish(abortError(signal!, `ssh connect to ${endpointName(e)}`));
    if (signal?.aborted) return onAbort();
    signal?.addEventListener("abort", onAbort, { once: true });
    client.once("ready", () => finish());
    client.on("error", onError);
    client.once("close", onClose);
    client.connect({
      sock,
      username: e.user,
      readyTimeout: timeoutMs,
      keepaliveInterval: opts.keepaliveIntervalMs ?? 15_000,
      keepaliveCountMax: 3,
      authHandler: methods,
      hostVerifier: (key: Buffer) => {
        const verdict = checkHostKey(entries, e.host, port, key);
        if (verdict.status === "trusted") return true;
        refusal = describeVerdict(verdict, e.host, port, key, knownHostsFiles);
        return false;
      },
    });
  });
}

function forwardOut(client: SshClient, srcIP: string, srcPort: number, to: { host: string; port: number }): Promise<ClientChannel> {
  return new Promise((resolve, reject) =>
    client.forwardOut(srcIP, srcPort, to.host, to.port, (err, stream) => (err ? reject(err) : resolve(stream))),
  );
}

function forwardStreamLocal(client: SshClient, socketPath: string): Promise<ClientChannel> {
  return new Promise((resolve, reject) =>
    client.openssh_forwardOutStreamLocal(socketPath, (err, stream) => (err ? reject(err) : resolve(stream))),
  );
}

/** A pty session whose only job is to make sshd set TCP_NODELAY; its failure only costs latency. */
function openInteractiveSession(client: SshClient): Promise<void> {
  return new Promise((resolve) => {
    client.exec("cat >/dev/null", { pty: { term: "dumb", rows: 24, cols: 80, height: 0, width: 0, modes: {} } }, (err, channel) => {
      if (!err) channel.on("error", () => undefined).resume();
      resolve();
    });
  });
}

async function listenLocally(clients: SshClient[], forward: Forward): Promise<SshTunnel> {
  const client = clients[clients.length - 1]!;
  const sockets = new Set<Socket>();
  let open = true;
  let settle!: (reason: Error | undefined) => void;
  const closed = new Promise<Error | undefined>((resolve) => (settle = resolve));

  const server: Server = createServer((local) => {
    local.setNoDelay(true);
    sockets.add(local);
    local.on("close", () => sockets.delete(local));
    local.on("error", () => local.destroy());
    const channel =
      forward.kind === "tcp"
        ? forwardOut(client, local.remoteAddress ?? "127.0.0.1", local.remotePort ?? 0, forward)
        : forwardStreamLocal(client, forward.path);
    channel.then(
      (remote) => {
        if (local.destroyed) return remote.close();
        remote.on("error", () => local.destroy());
        local.pipe(remote);
        remote.pipe(local);
        remote.on("close", () => local.destroy());
        local.on("close", () => remote.close());
      },
      () => local.destroy(),
    );
  });

  const teardown = (reason: Error | undefined) => {
    if (!open) return;
    open = false;
    server.close();
    for (const s of sockets) s.destroy();
    for (const c of clients) c.end();
    // end() waits for the server; destroy after a grace period so nothing lingers.
    setTimeout(() => clients.forEach((c) => c.destroy()), 1000).unref();
    settle(reason);
  };
  for (const c of clients) {
    c.on("error", (err: Error) => teardown(unavailable(`ssh connection failed: ${err.message}`, err)));
    c.on("close", () => teardown(unavailable("ssh connection closed")));
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    localAddress: `127.0.0.1:${port}`,
    closed,
    get isOpen() {
      return open;
    },
    close: () => teardown(undefined),
  };
}
