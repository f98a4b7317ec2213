// `stack --summary`: a goroutine dump (runtime/pprof goroutine profile, debug=2, as the agent sends it)
// grouped by identical stack, largest group first; and the same across hosts with per-host counts.
import { invalidArgument } from "../common/errors.js";

export interface StackFrame {
  /** Function name without arguments, e.g. `main.(*Server).serve`. */
  func: string;
  /** `file:line` of the call ("" when the dump gave none). */
  location: string;
}

export interface StateCount {
  /** The bracketed state without the wait time, e.g. `chan receive`, `syscall, locked to thread`. */
  state: string;
  count: number;
}

export interface StackGroup {
  count: number;
  /** Most frequent first. */
  states: StateCount[];
  /** Shortest and longest reported wait, in minutes; absent when no goroutine of the group reported one. */
  waitMinutes?: { min: number; max: number };
  /** The stack, innermost frame first. */
  frames: StackFrame[];
  /** The `created by` frame; absent for goroutine 1 and system goroutines. */
  createdBy?: StackFrame;
  /** The lowest goroutine id in the group, to find it in the full dump. */
  firstId: number;
}

export interface HostCount {
  host: string;
  count: number;
  firstId: number;
}

export interface FleetStackGroup extends Omit<StackGroup, "firstId"> {
  /** Hosts with goroutines in this group, most first. */
  hosts: HostCount[];
}

interface Goroutine {
  id: number;
  state: string;
  waitMinutes?: number;
  frames: StackFrame[];
  createdBy?: StackFrame;
}

const HEADER = /^goroutine (\d+)(?: [^[]*)? \[(.*)\]:$/;
const WAIT = /^(\d+) minutes?$/;
const CREATED_BY = /^created by (.+?)(?: in goroutine \d+)?$/;
const LOCATION = /^\t(.*?:\d+)(?:\s|$)/;

/** Parses a debug=2 goroutine dump and groups its goroutines by stack (frames and `created by`). */
export function summarizeStacks(text: string): StackGroup[] {
  const goroutines = parseGoroutines(text);
  if (goroutines.length === 0 && text.trim() !== "") {
    throw invalidArgument("not a goroutine dump: no `goroutine N [state]:` header found");
  }
  const groups = new Map<string, { group: StackGroup; states: Map<string, number> }>();
  for (const g of goroutines) {
    const key = stackKey(g.frames, g.createdBy);
    let entry = groups.get(key);
    if (!entry) {
      const group: StackGroup = { count: 0, states: [], frames: g.frames, firstId: g.id };
      if (g.createdBy) group.createdBy = g.createdBy;
      groups.set(key, (entry = { group, states: new Map() }));
    }
    const { group, states } = entry;
    group.count++;
    group.firstId = Math.min(group.firstId, g.id);
    states.set(g.state, (states.get(g.state) ?? 0) + 1);
    if (g.waitMinutes !== undefined) group.waitMinutes = widenWait(group.waitMinutes, { min: g.waitMinutes, max: g.waitMinutes });
  }
  return sortGroups(groups, ({ group, states }) => ({ ...group, states: sortStates(states) }));
}

/** Groups several hosts' summaries fleet-wide: equal stacks are one group with per-host counts. */
export function mergeStackSummaries(perHost: ReadonlyMap<string, readonly StackGroup[]>): FleetStackGroup[] {
  const merged = new Map<string, { group: FleetStackGroup; states: Map<string, number> }>();
  for (const [host, groups] of perHost) {
    for (const g of groups) {
      const key = stackKey(g.frames, g.createdBy);
      let entry = merged.get(key);
      if (!entry) {
        const group: FleetStackGroup = { count: 0, states: [], frames: g.frames, hosts: [] };
        if (g.createdBy) group.createdBy = g.createdBy;
        merged.set(key, (entry = { group, states: new Map() }));
      }
      const { group, states } = entry;
      group.count += g.count;
      const existing = group.hosts.find((h) => h.host === host);
      if (existing) {
        existing.count += g.count;
        existing.firstId = Math.min(existing.firstId, g.firstId);
      } else group.hosts.push({ host, count: g.count, firstId: g.firstId });
      for (const s of g.states) states.set(s.state, (states.get(s.state) ?? 0) + s.count);
      if (g.waitMinutes) group.waitMinutes = widenWait(group.waitMinutes, g.waitMinutes);
    }
  }
  return sortGroups(merged, ({ group, states }) => ({
    ...group,
    states: sortStates(states),
    hosts: group.hosts.sort((a, b) => b.count - a.count || a.host.localeCompare(b.host)),
  }));
}

export interface FormatStackSummaryOptions {
  /** Frames shown per group, innermost first; default 10 (the rest is counted). */
  maxFrames?: number;
  /** Groups shown; default all (the rest is counted). */
  maxGroups?: number;
}

/** Text rendering: one block per group, a header line (count, states, wait, hosts) then the top frames. */
export function formatStackSummary(
  groups: readonly (StackGroup | FleetStackGroup)[],
  opts: FormatStackSummaryOptions = {},
): string {
  const maxFrames = opts.maxFrames ?? 10;
  const shown = opts.maxGroups === undefined ? groups : groups.slice(0, opts.maxGroups);
  const totalGoroutines = groups.reduce((sum, g) => sum + g.count, 0);
  const out: string[] = [
    `${totalGoroutines} goroutine${totalGoroutines === 1 ? "" : "s"} in ${groups.length} group${groups.length === 1 ? "" : "s"}`,
  ];
  for (const g of shown) {
    out.push("");
    const parts = [`${g.count} goroutine${g.count === 1 ? "" : "s"}`];
    parts.push(g.states.map((s) => `${s.state} ${s.count}`).join(", "));
    if (g.waitMinutes) {
      const { min, max } = g.waitMinutes;
      parts.push(`waiting ${min === max ? min : `${min}-${max}`} minute${max === 1 ? "" : "s"}`);
    }
    out.push(parts.join(" | "));
    if ("hosts" in g) out.push(`  hosts: ${g.hosts.map((h) => `${h.host} ${h.count}`).join(", ")}`);
    for (const f of g.frames.slice(0, maxFrames)) pushFrame(out, f.func, f.location);
    if (g.frames.length > maxFrames) out.push(`    ... ${g.frames.length - maxFrames} more frames`);
    if (g.createdBy) pushFrame(out, `created by ${g.createdBy.func}`, g.createdBy.location);
  }
  if (shown.length < groups.length) {
    const rest = groups.slice(shown.length);
    const count = rest.reduce((sum, g) => sum + g.count, 0);
    out.push("", `... ${rest.length} more groups with ${count} goroutines`);
  }
  return out.join("\n") + "\n";
}

function pushFrame(out: string[], func: string, location: string): void {
  out.push(`    ${func}`);
  if (location !== "") out.push(`        ${location}`);
}

function parseGoroutines(text: string): Goroutine[] {
  const result: Goroutine[] = [];
  let current: Goroutine | undefined;
  let pendingFunc: string | undefined;
  let pendingCreatedBy = false;
  const flush = () => {
    if (current && pendingFunc !== undefined) addFrame(current, pendingFunc, "", pendingCreatedBy);
    pendingFunc = undefined;
  };
  for (const rawLine of text.split("\n")) {
    const line = rawLine.endsWith("\r") ? rawLine.slice(0, -1) : rawLine;
    const header = HEADER.exec(line);
    if (header) {
      flush();
      current = parseHeader(Number(header[1]), header[2]!);
      result.push(current);
      continue;
    }
    if (!current) continue;
    if (line === "") {
      flush();
      current = undefined;
      continue;
    }
    if (line.startsWith("\t")) {
      if (pendingFunc !== undefined) {
        const location = LOCATION.exec(line)?.[1] ?? line.trim();
        addFrame(current, pendingFunc, location, pendingCreatedBy);
        pendingFunc = undefined;
      }
      continue;
    }
    flush();
    if (line.startsWith("...") || line.startsWith("[originating from")) continue;
    const created = CREATED_BY.exec(line);
    pendingCreatedBy = created !== null;
    pendingFunc = created ? created[1]! : stripArguments(line);
  }
  flush();
  return result;
}

function parseHeader(id: number, bracket: string): Goroutine {
  const stateParts: string[] = [];
  let waitMinutes: number | undefined;
  for (const part of bracket.split(", ")) {
    const wait = WAIT.exec(part);
    if (wait) waitMinutes = Number(wait[1]);
    else stateParts.push(part);
  }
  const g: Goroutine = { id, state: stateParts.join(", "), frames: [] };
  if (waitMinutes !== undefined) g.waitMinutes = waitMinutes;
  return g;
}

function addFrame(g: Goroutine, func: string, location: string, createdBy: boolean): void {
  if (createdBy) g.createdBy = { func, location };
  else g.frames.push({ func, location });
}

/** `main.(*T).run(0xc000010000, {0x1, 0x2})` -> `main.(*T).run`: drops the final balanced parentheses. */
function stripArguments(line: string): string {
  if (!line.endsWith(")")) return line;
  let depth = 0;
  for (let i = line.length - 1; i >= 0; i--) {
    const c = line[i];
    if (c === ")") depth++;
    else if (c === "(") {
      depth--;
      if (depth === 0) return i === 0 ? line : line.slice(0, i);
    }
  }
  return line;
}

function stackKey(frames: readonly StackFrame[], createdBy: StackFrame | undefined): string {
  const all = createdBy ? [...frames, { func: `created by ${createdBy.func}`, location: createdBy.location }] : frames;
  return all.map((f) => `${f.func}\0${f.location}`).join("\n");
}

function sortStates(states: Map<string, number>): StateCount[] {
  return [...states]
    .map(([state, count]) => ({ state, count }))
    .sort((a, b) => b.count - a.count || a.state.localeCompare(b.state));
}

/** The shortest and longest wait of both (a fresh object: `current` may be shared with the input). */
function widenWait(current: { min: number; max: number } | undefined, w: { min: number; max: number }): { min: number; max: number } {
  return current ? { min: Math.min(current.min, w.min), max: Math.max(current.max, w.max) } : { ...w };
}

/** The groups, finished by `finish`, largest first, then by stack key (the map's keys, computed once). */
function sortGroups<E, G extends { count: number }>(byKey: Map<string, E>, finish: (entry: E) => G): G[] {
  return [...byKey]
    .map(([key, entry]) => ({ key, group: finish(entry) }))
    .sort((a, b) => b.group.count - a.group.count || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map(({ group }) => group);
}
