// A private OpenSSH sshd for tests: its own host key, user key, authorized_keys and config in a temp dir, listening
// on 127.0.0.1 at a free port. Never the system service. Logs in the current user (root in CI, allowed with
// PermitRootLogin prohibit-password) with the generated key.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir, userInfo } from "node:os";
import path from "node:path";

const SSHD = "/usr/sbin/sshd";
const READY_TIMEOUT_MS = 10_000;

export interface Sshd {
  host: "127.0.0.1";
  port: number;
  /** The user to log in as (the current user). */
  user: string;
  /** The client's private key (unencrypted ed25519). */
  identityFile: string;
  /** The server's public host key line, "ssh-ed25519 AAAA...". */
  hostPublicKey: string;
  /** A known_hosts file trusting this sshd under `[127.0.0.1]:port`. */
  knownHostsFile: string;
  dir: string;
  proc: ChildProcess;
  stderr(): string;
  /** SIGTERM (SIGKILL after 3 s); resolves when sshd has exited. Removes the temp dir. */
  stop(): Promise<void>;
  /** SIGKILL to sshd and its connection processes at once (the "tunnel dies mid-stream" case); the temp dir stays until stop(). */
  kill(): Promise<void>;
}

function keygen(file: string, comment: string): string {
  const r = spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", file], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`ssh-keygen failed: ${r.stderr}`);
  return readFileSync(`${file}.pub`, "utf8").trim();
}

/** Every live descendant of `root`, from /proc/PID/stat ppid fields. */
function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
    } catch {
      // exited while we looked
    }
  }
  const out: number[] = [];
  const walk = (pid: number) => {
    for (const child of children.get(pid) ?? []) {
      out.push(child);
      walk(child);
    }
  };
  walk(root);
  return out;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** The port picked for sshd was taken by another process before sshd could bind it. */
class PortTakenError extends Error {}

/**
 * Starts sshd on a free port. The port is free when picked, but another process on the machine may bind it
 * before sshd does: then sshd is started again on another one (5 tries).
 */
export async function startSshd(): Promise<Sshd> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startSshdOn(await freePort());
    } catch (e) {
      if (!(e instanceof PortTakenError) || attempt >= 5) throw e;
    }
  }
}

async function startSshdOn(port: number): Promise<Sshd> {
  const dir = mkdtempSync(path.join(tmpdir(), "gopsctl-sshd-"));
  chmodSync(dir, 0o755);
  mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  const hostKey = path.join(dir, "host_ed25519");
  const userKey = path.join(dir, "user_ed25519");
  const hostPub = keygen(hostKey, "gopsctl-test-host");
  const userPub = keygen(userKey, "gopsctl-test-user");
  const authorized = path.join(dir, "authorized_keys");
  writeFileSync(authorized, `${userPub}\n`, { mode: 0o600 });
  const config = path.join(dir, "sshd_config");
  writeFileSync(
    config,
    [
      `Port ${port}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${hostKey}`,
      `PidFile ${path.join(dir, "sshd.pid")}`,
      `AuthorizedKeysFile ${authorized}`,
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "PubkeyAuthentication yes",
      "PermitRootLogin prohibit-password",
      "UsePAM no",
      "StrictModes no",
      "AllowTcpForwarding yes",
      "AllowStreamLocalForwarding yes",
      "PermitTTY yes",
      "LogLevel VERBOSE",
      "",
    ].join("\n"),
  );
  const knownHostsFile = path.join(dir, "known_hosts");
  writeFileSync(knownHostsFile, `[127.0.0.1]:${port} ${hostPub.split(" ").slice(0, 2).join(" ")}\n`);

  const check = spawnSync(SSHD, ["-t", "-f", config], { encoding: "utf8" });
  if (check.status !== 0) throw new Error(`sshd -t rejected the test config: ${check.stderr}`);

  // Its own process group, so kill() reaches the per-connection sshd processes too.
  const proc = spawn(SSHD, ["-D", "-e", "-f", config], { stdio: ["ignore", "ignore", "pipe"], detached: true });
  // sshd's per-connection processes setsid() for pty sessions, leaving the group: signal every descendant too.
  const signalGroup = (signal: NodeJS.Signals) => {
    for (const pid of [...descendants(proc.pid!), -proc.pid!]) {
      try {
        process.kill(pid, signal);
      } catch {
        // already gone
      }
    }
  };
  let log = "";
  proc.stderr!.setEncoding("utf8");
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  const killOnExit = () => signalGroup("SIGKILL");
  process.once("exit", killOnExit);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sshd did not listen within ${READY_TIMEOUT_MS} ms:\n${log}`)), READY_TIMEOUT_MS);
    proc.stderr!.on("data", (chunk: string) => {
      log += chunk;
      if (/Server listening on/.test(log)) {
        clearTimeout(timer);
        resolve();
      }
    });
    proc.once("exit", (code, signal) => {
      clearTimeout(timer);
      if (/Address already in use|Cannot bind any address/.test(log)) {
        process.off("exit", killOnExit);
        rmSync(dir, { recursive: true, force: true });
        reject(new PortTakenError(`sshd could not bind 127.0.0.1:${port}: ${log}`));
        return;
      }
      reject(new Error(`sshd exited (code ${code}, signal ${signal}) before listening:\n${log}`));
    });
  });

  const kill = async () => {
    signalGroup("SIGKILL");
    await exited;
  };
  return {
    host: "127.0.0.1",
    port,
    user: userInfo().username,
    identityFile: userKey,
    hostPublicKey: hostPub.split(" ").slice(0, 2).join(" "),
    knownHostsFile,
    dir,
    proc,
    stderr: () => log,
    kill,
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        signalGroup("SIGTERM");
        const killer = setTimeout(() => signalGroup("SIGKILL"), 3000);
        await exited;
        clearTimeout(killer);
      }
      signalGroup("SIGKILL");
      process.off("exit", killOnExit);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
