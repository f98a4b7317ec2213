// How one call reaches a process's verified gops agent: directly (an agent in gopsd's own network namespace), or
// with a connection made inside the agent's network namespace (../agent/netns-dial.ts) after checking, right before
// each dial, that the agent and its namespace are still the ones verified. Failures of a namespaced call are
// explained (NOT_FOUND when its process exited meanwhile).
import { setTimeout as sleep } from "node:timers/promises";
import { AgentState, type Agent } from "../../proto/index.js";
import { GopsError, Status, agentUnavailable, processNotFound } from "../../common/errors.js";
import { formatAgentAddress, parseAgentAddress, streamAgent, type AgentAddress, type AgentCallOptions } from "../agent/client.js";
import { describeRelayTarget, dialInNamespace, type VerifiedNamespace } from "../agent/netns-dial.js";
import type { AgentLocator } from "../agent/port-file.js";
import { hasExited, parseStat, type ProcFs } from "../proc/index.js";

/** How one call reaches an agent: directly, or (`dial`) with a connection made in the agent's network namespace. */
export interface AgentRoute {
  addr: AgentAddress;
  /** The address as messages name it. */
  where: string;
  dial?: AgentCallOptions["dial"];
  relayed?: VerifiedNamespace;
}

export interface RouteDeps {
  fs: ProcFs;
  locator: AgentLocator;
}

/**
 * How to reach pid's verified agent. One in another network namespace is reached only from inside that namespace
 * (never from gopsd's own: 127.0.0.1:PORT here may be someone else); the agent and the namespace are checked again
 * just before each dial.
 */
export function routeOf({ fs, locator }: RouteDeps, pid: number, agent: Agent): AgentRoute {
  const addr = parseAgentAddress(agent.address);
  if (!agent.networkNamespace) return { addr, where: formatAgentAddress(addr) };
  const starttime = locator.verifiedStart(pid) ?? startOf(fs, pid);
  if (starttime === undefined) throw processNotFound(pid);
  const target: VerifiedNamespace = { pid, netns: agent.networkNamespace, starttime };
  const where = describeRelayTarget(addr, target);
  return {
    addr,
    where,
    relayed: target,
    dial(a) {
      const now = locator.locate(pid);
      if (
        now.state !== AgentState.AGENT_STATE_LISTENING ||
        now.address !== agent.address ||
        now.networkNamespace !== agent.networkNamespace ||
        locator.verifiedStart(pid) !== starttime
      ) {
        if (startOf(fs, pid) !== starttime) throw processNotFound(pid);
        throw agentUnavailable(where, `the agent changed since it was verified (${now.detail || "now " + now.address}); try again`);
      }
      return dialInNamespace(fs, target, a, where);
    },
  };
}

/** streamAgent along `route`, failures explained. */
export async function* streamRoute(fs: ProcFs, route: AgentRoute, sig: number, arg: Buffer | undefined, opts: AgentCallOptions) {
  try {
    yield* streamAgent(route.addr, sig, arg, { ...opts, where: route.where, ...(route.dial ? { dial: route.dial } : {}) });
  } catch (e) {
    throw await explain(fs, route, e);
  }
}

/** The start time of pid (from /proc/PID/stat), or undefined when it is gone. */
export function startOf(fs: ProcFs, pid: number): number | undefined {
  try {
    return parseStat(fs.readStat(pid)).starttime;
  } catch {
    return undefined;
  }
}

/** Whether the process verified at `t` is gone: exited (a zombie counts), or its pid names another process. */
function exited(fs: ProcFs, t: VerifiedNamespace): boolean {
  try {
    const st = parseStat(fs.readStat(t.pid));
    return st.starttime !== t.starttime || hasExited(st);
  } catch {
    return true;
  }
}

/**
 * A namespaced call that failed because its process exited fails with NOT_FOUND. The kernel closes an exiting
 * process's sockets before it becomes a zombie, so the failure may be seen a moment before the exit is: look
 * a few times over ~100 ms (only on this failure path).
 */
async function explain(fs: ProcFs, route: AgentRoute, e: unknown): Promise<unknown> {
  const t = route.relayed;
  if (t === undefined || (e instanceof GopsError && e.code === Status.CANCELLED)) return e;
  for (let i = 0; i < 6; i++) {
    if (exited(fs, t)) return processNotFound(t.pid);
    await sleep(20);
  }
  return e;
}
