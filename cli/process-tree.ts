// Builds the `gops tree` forest from a flat process list: one first-level node per parent pid that is not
// itself in the list, each process under its parent. Unlike gops, no process is ever dropped: a parent that is
// listed always carries its listed children, whatever the numeric order of the pids.
import type { Process } from "../proto/index.js";

export interface ProcessTreeNode {
  pid: number;
  /** Undefined for a first-level node: a parent pid that is not in the list. */
  process: Process | undefined;
  children: ProcessTreeNode[];
}

export function buildProcessTree(processes: readonly Process[]): ProcessTreeNode[] {
  const byPid = new Map<number, Process>();
  for (const p of processes) byPid.set(p.pid, p);
  const sorted = [...byPid.values()].sort((a, b) => a.pid - b.pid);

  const childrenOf = new Map<number, Process[]>();
  for (const p of sorted) {
    if (p.ppid === p.pid) continue;
    const list = childrenOf.get(p.ppid);
    if (list === undefined) childrenOf.set(p.ppid, [p]);
    else list.push(p);
  }

  const placed = new Set<number>();
  const node = (p: Process): ProcessTreeNode => {
    placed.add(p.pid);
    const kids = (childrenOf.get(p.pid) ?? []).filter((c) => !placed.has(c.pid));
    return { pid: p.pid, process: p, children: kids.map(node) };
  };

  const tops = new Map<number, ProcessTreeNode>();
  const addTop = (p: Process) => {
    let top = tops.get(p.ppid);
    if (top === undefined) tops.set(p.ppid, (top = { pid: p.ppid, process: undefined, children: [] }));
    top.children.push(node(p));
  };
  for (const p of sorted) if (!byPid.has(p.ppid) || p.ppid === p.pid) addTop(p);
  // Only a parent loop (pid reuse between snapshots) leaves processes unplaced: cut it at its lowest pid.
  for (const p of sorted) if (!placed.has(p.pid)) addTop(p);

  return [...tops.values()].sort((a, b) => a.pid - b.pid).map((top) => ({ ...top, children: top.children.sort((a, b) => a.pid - b.pid) }));
}
