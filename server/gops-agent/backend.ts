// The gops agent backend: the Diagnostics of one process through its gops agent's wire protocol (one TCP
// connection per call, ../agent/client.ts), along the route to it (route.ts: directly, or inside its network
// namespace). Calls to one process are serialised by the governor; timed captures (CPU profile, trace) are
// exclusive, because the real agent hangs on a second one (docs/agent-protocol.md §2.1).
import {
  AgentKind,
  CaptureKind,
  ProfileKind,
  type CaptureMetadata,
  type StreamProfileResponse,
} from "../../proto/index.js";
import { GopsError, Status, agentProtocol, fixedDuration, invalidArgument, notSupportedBy } from "../../common/errors.js";
import {
  encodeSignedVarint,
  parseGCReply,
  parseMemStats,
  parseSetGCReply,
  parseStats,
  parseVersion,
  ReplyFormatError,
} from "../agent/codec.js";
import { Signal, type SignalName } from "../agent/signals.js";
import { CaptureDurationMs, type AgentTimeoutTable } from "../agent/timeouts.js";
import type { BackendCallOptions, DiagnosticBackend } from "../diagnostic-backend.js";
import type { Governor } from "../governor.js";
import type { ProcFs } from "../proc/index.js";
import { streamRoute, type AgentRoute } from "./route.js";

/** The only durations a gops agent captures for (reference §2.1). */
const AGENT_SECONDS = { cpu: CaptureDurationMs.CPUProfile / 1000, trace: CaptureDurationMs.Trace / 1000 };

/** The capture kinds that hold the agent for a fixed time: at most one per process, a second is refused. */
const CAPTURE_INFO = {
  CPUProfile: { kind: CaptureKind.CAPTURE_KIND_CPU_PROFILE, label: "a CPU profile", ext: ".pprof.gz", ms: CaptureDurationMs.CPUProfile },
  HeapProfile: { kind: CaptureKind.CAPTURE_KIND_HEAP_PROFILE, label: "a heap profile", ext: ".pprof.gz", ms: 0 },
  Trace: { kind: CaptureKind.CAPTURE_KIND_TRACE, label: "a trace", ext: ".trace", ms: CaptureDurationMs.Trace },
  BinaryDump: { kind: CaptureKind.CAPTURE_KIND_BINARY, label: "a binary dump", ext: "", ms: 0 },
} as const;
type CaptureSignal = keyof typeof CAPTURE_INFO;

export interface GopsAgentBackendDeps {
  pid: number;
  route: AgentRoute;
  fs: ProcFs;
  governor: Governor;
  timeouts: AgentTimeoutTable;
  host: string;
}

/** The gops agent along `route` as the backend of pid. */
export function createGopsAgentBackend(d: GopsAgentBackendDeps): DiagnosticBackend {
  const { pid, route, fs, governor, timeouts, host } = d;
  const refuse = (what: string) => notSupportedBy(pid, "has a gops agent", what);

  /** The queue and agent-call options of one call of `name`: both bounded by that signal's deadline. */
  function callOptions(name: SignalName, what: string, o: BackendCallOptions) {
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
  async function exchange<T>(name: SignalName, arg: Buffer | undefined, o: BackendCallOptions, parse: (text: string) => T): Promise<T> {
    const { queue, agent } = callOptions(name, name, o);
    const reply = await governor.run(pid, queue, async () => {
      const parts: Buffer[] = [];
      for await (const chunk of streamRoute(fs, route, Signal[name], arg, agent)) parts.push(chunk);
      return Buffer.concat(parts);
    });
    try {
      return parse(reply.toString("utf8"));
    } catch (e) {
      if (e instanceof ReplyFormatError) throw agentProtocol(`${route.where} (pid ${pid})`, e.message);
      throw e;
    }
  }

  async function* capture(name: CaptureSignal, o: BackendCallOptions): AsyncGenerator<StreamProfileResponse> {
    const info = CAPTURE_INFO[name];
    // Timed captures are exclusive: the real agent hangs on a second CPU profile (docs/agent-protocol.md §2.1).
    const exclusive = info.ms > 0 ? { label: info.label, expectedMs: info.ms } : undefined;
    const metadata: CaptureMetadata = {
      pid,
      kind: info.kind,
      expectedDurationMs: info.ms,
      fileExtension: info.ext,
      host,
      backend: AgentKind.AGENT_KIND_GOPS_AGENT,
    };
    const { queue, agent } = callOptions(name, info.label, o);
    yield* governor.stream(pid, { ...queue, capture: exclusive }, async function* () {
      const startedAt = Date.now();
      let ended = false;
      let failure: unknown;
      try {
        yield { payload: { $case: "metadata" as const, value: metadata } };
        for await (const chunk of streamRoute(fs, route, Signal[name], undefined, agent)) {
          yield { payload: { $case: "chunk" as const, value: chunk } };
        }
        ended = true;
      } catch (e) {
        failure = e;
        throw e;
      } finally {
        // Stopped by the caller (the consumer left: Ctrl-C, a cancelled stream, its deadline) before the agent
        // was done: the agent runs its fixed duration to the end and serves nothing else until then.
        const stoppedByCaller = failure === undefined || o.signal?.aborted === true || (failure instanceof GopsError && failure.code === Status.CANCELLED);
        if (exclusive !== undefined && !ended && stoppedByCaller) governor.abandoned(pid, info.label, startedAt, info.ms);
      }
    });
  }

  return {
    name: "gops-agent",
    kind: AgentKind.AGENT_KIND_GOPS_AGENT,
    async *stack(o) {
      const { queue, agent } = callOptions("StackTrace", "stack", o);
      yield* governor.stream(pid, queue, () => streamRoute(fs, route, Signal.StackTrace, undefined, agent));
    },
    memStats: (o) => exchange("MemStats", undefined, o, (raw) => ({ ...parseMemStats(raw), raw })),
    stats: (o) => exchange("Stats", undefined, o, (raw) => ({ ...parseStats(raw), raw })),
    version: (o) => exchange("Version", undefined, o, (raw) => ({ goVersion: parseVersion(raw) })),
    forceGC: (o) => exchange("GC", undefined, o, (raw) => (parseGCReply(raw), {})),
    setGCPercent: (percent, o) => exchange("SetGCPercent", encodeSignedVarint(percent), o, (raw) => ({ ...parseSetGCReply(raw), raw })),
    async *profile(kind, seconds, o) {
      if (kind === ProfileKind.PROFILE_KIND_CPU) {
        if (seconds !== undefined && seconds !== AGENT_SECONDS.cpu) {
          throw fixedDuration(pid, "has a gops agent", "profiles the CPU", AGENT_SECONDS.cpu);
        }
        yield* capture("CPUProfile", o);
      } else if (kind === ProfileKind.PROFILE_KIND_HEAP) {
        if (seconds !== undefined) throw invalidArgument("a duration applies to CPU profiles and traces only");
        yield* capture("HeapProfile", o);
      } else {
        throw refuse(`serves CPU and heap profiles only, not ${ProfileKind[kind]!.replace("PROFILE_KIND_", "").toLowerCase()}`);
      }
    },
    async *trace(seconds, o) {
      if (seconds !== undefined && seconds !== AGENT_SECONDS.trace) {
        throw fixedDuration(pid, "has a gops agent", "traces", AGENT_SECONDS.trace);
      }
      yield* capture("Trace", o);
    },
    binary: (o) => capture("BinaryDump", o),
  };
}
