// The core of gopsd: one host's Diagnostics, built from discovery (/proc + ELF build info), the port-file
// locator and the agent wire client, with one call at a time per agent. gopsd serves it over gRPC; gopsctl
// without --host calls it in-process. Validation happens here so both paths reject bad input the same way.
import type { Diagnostics } from "../common/diagnostics.js";
import {
  AgentState,
  CaptureKind,
  ProfileKind,
  type Agent,
  type CaptureMetadata,
  type StreamProfileResponse,
} from "../proto/index.js";
import { AgentLocator } from "./agent/port-file.js";
import {
  encodeSignedVarint,
  parseGCReply,
  parseMemStats,
  parseSetGCReply,
  parseStats,
  parseVersion,
  ReplyFormatError,
} from "./agent/codec.js";
import { formatAgentAddress, streamAgent, type AgentAddress, type AgentCallOptions } from "./agent/client.js";
import { describeRelayTarget, openVerifiedNamespace, RelaySocket, type VerifiedNamespace } from "./agent/netns-dial.js";
import { Signal, type SignalName } from "./agent/signals.js";
import { CaptureDurationMs, withAgentTimeouts, type AgentTimeoutOverrides } from "./agent/timeouts.js";
import { GopsError, Status, agentProtocol, agentUnavailable, invalidArgument, noAgent, processNotFound } from "../common/errors.js";
import { setTimeout as sleep } from "node:timers/promises";
import { Governor } from "./governor.js";
import {
  ContainerResolver,
  createProcFs,
  DEFAULT_CONTAINER_SOURCES,
  getBuildInfo,
  getProcessDetails,
  hasExited,
  parseStat,
  ProcessScanner,
  type ContainerSources,
  type ProcFs,
} from "./proc/index.js";
import { closeSync } from "node:fs";
import { requireCpuSampleMs, requireGcPercent, requirePid } from "./validate.js";

export interface HostDiagnosticsOptions {
  hostName: string;
  agentTimeouts: AgentTimeoutOverrides;
  procFs?: ProcFs;
  /** Where the container runtimes and the kubelet keep their state (defaults: the usual /var/lib paths). */
  containerSources?: Partial<ContainerSources>;
}

type Opts = { signal?: AbortSignal };

/** The capture kinds that hold the agent for a fixed time: at most one per process, a second is refused. */
const CAPTURE_INFO = {
  CPUProfile: { kind: CaptureKind.CAPTURE_KIND_CPU_PROFILE, label: "a CPU profile", ext: ".pprof.gz", ms: CaptureDurationMs.CPUProfile },
  HeapProfile: { kind: CaptureKind.CAPTURE_KIND_HEAP_PROFILE, label: "a heap profile", ext: ".pprof.gz", ms: 0 },
  Trace: { kind: CaptureKind.CAPTURE_KIND_TRACE, label: "a trace", ext: ".trace", ms: CaptureDurationMs.Trace },
  BinaryDump: { kind: CaptureKind.CAPTURE_KIND_BINARY, label: "a binary dump", ext: "", ms: 0 },
} as const;
type CaptureSignal = keyof typeof CAPTURE_INFO;

export function createHostDiagnostics(options: HostDiagnosticsOptions): Diagnostics {
  const fs = options.procFs ?? createProcFs();
  const locator = new AgentLocator(fs);
  const containers = new ContainerResolver(fs, { ...DEFAULT_CONTAINER_SOURCES, ...options.containerSources });
  const scanner = new ProcessScanner(fs, { locateAgent: (pid, tables) => locator.locate(pid, tables), containers });
  const governor = new Governor();
  const timeouts = withAgentTimeouts(options.agentTimeouts);
  const host = options.hostName;

  /**
   * The verified address of pid's agent and how to reach it, or the error that explains why there is none.
   * An agent in another network namespace is reached only through a relay inside that namespace (never from
   * gopsd's own: 127.0.0.1:PORT here may be someone else); the relay re-checks the agent just before it starts.
   */
  function agentOf(pid: number): AgentRoute {
    const agent = locator.locate(pid);
    if (agent.state !== AgentState.AGENT_STATE_LISTENING) {
      // Not usable: say why in the most helpful terms (no such process / not Go / no agent).
      getBuildInfo(fs, pid);
      throw noAgent(pid, describeAgent(agent));
    }
    const addr = parseAddress(agent.address);
    if (agent.networkNamespace === "") return { addr, where: formatAgentAddress(addr) };
    const starttime = locator.verifiedStart(pid) ?? startOf(pid);
    if (starttime === undefined) throw processNotFound(pid);
    const target: VerifiedNamespace = { pid, netns: agent.networkNamespace, starttime };
    const where = describeRelayTarget(addr, target);
    return {
      addr,
      where,
      relayed: target,
      dial(a) {
        // Just before dialling: the same agent socket, verified in the same namespace, of the same process.
        const now = locator.locate(pid);
        if (
          now.state !== AgentState.AGENT_STATE_LISTENING ||
          now.address !== agent.address ||
          now.networkNamespace !== agent.networkNamespace ||
          locator.verifiedStart(pid) !== starttime
        ) {
          if (startOf(pid) !== starttime) throw processNotFound(pid);
          throw agentUnavailable(where, `the agent changed since it was verified (${now.detail || "now " + now.address}); try again`);
        }
        const fd = openVerifiedNamespace(fs, target);
        try {
          return new RelaySocket(fd, a, where);
        } finally {
          closeSync(fd);
        }
      },
    };
  }

  function startOf(pid: number): number | undefined {
    try {
      return parseStat(fs.readStat(pid)).starttime;
    } catch {
      return undefined;
    }
  }

  /** Whether the process verified at `t` is gone: exited (a zombie counts), or its pid names another process. */
  function exited(t: VerifiedNamespace): boolean {
    try {
      const st = parseStat(fs.readStat(t.pid));
      return st.starttime !== t.starttime || hasExited(st);
    } catch {
      return true;
    }
  }

  /**
   * A relayed call that failed because its process exited fails with NOT_FOUND. The kernel closes an exiting
   * process's sockets before it becomes a zombie, so the failure may be seen a moment before the exit is: look
   * a few times over ~100 ms (only on this failure path).
   */
  async function explain(route: AgentRoute, e: unknown): Promise<unknown> {
    const t = route.relayed;
    if (t === undefined || (e instanceof GopsError && e.code === Status.CANCELLED)) return e;
    for (let i = 0; i < 6; i++) {
      if (exited(t)) return processNotFound(t.pid);
      await sleep(20);
    }
    return e;
  }

  /** streamAgent along `route`, failures explained. */
  async function* relayAware(route: AgentRoute, sig: number, arg: Buffer | undefined, opts: AgentCallOptions) {
    try {
      yield* streamAgent(route.addr, sig, arg, { ...opts, where: route.where, ...(route.dial ? { dial: route.dial } : {}) });
    } catch (e) {
      throw await explain(route, e);
    }
  }

  /** The queue and agent-call options of one call of `name`: both bounded by that signal's deadline. */
  function callOptions(name: SignalName, what: string, o: Opts) {
    const t = timeouts[name];
    return {
      queue: { what, signal: o.signal, queueTimeoutMs: t.deadlineMs },
      agent: { signal: o.signal, connectTimeoutMs: t.connectMs, deadlineMs: t.deadlineMs },
    };
  }

  /**
   * One request/reply exchange with pid's agent, serialised with every other call to it; the reply text goes
   * through `parse`, and a reply it rejects is reported as the agent's fault.
   */
  async function exchange<T>(
    pid: number,
    name: SignalName,
    arg: Buffer | undefined,
    o: Opts,
    parse: (text: string) => T,
  ): Promise<T> {
    const route = agentOf(pid);
    const { queue, agent } = callOptions(name, name, o);
    const reply = await governor.run(pid, queue, async () => {
      const parts: Buffer[] = [];
      for await (const chunk of relayAware(route, Signal[name], arg, agent)) parts.push(chunk);
      return Buffer.concat(parts);
    });
    try {
      return parse(reply.toString("utf8"));
    } catch (e) {
      if (e instanceof ReplyFormatError) throw agentProtocol(`${route.where} (pid ${pid})`, e.message);
      throw e;
    }
  }

  async function* capture(pid: number, name: CaptureSignal, o: Opts): AsyncGenerator<StreamProfileResponse> {
    const route = agentOf(pid);
    const info = CAPTURE_INFO[name];
    // Timed captures are exclusive: the real agent hangs on a second CPU profile (reference §2.1).
    const exclusive = info.ms > 0 ? { label: info.label, expectedMs: info.ms } : undefined;
    const metadata: CaptureMetadata = {
      pid,
      kind: info.kind,
      expectedDurationMs: info.ms,
      fileExtension: info.ext,
      host,
    };
    const { queue, agent } = callOptions(name, info.label, o);
    yield* governor.stream(pid, { ...queue, capture: exclusive }, async function* () {
      yield { payload: { $case: "metadata" as const, value: metadata } };
      for await (const chunk of relayAware(route, Signal[name], undefined, agent)) {
        yield { payload: { $case: "chunk" as const, value: chunk } };
      }
    });
  }

  return {
    async listProcesses(req) {
      return { ...scanner.scan({ all: req.all ?? false }), host };
    },
    async getProcess(req, o = {}) {
      const pid = requirePid(req.pid);
      return getProcessDetails(fs, pid, {
        cpuSampleMs: requireCpuSampleMs(req.cpuSampleMs),
        signal: o.signal,
        locateAgent: (p) => locator.locate(p),
        containers,
      });
    },
    async getBuildInfo(req) {
      return getBuildInfo(fs, requirePid(req.pid));
    },
    async *stack(req, o = {}) {
      const pid = requirePid(req.pid);
      const route = agentOf(pid);
      const { queue, agent } = callOptions("StackTrace", "stack", o);
      yield* governor.stream(pid, queue, async function* () {
        for await (const chunk of relayAware(route, Signal.StackTrace, undefined, agent)) yield { chunk };
      });
    },
    async memStats(req, o = {}) {
      return exchange(requirePid(req.pid), "MemStats", undefined, o, (raw) => ({ ...parseMemStats(raw), raw }));
    },
    async stats(req, o = {}) {
      return exchange(requirePid(req.pid), "Stats", undefined, o, (raw) => ({ ...parseStats(raw), raw }));
    },
    async version(req, o = {}) {
      return exchange(requirePid(req.pid), "Version", undefined, o, (raw) => ({ goVersion: parseVersion(raw) }));
    },
    async forceGC(req, o = {}) {
      return exchange(requirePid(req.pid), "GC", undefined, o, (raw) => (parseGCReply(raw), {}));
    },
    async setGCPercent(req, o = {}) {
      const pid = requirePid(req.pid);
      const arg = encodeSignedVarint(requireGcPercent(req.percent));
      return exchange(pid, "SetGCPercent", arg, o, (raw) => ({ ...parseSetGCReply(raw), raw }));
    },
    async *streamProfile(req, o = {}) {
      const pid = requirePid(req.pid);
      if (req.kind === ProfileKind.PROFILE_KIND_CPU) yield* capture(pid, "CPUProfile", o);
      else if (req.kind === ProfileKind.PROFILE_KIND_HEAP) yield* capture(pid, "HeapProfile", o);
      else throw invalidArgument(`invalid profile kind ${req.kind ?? "(missing)"}: use CPU or HEAP`);
    },
    async *streamTrace(req, o = {}) {
      yield* capture(requirePid(req.pid), "Trace", o);
    },
    async *streamBinary(req, o = {}) {
      yield* capture(requirePid(req.pid), "BinaryDump", o);
    },
  };
}

/** How one call reaches an agent: directly, or (`dial`) through a relay in the agent's network namespace. */
interface AgentRoute {
  addr: AgentAddress;
  /** The address as messages name it. */
  where: string;
  dial?: AgentCallOptions["dial"];
  relayed?: VerifiedNamespace;
}

function parseAddress(address: string): AgentAddress {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(address);
  if (!m) throw agentProtocol(address, "unparseable agent address");
  return { host: m[1]!, port: Number(m[2]) };
}

function describeAgent(agent: Agent): string {
  switch (agent.state) {
    case AgentState.AGENT_STATE_NONE:
      return agent.detail || "no port file found";
    case AgentState.AGENT_STATE_STALE:
      return `stale port file ${agent.portFile}: nothing listens on port ${agent.port} (the agent exited without Close)`;
    case AgentState.AGENT_STATE_SPOOFED:
      return `port file ${agent.portFile} names port ${agent.port}, which another process owns; refusing to dial it`;
    case AgentState.AGENT_STATE_INVALID:
      return `port file ${agent.portFile} is invalid: ${agent.detail}`;
    default:
      return agent.detail || "its agent could not be verified";
  }
}
