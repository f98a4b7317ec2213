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
import { callAgent, formatAgentAddress, streamAgent, type AgentAddress } from "./agent/client.js";
import { Signal, type SignalName } from "./agent/signals.js";
import { CaptureDurationMs, withAgentTimeouts, type AgentTimeoutOverrides } from "./agent/timeouts.js";
import { agentProtocol, invalidArgument, noAgent } from "../common/errors.js";
import { Governor } from "./governor.js";
import { createProcFs, getBuildInfo, getProcessDetails, ProcessScanner, type ProcFs } from "./proc/index.js";
import { requireCpuSampleMs, requireGcPercent, requirePid } from "./validate.js";

export interface HostDiagnosticsOptions {
  hostName: string;
  agentTimeouts: AgentTimeoutOverrides;
  procFs?: ProcFs;
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
  const scanner = new ProcessScanner(fs, { locateAgent: (pid, tables) => locator.locate(pid, tables) });
  const governor = new Governor();
  const timeouts = withAgentTimeouts(options.agentTimeouts);
  const host = options.hostName;

  /** The verified address of pid's agent, or the error that explains why there is none. */
  function agentOf(pid: number): AgentAddress {
    const agent = locator.locate(pid);
    if (agent.state === AgentState.AGENT_STATE_LISTENING) return parseAddress(agent.address);
    // Not usable: say why in the most helpful terms (no such process / not Go / no agent).
    getBuildInfo(fs, pid);
    throw noAgent(pid, describeAgent(agent));
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
    const addr = agentOf(pid);
    const { queue, agent } = callOptions(name, name, o);
    const reply = await governor.run(pid, queue, () => callAgent(addr, Signal[name], arg, agent));
    try {
      return parse(reply.toString("utf8"));
    } catch (e) {
      if (e instanceof ReplyFormatError) throw agentProtocol(`${formatAgentAddress(addr)} (pid ${pid})`, e.message);
      throw e;
    }
  }

  async function* capture(pid: number, name: CaptureSignal, o: Opts): AsyncGenerator<StreamProfileResponse> {
    const addr = agentOf(pid);
    const info = CAPTURE_INFO[name];
    // Timed captures are exclusive: the real agent hangs on a second CPU profile (docs/agent-protocol.md §2.1).
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
      for await (const chunk of streamAgent(addr, Signal[name], undefined, agent)) {
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
      });
    },
    async getBuildInfo(req) {
      return getBuildInfo(fs, requirePid(req.pid));
    },
    async *stack(req, o = {}) {
      const pid = requirePid(req.pid);
      const addr = agentOf(pid);
      const { queue, agent } = callOptions("StackTrace", "stack", o);
      yield* governor.stream(pid, queue, async function* () {
        for await (const chunk of streamAgent(addr, Signal.StackTrace, undefined, agent)) yield { chunk };
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
