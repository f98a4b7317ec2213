// `gopsctl <pid> [period]` / `gopsctl process|pid|proc <pid> [period]`: the gops view of any process, and which
// backend (gops agent or net/http/pprof endpoint, and where) the diagnostic commands use for it.
import { AgentKind, AgentState, type Agent, type Connection, type GetProcessResponse } from "../../proto/index.js";
import { parsePeriod, parsePid } from "../arguments.js";
import { defineCommand } from "../command.js";
import { formatGoDuration } from "../duration.js";
import { UsageError } from "../errors.js";
import { processJson, renderLabels } from "../output/index.js";

export const spec = defineCommand({
  name: "process",
  aliases: ["pid", "proc"],
  args: "<pid> [period]",
  summary: "show a process (any process); with a period (2s, 1m, or seconds) also sample its CPU use",
  parse(args) {
    if (args.length > 2) throw new UsageError(`too many arguments: "${args[2]}"`);
    return { pid: parsePid(args[0]), periodMs: parsePeriod(args[1]) };
  },
  // The sample itself takes the period.
  defaultTimeoutMs: (opts, base) => base + opts.periodMs,
  call: (d, opts, { signal }) => d.getProcess({ pid: opts.pid, cpuSampleMs: opts.periodMs }, { signal }),
  render: { text: (res, opts) => processLabels(res, opts.periodMs), json: (res, opts) => processViewJson(opts.pid, res) },
});
export const run = spec.run;

/** The gops lines, in gops' order; a line is left out when its value is unknown. */
export function processLabels(res: GetProcessResponse, periodMs: number): string {
  const p = res.process;
  const pairs: [string, string][] = [];
  if (p !== undefined && p.ppid > 0) pairs.push(["parent PID", String(p.ppid)]);
  if (res.threads > 0) pairs.push(["threads", String(res.threads)]);
  if (p !== undefined) {
    pairs.push(["memory usage", `${p.memoryPercent.toFixed(3)}%`]);
    pairs.push(["cpu usage", `${p.cpuPercent.toFixed(3)}%`]);
  }
  if (res.hasSampledCpu) {
    pairs.push([`cpu usage (${formatGoDuration(res.cpuSampleMs > 0 ? res.cpuSampleMs : periodMs)})`, `${res.sampledCpuPercent.toFixed(3)}%`]);
  }
  if (p !== undefined && p.user !== "") pairs.push(["username", p.user]);
  if (res.cmdline.length > 0) pairs.push(["cmd+args", res.cmdline.join(" ")]);
  if (p !== undefined) pairs.push(["elapsed time", formatElapsed(res.elapsedSeconds)]);
  const backend = p?.agent === undefined ? undefined : describeBackend(p.agent);
  if (backend !== undefined) pairs.push(["diagnostics via", backend]);
  for (const c of res.connections) pairs.push(["local/remote", formatConnection(c)]);
  return renderLabels(pairs);
}

/**
 * Which backend the diagnostic commands use and where: "gops agent at 127.0.0.1:35367", "net/http/pprof at
 * http://127.0.0.1:6060/admin/debug/pprof/ (declared, not yet verified)"; undefined when neither is known.
 */
export function describeBackend(agent: Agent): string | undefined {
  if (agent.kind === AgentKind.AGENT_KIND_HTTP_PPROF) {
    const url = `http://${agent.httpAddress ?? ""}${agent.httpPathPrefix ?? ""}/debug/pprof/`;
    return agent.httpVerified === false ? `net/http/pprof at ${url} (declared, not yet verified)` : `net/http/pprof at ${url}`;
  }
  if (agent.kind === AgentKind.AGENT_KIND_GOPS_AGENT || agent.state === AgentState.AGENT_STATE_LISTENING) return `gops agent at ${agent.address}`;
  return undefined;
}

/** ps-style etime: [[DD-]hh:]mm:ss. */
export function formatElapsed(seconds: number): string {
  const total = Math.floor(seconds);
  const two = (n: number) => String(n).padStart(2, "0");
  const days = Math.floor(total / 86_400);
  const hours = Math.floor((total % 86_400) / 3600);
  const mmss = `${two(Math.floor((total % 3600) / 60))}:${two(total % 60)}`;
  if (days > 0) return `${two(days)}-${two(hours)}:${mmss}`;
  if (hours > 0) return `${two(hours)}:${mmss}`;
  return mmss;
}

export function formatConnection(c: Connection): string {
  // A unix socket without a path (socketpair, a connected client end) has nothing to show but its kind.
  const local = c.localAddress === "" && c.type === "unix" ? "unix socket" : c.localAddress;
  const base = c.remoteAddress === "" ? local : `${local} <-> ${c.remoteAddress}`;
  return c.state === "" ? base : `${base} (${c.state})`;
}

function processViewJson(pid: number, res: GetProcessResponse) {
  return {
    pid,
    process: res.process === undefined ? null : processJson(res.process),
    threads: res.threads,
    cmdline: res.cmdline,
    elapsedSeconds: res.elapsedSeconds,
    sampledCpu: res.hasSampledCpu ? { percent: res.sampledCpuPercent, periodMs: res.cpuSampleMs } : null,
    connections: res.connections,
    buildInfo: res.buildInfo ?? null,
  };
}
