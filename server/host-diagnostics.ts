// The core of gopsd: one host's Diagnostics, built from discovery (/proc + ELF build info), the port-file
// locator and the backends, with one call at a time per process (the governor). gopsd serves it over gRPC;
// gopsctl without --host calls it in-process. Validation happens here so both paths reject bad input the same way.
// Each diagnostic call is routed here to a backend and nothing more: the gops agent when the process has a usable
// one (server/gops-agent), else its net/http/pprof endpoint (server/pprof-http), found from what is known or, for
// the call, by a probe.
import type { Diagnostics } from "../common/diagnostics.js";
import { AgentKind, AgentState, ProfileKind, type Agent, type ListProcessesResponse } from "../proto/index.js";
import { AgentLocator } from "./agent/port-file.js";
import { withAgentTimeouts, type AgentTimeoutOverrides } from "./agent/timeouts.js";
import { invalidArgument, noBackend } from "../common/errors.js";
import type { BackendName, DiagnosticBackend } from "./diagnostic-backend.js";
import { Governor } from "./governor.js";
import { memoryFinishingStore, type FinishingStore, type StartTimeOf } from "./finishing-captures.js";
import { createGopsAgentBackend, routeOf, startOf } from "./gops-agent/index.js";
import {
  ContainerResolver,
  createProcFs,
  DEFAULT_CONTAINER_SOURCES,
  getBuildInfo,
  getProcessDetails,
  NetTables,
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
import type { StatsHub } from "./stats-watch/index.js";

export interface HostDiagnosticsOptions {
  hostName: string;
  agentTimeouts: AgentTimeoutOverrides;
  procFs?: ProcFs;
  /** net/http/pprof discovery: probe on every listing, endpoints declared in the config, probe budgets. */
  pprof?: PprofHttpOptions;
  /** Where the container runtimes and the kubelet keep their state (defaults: the usual /var/lib paths). */
  containerSources?: Partial<ContainerSources>;
  /**
   * Where abandoned captures the agents still run are remembered (server/finishing-captures.ts): in memory by
   * default (gopsd); gopsctl's in-process backend keeps them in files, as each of its runs is a new process.
   */
  finishingStore?: (startOf: StartTimeOf) => FinishingStore;
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

/** The RPCs of the capture store (server/capture/), served beside the host's Diagnostics, not by it. */
export type CaptureMethods = "listCaptures" | "getCapture" | "deleteCapture";

/** The Diagnostics of a host; calls also take `onBackend`, told which backend serves the call (for audit). */
export type HostDiagnostics = {
  [K in Exclude<keyof Diagnostics, CaptureMethods>]: Diagnostics[K] extends (req: infer Req, o?: infer _O) => infer Res ? (req: Req, o?: Opts) => Res : never;
};

const MAX_DURATION_SECONDS = 600;

/** The host's one sampler and its /proc, for the metrics exporter (a subscriber beside WatchStats). */
export interface HostSampler {
  readonly hub: StatsHub;
  readonly fs: ProcFs;
}

export function createHostDiagnostics(options: HostDiagnosticsOptions): HostDiagnostics & { readonly sampler: HostSampler } {
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
  const governor = new Governor((options.finishingStore ?? memoryFinishingStore)((pid) => startOf(fs, pid)));
  const timeouts = withAgentTimeouts(options.agentTimeouts);
  const host = options.hostName;

  /** The gops agent of pid (verified: `agent` is LISTENING) as its backend, along the route to it. */
  const agentBackend = (pid: number, agent: Agent): DiagnosticBackend =>
    createGopsAgentBackend({ pid, route: routeOf({ fs, locator }, pid, agent), fs, governor, timeouts, host });

  /**
   * The backend for a diagnostic call on pid: its gops agent when usable, else its net/http/pprof endpoint
   * (known, or found by a probe within the call budget), else an error that gives both reasons.
   */
  async function backendFor(pid: number, o: Opts): Promise<DiagnosticBackend> {
    const agent = locator.locate(pid);
    let backend: DiagnosticBackend;
    if (agent.state === AgentState.AGENT_STATE_LISTENING) {
      backend = agentBackend(pid, agent);
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
    agentBackend,
    pprof,
  });

  return {
    sampler: { hub: statsHub, fs },
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
    // The pause ring is the metrics exporter's, not part of the RPC's answer.
    memStats: withBackend(async (b, _req, o) => {
      const { pauseNs: _ring, ...res } = await b.memStats(o);
      return res;
    }),
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
