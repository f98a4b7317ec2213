import assert from "node:assert/strict";
import { test } from "node:test";
import { Process } from "../proto/index.js";
import { buildProcessTree, type ProcessTreeNode } from "./process-tree.js";

const proc = (pid: number, ppid: number) => Process.fromPartial({ pid, ppid, name: `p${pid}` });

/** "pid(children...)" with "~" marking first-level nodes whose pid is not a listed process. */
const shape = (nodes: ProcessTreeNode[]): string =>
  nodes.map((n) => `${n.process === undefined ? "~" : ""}${n.pid}${n.children.length > 0 ? `(${shape(n.children)})` : ""}`).join(" ");

test("processes whose parent is not listed hang under a first-level node for that parent pid", () => {
  assert.equal(shape(buildProcessTree([proc(30, 1), proc(20, 1), proc(40, 7)])), "~1(20 30) ~7(40)");
});

test("children nest under listed parents, at any depth", () => {
  const tree = buildProcessTree([proc(12, 11), proc(10, 1), proc(11, 10), proc(13, 10)]);
  assert.equal(shape(tree), "~1(10(11(12) 13))");
  assert.equal(tree[0]!.children[0]!.process?.name, "p10");
});

test("a parent is kept whatever the numeric order of the pids (gops drops it when its ppid is larger)", () => {
  // 500 (ppid 900) is the parent of 600 (ppid 500): gops would show 500 only as a bare number.
  assert.equal(shape(buildProcessTree([proc(600, 500), proc(500, 900), proc(700, 1)])), "~1(700) ~900(500(600))");
});

test("empty list, self-parented process, duplicate pids", () => {
  assert.deepEqual(buildProcessTree([]), []);
  assert.equal(shape(buildProcessTree([proc(1, 1)])), "~1(1)");
  assert.equal(shape(buildProcessTree([proc(5, 1), proc(5, 1)])), "~1(5)");
});

test("a parent loop (pid reuse between snapshots) is cut, and no process is lost", () => {
  const tree = buildProcessTree([proc(20, 10), proc(10, 20), proc(30, 1)]);
  assert.equal(shape(tree), "~1(30) ~20(10(20))");
  const count = (nodes: ProcessTreeNode[]): number => nodes.reduce((n, x) => n + (x.process ? 1 : 0) + count(x.children), 0);
  assert.equal(count(tree), 3);
});
