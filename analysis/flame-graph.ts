// `--flame FILE.html`: one self-contained HTML page (data, script and styles inline, no network fetches)
// drawing the profile's call tree as an interactive flame graph on a canvas.
import type { Profile } from "pprof-format";
import { invalidArgument } from "../common/errors.js";
import { flameGraphPage } from "./flame-graph-page.js";
import { callPath, locationFrames, resolveSampleIndex, sampleTypes } from "./profile.js";

export interface FlameGraphOptions {
  /** Sample type name or index (see resolveSampleIndex); default inuse_space for heap, cpu for CPU. */
  sampleIndex?: string | number;
  /** Page title and heading; default "<sample type> flame graph". */
  title?: string;
  /** A diff (profile-diff.ts): frames sized by how much their stacks changed, coloured by growth or shrinkage. */
  diff?: boolean;
}

/**
 * The call tree in pre-order as the page reads it: `names` is a string table and `nodes` holds four
 * integers per frame (name index, depth, total value, self value). Children follow their parent, the
 * biggest first; frames with the same function name under the same parent are one frame.
 */
export interface FlameTree {
  names: string[];
  nodes: number[];
  unit: string;
  sampleType: string;
  total: number;
  /** Diff mode only: each frame's net change (NEW - BASE), in node order; totals and selves are then sizes of change. */
  deltas?: number[];
}

interface TreeNode {
  name: string;
  total: number;
  self: number;
  delta: number;
  children: Map<string, TreeNode>;
}

const ROOT_NAME = "root";

/**
 * Builds the flame graph tree of one sample index; samples with a value <= 0 are left out. In diff mode each
 * stack's values are first netted (a stack in both profiles counts once, by NEW - BASE); a frame's width is the
 * sum of |net change| of the stacks through it and its delta their signed sum.
 */
export function flameTree(profile: Profile, opts: { sampleIndex?: string | number; diff?: boolean } = {}): FlameTree {
  const index = resolveSampleIndex(profile, opts.sampleIndex);
  const type = sampleTypes(profile)[index]!;
  const frames = locationFrames(profile);
  const root: TreeNode = { name: ROOT_NAME, total: 0, self: 0, delta: 0, children: new Map() };
  const add = (locationIds: ReadonlyArray<number | bigint>, size: number, delta: number) => {
    let node = root;
    node.total += size;
    node.delta += delta;
    for (const { name } of callPath(frames, locationIds)) {
      let child = node.children.get(name);
      if (!child) node.children.set(name, (child = { name, total: 0, self: 0, delta: 0, children: new Map() }));
      child.total += size;
      child.delta += delta;
      node = child;
    }
    node.self += size;
  };
  if (opts.diff) {
    const net = new Map<string, { locationIds: ReadonlyArray<number | bigint>; w: number }>();
    for (const sample of profile.sample) {
      const key = sample.locationId.join(",");
      const entry = net.get(key) ?? { locationIds: sample.locationId, w: 0 };
      entry.w += Number(sample.value[index]);
      net.set(key, entry);
    }
    for (const { locationIds, w } of net.values()) if (w !== 0) add(locationIds, Math.abs(w), w);
  } else {
    for (const sample of profile.sample) {
      const w = Number(sample.value[index]);
      if (w > 0) add(sample.locationId, w, w);
    }
  }

  const names: string[] = [];
  const nameIndex = new Map<string, number>();
  const nodes: number[] = [];
  const deltas: number[] = [];
  // Iterative pre-order walk: deep stacks (recursion) must not overflow the JS stack.
  const pending: { node: TreeNode; depth: number }[] = [{ node: root, depth: 0 }];
  while (pending.length > 0) {
    const { node, depth } = pending.pop()!;
    let id = nameIndex.get(node.name);
    if (id === undefined) {
      id = names.length;
      names.push(node.name);
      nameIndex.set(node.name, id);
    }
    nodes.push(id, depth, node.total, node.self);
    deltas.push(node.delta);
    const children = [...node.children.values()].sort(
      (a, b) => b.total - a.total || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
    );
    for (let k = children.length - 1; k >= 0; k--) pending.push({ node: children[k]!, depth: depth + 1 });
  }
  return { names, nodes, unit: type.unit, sampleType: type.type, total: root.total, ...(opts.diff ? { deltas } : {}) };
}

/** The flame graph of `profile` as one self-contained interactive HTML document. */
export function renderFlameGraph(profile: Profile, opts: FlameGraphOptions = {}): string {
  const tree = flameTree(profile, opts);
  if (tree.total === 0) {
    throw invalidArgument(opts.diff ? `the two profiles do not differ in ${tree.sampleType}` : `the profile has no ${tree.sampleType} samples to draw`);
  }
  return flameGraphPage(opts.title ?? `${tree.sampleType} ${opts.diff ? "diff " : ""}flame graph`, tree);
}
