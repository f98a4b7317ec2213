// WatchStats on a host: the StatsHub (server/stats-watch) wired to this host's /proc, scanner, governor and
// backends. Targets are the Go processes of a scan (the scanner's build-info cache makes a warm scan cheap), each
// read through the backend the listing names: its gops agent, or its net/http/pprof endpoint when gopsd knows one
// (declared in the config, or verified by an earlier probe). Processes without either are listed with their /proc
// fields only.
import { AgentKind, AgentState, type Agent, type Container, type StatsResponse } from "../proto/index.js";
import type { BackendMemStats, DiagnosticBackend } from "./diagnostic-backend.js";
import type { Governor } from "./governor.js";
import { createHttpPprofBackend, type PprofLocator } from "./pprof-http/index.js";
import { isGone, parseEnviron, parseStat, type ProcessScanner, type ProcFs } from "./proc/index.js";
import { NO_BACKEND, parseGogc, processKey, StatsHub, type AgentField, type AgentReading, type ProcReading } from "./stats-watch/index.js";

export interface StatsHubWiring {
  fs: ProcFs;
  host: string;
  scanner: ProcessScanner;
  governor: Governor;
  gogcSet: Map<string, number>;
  /** The gops agent of pid (as a listing found it, LISTENING) as a backend. */
  agentBackend(pid: number, agent: Agent): DiagnosticBackend;
  pprof: PprofLocator;
}

/** Memstats/stats field names (as in UnknownFields) → the sampler's field. */
const UNKNOWN_NAMES: Readonly<Record<string, AgentField>> = {
  heap_in_use: "heapInUseBytes",
  heap_objects: "heapObjects",
  num_gc: "numGc",
  gc_pause_total_ns: "gcPauseTotalNs",
  gc_cpu_fraction: "gcCpuFraction",
  enable_gc: "enableGc",
  gomaxprocs: "gomaxprocs",
  goroutines: "goroutines",
};

/** Most GOGC-from-environment entries kept (one per watched process). */
const MAX_ENV_CACHE = 8192;

export function createStatsHub(w: StatsHubWiring): StatsHub {
  /** The agent of each current target, by key, from the latest scan. */
  let agents = new Map<string, Agent>();
  const envGogc = new Map<string, number | undefined>();

  const gogcFromEnv = (pid: number, key: string): number | undefined => {
    if (envGogc.has(key)) return envGogc.get(key);
    let v: number | undefined;
    try {
      v = parseGogc(parseEnviron(w.fs.readEnviron(pid)).get("GOGC"));
    } catch {
      v = undefined; // unreadable environment: GOGC unknown
    }
    if (envGogc.size >= MAX_ENV_CACHE) envGogc.clear();
    envGogc.set(key, v);
    return v;
  };

  const readTargets = (pids: ReadonlySet<number> | undefined): ProcReading[] => {
    const { processes } = w.scanner.scan({ all: false });
    const next = new Map<string, Agent>();
    const out: ProcReading[] = [];
    for (const p of processes) {
      if (!p.isGo || (pids !== undefined && !pids.has(p.pid))) continue;
      let stat;
      try {
        stat = parseStat(w.fs.readStat(p.pid));
      } catch (e) {
        if (isGone(e)) continue;
        throw e;
      }
      const key = processKey({ pid: p.pid, starttime: stat.starttime });
      if (p.agent) next.set(key, p.agent);
      out.push({
        pid: p.pid,
        starttime: stat.starttime,
        name: p.name,
        modulePath: p.modulePath,
        backend: p.agent?.kind ?? NO_BACKEND,
        cpuTicks: stat.utime + stat.stime,
        rssBytes: p.rssBytes,
        threads: stat.numThreads,
        startTimeUnixMs: p.startTimeUnixMs,
        gogcEnv: gogcFromEnv(p.pid, key),
        gogcSet: w.gogcSet.get(key),
        exe: p.exe,
        goVersion: p.goVersion,
        vsizeBytes: stat.vsizeBytes,
        ...containerLabels(p.container),
      });
    }
    agents = next;
    for (const key of envGogc.keys()) if (!next.has(key)) envGogc.delete(key);
    for (const key of w.gogcSet.keys()) if (!next.has(key) && pids === undefined) w.gogcSet.delete(key);
    return out;
  };

  const backendOf = (p: ProcReading): DiagnosticBackend | undefined => {
    const agent = agents.get(processKey(p));
    if (agent === undefined) return undefined;
    if (p.backend === AgentKind.AGENT_KIND_GOPS_AGENT && agent.state === AgentState.AGENT_STATE_LISTENING) {
      return w.agentBackend(p.pid, agent);
    }
    if (p.backend === AgentKind.AGENT_KIND_HTTP_PPROF) {
      const endpoint = w.pprof.lookup(p.pid);
      if (endpoint) return createHttpPprofBackend({ pid: p.pid, endpoint, governor: w.governor, host: w.host, goVersion: () => "" });
    }
    return undefined;
  };

  const readAgent = async (p: ProcReading, signal: AbortSignal): Promise<AgentReading> => {
    const backend = backendOf(p);
    if (backend === undefined) throw new Error("its agent or endpoint is gone");
    // One after the other: a gops agent serves one connection at a time anyway.
    const stats = await backend.stats({ signal });
    const mem = await backend.memStats({ signal });
    return agentReading(stats, mem);
  };

  return new StatsHub({
    host: w.host,
    clockTicks: w.fs.clockTicks,
    readTargets,
    readAgent,
    // Only a gops agent makes a read wait behind a capture; an HTTP server answers both at once.
    captureBusy: (pid) => {
      const busy = w.governor.captureOf(pid);
      if (busy === undefined) return undefined;
      for (const [key, agent] of agents) if (key.startsWith(`${pid}:`) && agent.kind === AgentKind.AGENT_KIND_GOPS_AGENT) return busy;
      return undefined;
    },
  });
}

/** The container name (else id) and pod of a listing's container, for the metrics labels. */
function containerLabels(c: Container | undefined): Pick<ProcReading, "container" | "pod" | "podNamespace"> {
  if (c === undefined) return {};
  return {
    ...(c.name || c.id ? { container: c.name || c.id } : {}),
    ...(c.podName ? { pod: c.podName } : {}),
    ...(c.podNamespace ? { podNamespace: c.podNamespace } : {}),
  };
}

/** The sampler's reading from a Stats and a MemStats answer. */
export function agentReading(stats: StatsResponse, mem: BackendMemStats): AgentReading {
  const m = mem.stats;
  const unknown = new Set<AgentField>();
  for (const n of [...(stats.unknownFields?.names ?? []), ...(mem.unknownFields?.names ?? [])]) {
    const f = UNKNOWN_NAMES[n];
    if (f) unknown.add(f);
  }
  return {
    values: {
      goroutines: stats.goroutines,
      gomaxprocs: stats.gomaxprocs,
      ...(m
        ? {
            heapInUseBytes: m.heapInUse,
            heapObjects: m.heapObjects,
            numGc: m.numGc,
            gcPauseTotalNs: m.gcPauseTotalNs,
            gcCpuFraction: m.gcCpuFraction,
            enableGc: m.enableGc,
          }
        : {}),
    },
    unknown: [...unknown],
    ...(m
      ? {
          runtime: {
            memStats: m,
            memUnknown: mem.unknownFields?.names ?? [],
            osThreads: stats.unknownFields?.names.includes("os_threads") ? undefined : stats.osThreads,
            pauseNs: mem.pauseNs,
          },
        }
      : {}),
  };
}

/** Remembers a GOGC set through this gopsd for the process now running as pid. */
export function rememberGogc(fs: ProcFs, gogcSet: Map<string, number>, pid: number, current: number): void {
  try {
    gogcSet.set(processKey({ pid, starttime: parseStat(fs.readStat(pid)).starttime }), current);
  } catch {
    // gone meanwhile: nothing to remember
  }
}
