// A simulated fleet for the fan-out benchmark: N host endpoints served by ONE process, each at a network distance.
//
// One real gopsd stack (gRPC over TLS, JWT verification, audit, limits, the service layer) answers for every host;
// its host core returns answers recorded once from a real Go program (so payloads have a real size) instead of
// asking an agent, because 1,000 hosts' worth of agents cannot run on one 2-core machine and their work is not what
// a fan-out benchmark measures. In front of it, each "host" is its own TCP listener that relays bytes to the gopsd
// with half the round-trip time added in each direction: connection set-up (TCP, TLS handshake, HTTP/2 settings)
// and every call pay the distance, as they would to another machine. Loopback only.
//
// Run as a child process: `node --import tsx bench/sim-fleet.ts HOSTS RTT_MS`; it prints one JSON line
// ({ addresses, caFile, tokenFile }) and serves until its stdin closes.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { rmSync, writeFileSync } from "node:fs";
import { createServer as createNetServer, connect as netConnect, type Server, type Socket } from "node:net";
import { hostname } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { GopsError, Status } from "../common/errors.js";
import type { Diagnostics } from "../common/diagnostics.js";
import { loadConfig } from "../server/config.js";
import { startGopsd } from "../server/gopsd.js";
import { createHostDiagnostics } from "../server/host-diagnostics.js";
import { secureSetup } from "./secure-setup.js";
import { startFixture } from "../integration/harness.js";

export interface SimulatedFleet {
  /** One "127.0.0.1:PORT" per simulated host. */
  addresses: string[];
  caFile: string;
  tokenFile: string;
  /** The pid of the process that serves every host (for its CPU and memory). */
  pid: number;
  stop(): Promise<void>;
}

const here = path.dirname(fileURLToPath(import.meta.url));

/** Starts the simulator in its own process and waits for its addresses. */
export async function startSimulatedFleet(hosts: number, rttMs: number): Promise<SimulatedFleet> {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(here, "sim-fleet.ts"), String(hosts), String(rttMs)], {
    stdio: ["pipe", "pipe", "inherit"],
    cwd: path.join(here, ".."),
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const line = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once("line", (l) => resolve(l));
    child.once("exit", (code) => reject(new Error(`the fleet simulator exited (${code}) before it was ready`)));
  });
  const ready = JSON.parse(line) as Omit<SimulatedFleet, "stop" | "pid">;
  return {
    ...ready,
    pid: child.pid!,
    async stop() {
      child.stdin!.end();
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Relays `from` to `to`, each chunk (and the end) delivered `delayMs` after it arrived, in order. */
function delayedPipe(from: Socket, to: Socket, delayMs: number): void {
  const queue: { due: number; chunk: Buffer | null }[] = [];
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    timer = undefined;
    const now = performance.now();
    while (queue.length > 0 && queue[0]!.due <= now) {
      const { chunk } = queue.shift()!;
      if (chunk === null) to.end();
      else if (!to.destroyed) to.write(chunk);
    }
    if (queue.length > 0) timer = setTimeout(flush, Math.max(0, queue[0]!.due - now));
  };
  const push = (chunk: Buffer | null) => {
    queue.push({ due: performance.now() + delayMs, chunk });
    timer ??= setTimeout(flush, delayMs);
  };
  from.on("data", (c: Buffer) => push(c));
  from.on("end", () => push(null));
  from.on("error", () => to.destroy());
  from.on("close", () => {
    if (queue.length === 0) to.destroy();
  });
}

/** A host core that answers from recorded replies of a real Go program. */
function recordedCore(recorded: Partial<Record<keyof Diagnostics, unknown>>): Diagnostics {
  return new Proxy({} as Diagnostics, {
    get(_t, rpc: string) {
      return async () => {
        const answer = recorded[rpc as keyof Diagnostics];
        if (answer === undefined) throw new GopsError(Status.UNIMPLEMENTED, `the fleet simulator does not answer ${rpc}`);
        return answer;
      };
    },
  });
}

async function serve(hosts: number, rttMs: number): Promise<void> {
  const { dir, token, gopsdArgs } = secureSetup("gopsctl-sim-fleet-", ["gops:read"]);
  writeFileSync(path.join(dir, "token"), token, { mode: 0o600 });

  // Record real answers once.
  const fixture = await startFixture("agentprog");
  const real = createHostDiagnostics({ hostName: hostname(), agentTimeouts: {} });
  const recorded = {
    memStats: await real.memStats({ pid: fixture.pid }),
    version: await real.version({ pid: fixture.pid }),
    stats: await real.stats({ pid: fixture.pid }),
    getBuildInfo: await real.getBuildInfo({ pid: fixture.pid }),
  };
  await fixture.stop();

  const config = await loadConfig(
    gopsdArgs,
    {},
    { cwd: dir, hostName: "sim" },
  );
  if (config === "help" || config === "version") throw new Error(`unexpected ${config}`);
  const gopsd = await startGopsd(config, { error: (m) => process.stderr.write(`sim gopsd: ${m}\n`) }, { core: recordedCore(recorded) });
  const backendPort = Number(gopsd.address.split(":").pop());

  const half = rttMs / 2;
  const listeners: Server[] = [];
  const addresses: string[] = [];
  for (let i = 0; i < hosts; i++) {
    const server = createNetServer((client) => {
      client.setNoDelay(true);
      const upstream = netConnect({ host: "127.0.0.1", port: backendPort, noDelay: true });
      delayedPipe(client, upstream, half);
      delayedPipe(upstream, client, half);
    });
    await new Promise<void>((resolve) => server.listen({ host: "127.0.0.1", port: 0, backlog: 1024 }, resolve));
    const addr = server.address();
    if (addr === null || typeof addr === "string") throw new Error("no port");
    listeners.push(server);
    addresses.push(`127.0.0.1:${addr.port}`);
  }
  process.stdout.write(`${JSON.stringify({ addresses, caFile: path.join(dir, "ca.pem"), tokenFile: path.join(dir, "token") })}\n`);

  process.stdin.resume();
  await new Promise<void>((resolve) => process.stdin.once("end", resolve));
  for (const l of listeners) l.close();
  await gopsd.close();
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await serve(Number(process.argv[2] ?? 32), Number(process.argv[3] ?? 20));
}
