// `gopsctl` / `gopsctl ps [-A] [--sort KEY] [--module PATH[@VERSION]]`: the gops process list, on this machine, one
// gopsd or across hosts (a HOST column). --sort orders by CPU or memory from the listing, or by heap or goroutines
// asked of each Go process's agent; --module finds the processes whose binaries contain a Go module (a fleet-wide
// dependency search from build info, no agent needed).
import { findModule, parseModuleQuery, type ModuleMatch, type ModuleQuery, type ProcessWithBuildInfo } from "../../client/fleet/modules.js";
import type { Diagnostics } from "../../common/diagnostics.js";
import { AgentKind, AgentState, ScanProblemKind, type ListProcessesResponse, type Process, type ScanProblemCount } from "../../proto/index.js";
import { defineCommand, type CommandContext } from "../command.js";
import { CONTAINER_FLAG, POD_FLAG, parseSelection, selectProcesses, wideCells, type ContainerSelection } from "../containers.js";
import { UsageError } from "../errors.js";
import { mapLimit } from "../map-limit.js";
import { processJson, renderTable, scanProblemKindName } from "../output/index.js";
import { flagValue, type FlagSpec } from "../parse-argv.js";
import { formatBytes } from "../progress.js";

const SORT_KEYS = ["cpu", "mem", "heap", "goroutines"] as const;
export type PsSort = (typeof SORT_KEYS)[number];

export interface PsOptions {
  /** -A/--all-processes: every process, not only Go ones. */
  allProcesses: boolean;
  /** --probe: gopsd asks Go processes without a gops agent for net/http/pprof on their loopback ports. */
  probe?: boolean;
  sort?: PsSort;
  module?: ModuleQuery;
  /** -o wide: the NSPID, CONTAINER and POD columns. */
  wide?: boolean;
  /** --container, --pod: only the processes in that container or pod (filtered on each host's listing). */
  select?: ContainerSelection | undefined;
}

/** Agents asked at once per host for --sort heap|goroutines, and build infos read at once for --module. */
const PER_HOST_CALLS = 4;

/** -A, shared with tree. */
export const ALL_PROCESSES: FlagSpec = { name: "all-processes", short: "A", help: "list every process, not only Go ones" };

/** One host's answer: its listing, or (--module) the processes whose binaries contain the module. */
type PsAnswer = ({ kind: "listing" } & Listing) | ({ kind: "module" } & ModuleSearch);

export const spec = defineCommand<PsOptions, PsAnswer>({
  name: "ps",
  args: "[-A] [--probe] [--sort KEY] [--module PATH[@VER]]",
  summary: "list Go processes (* = gops agent listening, ~ = net/http/pprof endpoint); the default command",
  flags: [
    ALL_PROCESSES,
    { name: "probe", help: "also look for net/http/pprof endpoints: GET /debug/pprof/cmdline on the loopback ports of Go processes without a gops agent" },
    { name: "sort", value: "KEY", help: "sort by cpu, mem (from the listing), heap or goroutines (asks each Go process's agent), largest first" },
    { name: "module", value: "PATH[@VER]", help: "processes whose binary contains this Go module, optionally @v1.2.3, @<v1.2.3, @<=, @>, @>= (from build info)" },
    { name: "output", short: "o", value: "wide", help: "wide: add the NSPID, CONTAINER and POD columns" },
    CONTAINER_FLAG,
    POD_FLAG,
  ],
  details: [
    "The * column says how gopsctl reaches a process's runtime: * = a gops agent is listening; ~ = a net/http/pprof",
    "  endpoint (stack, memstats, stats, pprof-*, trace work through it; gc and setgc do not); blank = neither known.",
    "  --json: agent.kind (GOPS_AGENT, HTTP_PPROF, UNSPECIFIED), agent.httpAddress, agent.httpPathPrefix, agent.httpVerified.",
    "-A, --all-processes: every process, not only Go ones.",
    "--probe: also find net/http/pprof endpoints now: one small GET /debug/pprof/cmdline (short deadline) to each",
    "  loopback port of each Go process without a gops agent (only ports it owns). A plain ps sends no request to any",
    "  port: it shows endpoints found before (gopsd remembers them while their socket lives; gopsctl without gopsd",
    "  remembers nothing between runs) and those declared in gopsd's config (pprof.endpoints).",
    "--sort cpu|mem: largest CPU or memory share first (from the listing); adds a CPU% or MEM% column.",
    "--sort heap|goroutines: asks each Go process's agent (memstats, stats; a few at a time per host), largest first;",
    "  processes without an agent or pprof endpoint are left out (stderr says how many); an agent that does not answer shows -.",
    "--module PATH[@VERSION]: the processes whose binary contains the Go module (main module or dependency, from",
    "  build info: no agent needed), optionally at a version: @v1.2.3 (exactly), @<v1.2.3, @<=, @>, @>=.",
    "  Columns: PID NAME MODULE VERSION VIA (main, dependency or replacement).",
    "-o wide: adds CONTAINER (the Docker/Podman/nspawn/LXC name, else the id's first 12 characters; empty on the",
    "  host), and NSPID (the pid inside the process's own pid namespace, where it differs) and POD (namespace/name,",
    "  else the pod UID) when some row has one; \"(unverified)\" marks what gopsd could not cross-check with the",
    "  runtime's state. --json always carries nsPid and container (runtime, id, name, pod uid/name/namespace, QoS",
    "  class, cgroup, verified).",
    "--container NAME|ID: only processes in that container (its name, its id, or an id prefix of >= 4 hex digits);",
    "  --pod [NS/]NAME: only processes in that Kubernetes pod (name in any namespace, namespace/name, or pod UID).",
    "  A name selects only a verified container or pod; an id or UID always does.",
    "  Both filter each host's listing, so they work locally, with --host and across hosts.",
    "Across hosts (--hosts, -l, --all) tables start with a HOST column, sorted across the fleet.",
  ],
  parse(args, parsed) {
    if (args.length > 0) throw new UsageError(`ps takes no arguments, got "${args[0]}"`);
    const sort = flagValue(parsed, "sort");
    const module = flagValue(parsed, "module");
    if (sort !== undefined && !(SORT_KEYS as readonly string[]).includes(sort)) {
      throw new UsageError(`invalid --sort "${sort}" (want one of: ${SORT_KEYS.join(", ")})`);
    }
    if (sort !== undefined && module !== undefined) throw new UsageError("--sort and --module exclude each other");
    const output = flagValue(parsed, "output");
    if (output !== undefined && output !== "wide") throw new UsageError(`invalid -o "${output}" (want wide)`);
    return {
      ...(output === "wide" ? { wide: true } : {}),
      ...(parsed.given.has("container") || parsed.given.has("pod") ? { select: parseSelection(parsed) } : {}),
      allProcesses: parsed.given.has("all-processes"),
      ...(parsed.given.has("probe") ? { probe: true } : {}),
      ...(sort !== undefined ? { sort: sort as PsSort } : {}),
      ...(module !== undefined ? { module: parseModuleQuery(module) } : {}),
    };
  },
  call: async (d, opts, { signal }) =>
    opts.module !== undefined
      ? { kind: "module", ...(await searchModule(d, opts, opts.module, signal)) }
      : { kind: "listing", ...(await gatherListing(d, opts, signal)) },
  render: {
    text: (a, opts) => (a.kind === "module" ? moduleTable(a.matches.map((m) => ({ m })), false) : psTable(a.rows.map((row) => ({ row })), opts, false)),
    json: (a, opts) => (a.kind === "module" ? moduleJson(a) : listingJson(a, opts.sort)),
    across: {
      kind: "table",
      table(answers, opts) {
        const rows = answers.flatMap(({ host, value }) => (value.kind === "listing" ? value.rows.map((row) => ({ host, row })) : []));
        if (opts.module !== undefined) {
          return moduleTable(answers.flatMap(({ host, value }) => (value.kind === "module" ? value.matches.map((m) => ({ host, m })) : [])), true);
        }
        if (opts.sort !== undefined) rows.sort((a, b) => compareRows(a.row, b.row));
        return psTable(rows, opts, true);
      },
    },
    notes: (answers, opts, ctx) =>
      opts.module !== undefined
        ? unreadNotes(answers.reduce((n, a) => n + (a.kind === "module" ? a.unread : 0), 0))
        : listingNotes(answers.flatMap((a) => (a.kind === "listing" ? [a] : [])), opts, ctx),
  },
});
export const run = spec.run;

interface PsRow {
  process: Process;
  /** The --sort value (heap bytes, goroutines, CPU or memory %); undefined when the agent did not answer. */
  value?: number | undefined;
}

interface Listing {
  res: ListProcessesResponse;
  /** In display order: by pid, or by the --sort value (largest first). */
  rows: PsRow[];
  /** --sort heap|goroutines: processes left out because no agent listens in them. */
  withoutAgent: number;
  /** --sort heap|goroutines: agents that did not answer. */
  unanswered: number;
}

/** One host's listing, with the --sort values (asking each agent for heap or goroutines). */
async function gatherListing(client: Diagnostics, opts: PsOptions, signal: AbortSignal): Promise<Listing> {
  const res = await client.listProcesses({ all: opts.allProcesses, probe: opts.probe === true }, { signal });
  const processes = selectProcesses(res.processes, opts.select).sort((a, b) => a.pid - b.pid);
  const sort = opts.sort;
  if (sort === undefined) return { res, rows: processes.map((process) => ({ process })), withoutAgent: 0, unanswered: 0 };
  if (sort === "cpu" || sort === "mem") {
    const rows = processes.map((process) => ({ process, value: sort === "cpu" ? process.cpuPercent : process.memoryPercent }));
    return { res, rows: rows.sort(compareRows), withoutAgent: 0, unanswered: 0 };
  }
  // Both backends answer memstats and stats (a pprof endpoint's heap figures; its goroutine count).
  const withAgent = processes.filter((p) => accessMarker(p) !== "");
  const values = await mapLimit(
    withAgent,
    PER_HOST_CALLS,
    async (p) =>
      sort === "heap"
        ? ((await client.memStats({ pid: p.pid }, { signal })).stats?.heapAlloc ?? undefined)
        : (await client.stats({ pid: p.pid }, { signal })).goroutines,
    signal,
  );
  const rows = withAgent.map((process, i) => {
    const v = values[i]!;
    return { process, value: v.ok ? v.value : undefined };
  });
  return {
    res,
    rows: rows.sort(compareRows),
    withoutAgent: processes.length - withAgent.length,
    unanswered: rows.filter((r) => r.value === undefined).length,
  };
}

/** Largest value first, unknown values last, then by pid. */
function compareRows(a: PsRow, b: PsRow): number {
  if (a.value !== b.value) {
    if (a.value === undefined) return 1;
    if (b.value === undefined) return -1;
    return b.value - a.value;
  }
  return a.process.pid - b.process.pid;
}

const SORT_COLUMN: Record<PsSort, { title: string; format: (v: number) => string }> = {
  cpu: { title: "CPU%", format: (v) => v.toFixed(1) },
  mem: { title: "MEM%", format: (v) => v.toFixed(1) },
  heap: { title: "HEAP", format: formatBytes },
  goroutines: { title: "GOROUTINES", format: String },
};

function psTable(rows: readonly { host?: string; row: PsRow }[], { sort, wide }: PsOptions, withHost: boolean): string {
  const column = sort === undefined ? undefined : SORT_COLUMN[sort];
  const w = wide === true ? wideCells(rows.map((r) => r.row.process)) : undefined;
  return renderTable(
    rows.map(({ host, row }) => {
      const p = row.process;
      return [
        ...(withHost ? [host ?? ""] : []),
        String(p.pid),
        String(p.ppid),
        p.name,
        accessMarker(p),
        shortGoVersion(p.goVersion),
        ...(column !== undefined ? [row.value === undefined ? "-" : column.format(row.value)] : []),
        ...(w?.cells(p) ?? []),
        p.exe,
      ];
    }),
    [...(withHost ? ["HOST"] : []), "PID", "PPID", "NAME", "*", "VERSION", ...(column !== undefined ? [column.title] : []), ...(w?.header ?? []), "PATH"],
  );
}

/**
 * The access column: `*` a gops agent listens (the backend gopsd uses), `~` a net/http/pprof endpoint (verified,
 * or declared in gopsd's config), "" neither. A gopsd from before issue 11 sends no kind: its LISTENING is `*`.
 */
export function accessMarker(p: Pick<Process, "agent">): string {
  const a = p.agent;
  if (a === undefined) return "";
  if (a.kind === AgentKind.AGENT_KIND_HTTP_PPROF) return "~";
  if (a.kind === AgentKind.AGENT_KIND_GOPS_AGENT || a.state === AgentState.AGENT_STATE_LISTENING) return "*";
  return "";
}

/** The footers on stderr: processes that could not be inspected, and what --sort heap|goroutines left out. */
function listingNotes(listings: readonly Listing[], opts: PsOptions, ctx: CommandContext): string[] {
  const sort = opts.sort;
  const counts = new Map<ScanProblemKind, number>();
  for (const l of listings) for (const c of l.res.problemCounts) counts.set(c.kind, (counts.get(c.kind) ?? 0) + c.count);
  const footer = problemFooter([...counts].map(([kind, count]) => ({ kind, count })), ctx.reader);
  const notes: string[] = footer === undefined ? [] : [footer];
  const withoutAgent = listings.reduce((n, l) => n + l.withoutAgent, 0);
  const unanswered = listings.reduce((n, l) => n + l.unanswered, 0);
  if (withoutAgent > 0) notes.push(`--sort ${sort}: ${plural(withoutAgent, "process", "processes")} without a gops agent or pprof endpoint left out`);
  if (unanswered > 0) notes.push(`--sort ${sort}: ${plural(unanswered, "agent", "agents")} did not answer (shown as -)`);
  if (opts.select === undefined && listings.every((l) => l.rows.length === 0)) notes.push(...EMPTY_LISTING_HINT);
  return notes;
}

/**
 * Under an empty listing (on stderr, with the other notes: a pipe gets only the table): what makes a Go program
 * diagnosable, and where to see it work.
 */
export const EMPTY_LISTING_HINT = [
  'no Go process found: start a Go program with the gops agent (import "github.com/google/gops/agent"; agent.Listen(agent.Options{}))',
  "  or with net/http/pprof (ps --probe finds it); `npm run demo` in a gopsctl checkout runs a sample program and gopsctl against it",
] as const;

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Like gops: a development toolchain's long version string is cut to "devel +<hash>". */
export function shortGoVersion(version: string): string {
  return /devel\s+\+\w+/.exec(version)?.[0] ?? version;
}

/** Kinds that mean "this process could not be inspected" (the others are simply not Go, or gone), with their labels. */
const UNINSPECTED = new Map<ScanProblemKind, string>([
  [ScanProblemKind.SCAN_PROBLEM_KIND_PERMISSION_DENIED, "permission denied"],
  [ScanProblemKind.SCAN_PROBLEM_KIND_CORRUPT, "corrupt"],
  [ScanProblemKind.SCAN_PROBLEM_KIND_IO_ERROR, "I/O error"],
]);

/**
 * e.g. "3 processes could not be inspected (permission denied: 2, corrupt: 1); run as root or see --json". Only a
 * reader that is not root is told to run as root; root is told what such processes are (another user namespace,
 * or a security module's confinement), and a gopsd's listing (reader undefined) names no remedy.
 */
export function problemFooter(counts: readonly ScanProblemCount[], reader: CommandContext["reader"]): string | undefined {
  const relevant = counts.filter((c) => UNINSPECTED.has(c.kind) && c.count > 0);
  const total = relevant.reduce((n, c) => n + c.count, 0);
  if (total === 0) return undefined;
  const denied = relevant.some((c) => c.kind === ScanProblemKind.SCAN_PROBLEM_KIND_PERMISSION_DENIED);
  const label = (kind: ScanProblemKind) =>
    kind === ScanProblemKind.SCAN_PROBLEM_KIND_PERMISSION_DENIED && reader?.root === true
      ? "unreadable even to root, e.g. in another user namespace"
      : UNINSPECTED.get(kind);
  const parts = relevant.map((c) => `${label(c.kind)}: ${c.count}`);
  const advice = denied && reader?.root === false ? "run as root or see --json" : "see --json";
  return `${plural(total, "process", "processes")} could not be inspected (${parts.join(", ")}); ${advice}`;
}

const SORT_JSON_FIELD: Partial<Record<PsSort, string>> = { heap: "heapAllocBytes", goroutines: "goroutines" };

function listingJson(listing: Listing, sort: PsSort | undefined) {
  const { res } = listing;
  const field = sort === undefined ? undefined : SORT_JSON_FIELD[sort];
  return {
    host: res.host,
    scanned: res.scanned,
    processes: listing.rows.map((row) => ({
      ...processJson(row.process),
      ...(field !== undefined ? { [field]: row.value ?? null } : {}),
    })),
    problemCounts: res.problemCounts.map((c) => ({ kind: scanProblemKindName(c.kind), count: c.count })),
    problems: res.problems.map((p) => ({ pid: p.pid, kind: scanProblemKindName(p.kind), detail: p.detail })),
    ...(field !== undefined ? { withoutAgent: listing.withoutAgent } : {}),
  };
}

// ---------------------------------------------------------------------------
// --module: ListProcesses, then GetBuildInfo of each Go process (its dependencies), then findModule.

interface ModuleSearch {
  host: string;
  matches: ModuleMatch<ProcessWithBuildInfo>[];
  /** Go processes whose build info could not be read (exited, unreadable): only their main module was checked. */
  unread: number;
}

async function searchModule(client: Diagnostics, opts: PsOptions, query: ModuleQuery, signal: AbortSignal): Promise<ModuleSearch> {
  const res = await client.listProcesses({ all: opts.allProcesses, probe: opts.probe === true }, { signal });
  const goProcesses = selectProcesses(res.processes, opts.select).filter((p) => p.isGo).sort((a, b) => a.pid - b.pid);
  const infos = await mapLimit(goProcesses, PER_HOST_CALLS, (p) => client.getBuildInfo({ pid: p.pid }, { signal }), signal);
  const withInfo: ProcessWithBuildInfo[] = goProcesses.map((p, i) => {
    const info = infos[i]!;
    return info.ok && info.value.buildInfo !== undefined ? { ...p, buildInfo: info.value.buildInfo } : p;
  });
  return { host: res.host, matches: findModule(withInfo, query), unread: infos.filter((i) => !i.ok).length };
}

function moduleTable(rows: readonly { host?: string; m: ModuleMatch<ProcessWithBuildInfo> }[], withHost: boolean): string {
  return renderTable(
    rows.map(({ host, m }) => [
      ...(withHost ? [host ?? ""] : []),
      String(m.process.pid),
      m.process.name,
      m.module.path,
      m.module.version,
      m.replacedBy !== undefined ? `${m.via} => ${m.replacedBy.path}${m.replacedBy.version !== "" ? ` ${m.replacedBy.version}` : ""}` : m.via,
    ]),
    [...(withHost ? ["HOST"] : []), "PID", "NAME", "MODULE", "VERSION", "VIA"],
  );
}

function unreadNotes(unread: number): string[] {
  return unread > 0 ? [`--module: the build info of ${plural(unread, "Go process", "Go processes")} could not be read (only main modules checked)`] : [];
}

function moduleJson(found: ModuleSearch) {
  return {
    host: found.host,
    matches: found.matches.map((m) => ({
      pid: m.process.pid,
      name: m.process.name,
      exe: m.process.exe,
      module: m.module,
      via: m.via,
      replacedBy: m.replacedBy ?? null,
    })),
    unreadBuildInfo: found.unread,
  };
}
