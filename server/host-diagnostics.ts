// The core of gopsd: one host's Diagnostics, built from discovery (/proc + ELF build info), the port-file
// locator and the agent wire client, with one call at a time per agent. gopsd serves it over gRPC; gopsctl
// without --host calls it in-process. Validation happens here so both paths reject bad input the same way.
// Each diagnostic call picks its backend here: the gops agent when the process has a usable one, else its
// net/http/pprof endpoint (server/pprof-http), found from what is known or, for the call, by a probe.
import type { Diagnostics } from "../common/diagnostics.js";
import {
  AgentKind,
  AgentState,
  CaptureKind,
  ProfileKind,
  type Agent,
  type CaptureMetadata,
  type ListProcessesResponse,
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
import { describeRelayTarget, dialInNamespace, type VerifiedNamespace } from "./agent/netns-dial.js";
import { setTimeout as sleep } from "node:timers/promises";
import { Signal, type SignalName } from "./agent/signals.js";
import { CaptureDurationMs, withAgentTimeouts, type AgentTimeoutOverrides } from "./agent/timeouts.js";
import {
  GopsError,
  Status,
  agentProtocol,
  agentUnavailable,
  invalidArgument,
  noBackend,
  notSupportedBy,
  processNotFound,
} from "../common/errors.js";
import type { BackendName, DiagnosticBackend } from "./diagnostic-backend.js";
import { Governor } from "./governor.js";
import {
  ContainerResolver,
  createProcFs,
  DEFAULT_CONTAINER_SOURCES,
  getBuildInfo,
  getProcessDetails,
  hasExited,
  NetTables,
  parseStat,
  ProcessScanner,
  type ContainerSources,
  type ProcFs,
} from "./proc/index.js";
import {
  CALL_BUDGET,
  createHttpPprofBackend,
  httpAgentFields,
  LISTING_BUDGET,
  PprofLocator,
  type DeclaredEndpoint,
  type ProbeBudget,
} from "./pprof-http/index.js";
import { requireCpuSampleMs, requireGcPercent, requirePid, requireWatchInterval, requireWatchPids } from "./validate.js";
import { createStatsHub, rememberGogc } from "./watch-stats.js";

export interface HostDiagnosticsOptions {
  hostName: string;
  agentTimeouts: AgentTimeoutOverrides;
  procFs?: ProcFs;
  /** net/http/pprof discovery: probe on every listing, endpoints declared in the config, probe budgets. */
  pprof?: PprofHttpOptions;
  /** Where the container runtimes and the kubelet keep their state (defaults: the usual /var/lib paths). */
  containerSources?: Partial<ContainerSources>;
}

export interface PprofHttpOptions {
  probeOnList?: boolean;
  declared?: readonly DeclaredEndpoint[];
  /** Only these executables are probed (exact paths; a trailing * matches any rest); default every Go program. */
  probeExe?: readonly string[];
  listingBudget?: ProbeBudget;
  callBudget?: ProbeBudget;
  /** The locator to use (tests and the bench read its request counter); default one on procFs. */
  locator?: PprofLocator;
}

type Opts = { signal?: AbortSignal; onBackend?: (name: BackendName) => void };

/** The Diagnostics of a host; calls also take `onBackend`, told which backend serves the call (for audit). */
export type HostDiagnostics = {
  [K in keyof Diagnostics]: Diagnostics[K] extends (req: infer Req, o?: infer _O) => infer Res ? (req: Req, o?: Opts) => Res : never;
};

const MAX_DURATION_SECONDS = 600;
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

export function createHostDiagnostics(options: HostDiagnosticsOptions): HostDiagnostics {
  const fs = options.procFs ?? createProcFs();
  const locator = new AgentLocator(fs);
  const pprof =
    options.pprof?.locator ??
    new PprofLocator(fs, { declared: options.pprof?.declared ?? [], ...(options.pprof?.probeExe ? { probeExe: options.pprof.probeExe } : {}) });
  const probeOnList = options.pprof?.probeOnList ?? false;
  const listingBudget = options.pprof?.listingBudget ?? LISTING_BUDGET;
  const callBudget = options.pprof?.callBudget ?? CALL_BUDGET;
  /** The agent as the port file shows it, plus the backend kind and what is known of an HTTP endpoint (no request). */
  const describeAccess = (pid: number, tables: NetTables): Agent => {
    const agent = locator.locate(pid, tables);
    if (agent.state === AgentState.AGENT_STATE_LISTENING) return { ...agent, kind: AgentKind.AGENT_KIND_GOPS_AGENT };
    const ep = pprof.lookup(pid, tables);
    return ep ? { ...agent, ...httpAgentFields(ep) } : agent;
  };
  const containers = new ContainerResolver(fs, { ...DEFAULT_CONTAINER_SOURCES, ...options.containerSources });
  const scanner = new ProcessScanner(fs, { locateAgent: describeAccess, containers });
  const governor = new Governor();
  const timeouts = withAgentTimeouts(options.agentTimeouts);
  const host = options.hostName;

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
    route: AgentRoute,
    pid: number,
    name: SignalName,
    arg: Buffer | undefined,
    o: Opts,
    parse: (text: string) => T,
  ): Promise<T> {
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

  /**
   * How to reach pid's verified agent. One in another network namespace is reached only through a relay inside
   * that namespace (never from gopsd's own: 127.0.0.1:PORT here may be someone else); the relay re-checks the
   * agent and the namespace just before it starts.
   */
  function routeOf(pid: number, agent: Agent): AgentRoute {
    const addr = parseAddress(agent.address);
    if (!agent.networkNamespace) return { addr, where: formatAgentAddress(addr) };
    const starttime = locator.verifiedStart(pid) ?? startOf(pid);
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
          if (startOf(pid) !== starttime) throw processNotFound(pid);
          throw agentUnavailable(where, `the agent changed since it was verified (${now.detail || "now " + now.address}); try again`);
        }
        return dialInNamespace(fs, target, a, where);
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

  async function* capture(route: AgentRoute, pid: number, name: CaptureSignal, o: Opts): AsyncGenerator<StreamProfileResponse> {
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
      yield { payload: { $case: "metadata" as const, value: metadata } };
      for await (const chunk of relayAware(route, Signal[name], undefined, agent)) {
        yield { payload: { $case: "chunk" as const, value: chunk } };
      }
    });
  }

  /** The gops agent along `addr` (directly, or through a relay in its network namespace) as a backend for pid. */
  function agentBackend(pid: number, addr: AgentRoute): DiagnosticBackend {
    const refuse = (what: string) => notSupportedBy(pid, "has a gops agent", what);
    return {
      name: "gops-agent",
      kind: AgentKind.AGENT_KIND_GOPS_AGENT,
      async *stack(o) {
        const { queue, agent } = callOptions("StackTrace", "stack", o);
        yield* governor.stream(pid, queue, () => relayAware(addr, Signal.StackTrace, undefined, agent));
      },
      memStats: (o) => exchange(addr, pid, "MemStats", undefined, o, (raw) => ({ ...parseMemStats(raw), raw })),
      stats: (o) => exchange(addr, pid, "Stats", undefined, o, (raw) => ({ ...parseStats(raw), raw })),
      version: (o) => exchange(addr, pid, "Version", undefined, o, (raw) => ({ goVersion: parseVersion(raw) })),
      forceGC: (o) => exchange(addr, pid, "GC", undefined, o, (raw) => (parseGCReply(raw), {})),
      setGCPercent: (percent, o) =>
        exchange(addr, pid, "SetGCPercent", encodeSignedVarint(percent), o, (raw) => ({ ...parseSetGCReply(raw), raw })),
      async *profile(kind, seconds, o) {
        if (kind === ProfileKind.PROFILE_KIND_CPU) {
          if (seconds !== undefined && seconds !== AGENT_SECONDS.cpu) {
            throw refuse(`profiles the CPU for a fixed ${AGENT_SECONDS.cpu}s: ask for ${AGENT_SECONDS.cpu}s or leave the duration out`);
          }
          yield* capture(addr, pid, "CPUProfile", o);
        } else if (kind === ProfileKind.PROFILE_KIND_HEAP) {
          if (seconds !== undefined) throw invalidArgument("a duration applies to CPU profiles and traces only");
          yield* capture(addr, pid, "HeapProfile", o);
        } else {
          throw refuse(`serves CPU and heap profiles only, not ${ProfileKind[kind]!.replace("PROFILE_KIND_", "").toLowerCase()}`);
        }
      },
      async *trace(seconds, o) {
        if (seconds !== undefined && seconds !== AGENT_SECONDS.trace) {
          throw refuse(`traces for a fixed ${AGENT_SECONDS.trace}s: ask for ${AGENT_SECONDS.trace}s or leave the duration out`);
        }
        yield* capture(addr, pid, "Trace", o);
      },
      binary: (o) => capture(addr, pid, "BinaryDump", o),
    };
  }

  /**
   * The backend for a diagnostic call on pid: its gops agent when usable, else its net/http/pprof endpoint
   * (known, or found by a probe within the call budget), else an error that gives both reasons.
   */
  async function backendFor(pid: number, o: Opts): Promise<DiagnosticBackend> {
    const agent = locator.locate(pid);
    let backend: DiagnosticBackend;
    if (agent.state === AgentState.AGENT_STATE_LISTENING) {
      backend = agentBackend(pid, routeOf(pid, agent));
    } else {
      // Not usable: say why in the most helpful terms (no such process / not Go), and probe only Go processes.
      const info = getBuildInfo(fs, pid);
      const tables = new NetTables(fs);
      const found = await pprof.probe([pid], callBudget, { signal: o.signal, useNegative: false, tables });
      const endpoint = found.get(pid);
      if (endpoint === undefined) {
        const why = pprof.whyNone(pid, tables) || "none of its listening loopback TCP ports answered GET /debug/pprof/cmdline with its command line";
        throw noBackend(pid, describeAgent(agent), why);
      }
      const goVersion = info.buildInfo?.goVersion ?? "";
      backend = createHttpPprofBackend({ pid, endpoint, governor, host, goVersion: () => goVersion });
    }
    o.onBackend?.(backend.name);
    return backend;
  }

  const withBackend =
    <Req extends { pid?: number }, Res>(fn: (b: DiagnosticBackend, req: Req, o: Opts) => Promise<Res>) =>
    async (req: Req, o: Opts = {}): Promise<Res> =>
      fn(await backendFor(requirePid(req.pid), o), req, o);
  const streamWithBackend =
    <Req extends { pid?: number }, Res>(fn: (b: DiagnosticBackend, req: Req, o: Opts) => AsyncIterable<Res>) =>
    async function* (req: Req, o: Opts = {}): AsyncGenerator<Res> {
      yield* fn(await backendFor(requirePid(req.pid), o), req, o);
    };

  /** GOGC set through this gopsd, by "pid:starttime" (WatchStats reports it as the process's GOGC). */
  const gogcSet = new Map<string, number>();
  const statsHub = createStatsHub({
    fs,
    host,
    scanner,
    governor,
    gogcSet,
    agentBackend: (pid, agent) => agentBackend(pid, routeOf(pid, agent)),
    pprof,
  });

  return {
    watchStats(req, o: Opts = {}) {
      const intervalMs = requireWatchInterval(req.intervalMs);
      const pids = requireWatchPids(req.pids);
      return statsHub.watch({ intervalMs, pids, ...(o.signal ? { signal: o.signal } : {}) });
    },
    async listProcesses(req, o: Opts = {}) {
      const res: ListProcessesResponse = { ...scanner.scan({ all: req.all ?? false }), host };
      if (req.probe || probeOnList) await probeListing(res, o.signal);
      return res;
    },
    async getProcess(req, o: Opts = {}) {
      const pid = requirePid(req.pid);
      return getProcessDetails(fs, pid, {
        cpuSampleMs: requireCpuSampleMs(req.cpuSampleMs),
        signal: o.signal,
        locateAgent: (p) => describeAccess(p, new NetTables(fs)),
        containers,
      });
    },
    async getBuildInfo(req) {
      return getBuildInfo(fs, requirePid(req.pid));
    },
    stack: streamWithBackend((b, _req, o) => mapStream(b.stack(o), (chunk) => ({ chunk }))),
    memStats: withBackend((b, _req, o) => b.memStats(o)),
    stats: withBackend((b, _req, o) => b.stats(o)),
    version: withBackend((b, _req, o) => b.version(o)),
    forceGC: withBackend((b, _req, o) => b.forceGC(o)),
    async setGCPercent(req, o: Opts = {}) {
      const pid = requirePid(req.pid);
      const percent = requireGcPercent(req.percent);
      const res = await (await backendFor(pid, o)).setGCPercent(percent, o);
      rememberGogc(fs, gogcSet, pid, res.current);
      return res;
    },
    async *streamProfile(req, o: Opts = {}) {
      const pid = requirePid(req.pid);
      const kind = req.kind;
      if (kind === undefined || kind === ProfileKind.PROFILE_KIND_UNSPECIFIED || ProfileKind[kind] === undefined || kind === ProfileKind.UNRECOGNIZED) {
        throw invalidArgument(`invalid profile kind ${kind ?? "(missing)"}: use CPU, HEAP, ALLOCS, BLOCK, MUTEX, GOROUTINE or THREADCREATE`);
      }
      const seconds = durationOf(req.durationSeconds);
      if (seconds !== undefined && kind !== ProfileKind.PROFILE_KIND_CPU) {
        throw invalidArgument("a duration applies to CPU profiles and traces only");
      }
      yield* (await backendFor(pid, o)).profile(kind, seconds, o);
    },
    async *streamTrace(req, o: Opts = {}) {
      const pid = requirePid(req.pid);
      const seconds = durationOf(req.durationSeconds);
      yield* (await backendFor(pid, o)).trace(seconds, o);
    },
    streamBinary: streamWithBackend((b, _req, o) => b.binary(o)),
  };

  /** Probes the Go processes of a listing that have no usable gops agent and no verified endpoint yet. */
  async function probeListing(res: ListProcessesResponse, signal: AbortSignal | undefined): Promise<void> {
    const targets = res.processes.filter(
      (p) => p.isGo && p.agent !== undefined && p.agent.state !== AgentState.AGENT_STATE_LISTENING && !p.agent.httpVerified,
    );
    if (targets.length === 0) return;
    const found = await pprof.probe(
      targets.map((p) => p.pid),
      listingBudget,
      { signal, useNegative: true },
    );
    for (const p of targets) {
      const ep = found.get(p.pid);
      if (ep) p.agent = { ...p.agent!, ...httpAgentFields(ep) };
    }
  }
}

/** A capture duration from a request: undefined for 0 (the default), else 1..600 whole seconds. */
function durationOf(seconds: number | undefined): number | undefined {
  if (seconds === undefined || seconds === 0) return undefined;
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_DURATION_SECONDS) {
    throw invalidArgument(`duration must be a whole number of seconds from 1 to ${MAX_DURATION_SECONDS}, got ${seconds}`);
  }
  return seconds;
}

async function* mapStream<T, U>(src: AsyncIterable<T>, f: (x: T) => U): AsyncGenerator<U> {
  for await (const x of src) yield f(x);
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
