import assert from "node:assert/strict";
import { test } from "node:test";
import { Container, ContainerRuntime, PodQosClass } from "../proto/index.js";
import { UsageError } from "./errors.js";
import { containerLabel, containerLines, matchesContainer, matchesPod, nsPidLabel, parseSelection, podLabel, selectProcesses, wideCells } from "./containers.js";
import type { ParsedArgv } from "./parse-argv.js";

const ID = "3f4e5d6c7b8a".padEnd(64, "0");
const docker = Container.fromPartial({ runtime: ContainerRuntime.CONTAINER_RUNTIME_DOCKER, id: ID, name: "web-frontend", cgroup: `/docker/${ID}`, verified: true });
const anonymous = Container.fromPartial({ runtime: ContainerRuntime.CONTAINER_RUNTIME_CONTAINERD, id: "ab".repeat(32), verified: true });
const pod = Container.fromPartial({
  runtime: ContainerRuntime.CONTAINER_RUNTIME_CRI,
  id: "cd".repeat(32),
  podUid: "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9",
  podName: "checkout-7d9f8b6c5-x2x4q",
  podNamespace: "shop",
  podQosClass: PodQosClass.POD_QOS_CLASS_BURSTABLE,
  verified: true,
});
const unnamedPod = Container.fromPartial({ id: "ef".repeat(32), podUid: "11111111-2222-4333-8444-555555555555", verified: true });

function argv(values: Record<string, string>): ParsedArgv {
  return {
    options: { host: undefined, json: false, timeoutMs: undefined, help: false, version: false },
    positionals: [],
    given: new Set(Object.keys(values)),
    values: new Map(Object.entries(values).map(([k, v]) => [k, [v]])),
  };
}

test("CONTAINER: the name, else the id's first 12 characters; POD: ns/name, else the UID; empty outside", () => {
  assert.equal(containerLabel(docker), "web-frontend");
  assert.equal(containerLabel(anonymous), "abababababab");
  assert.equal(containerLabel(undefined), "");
  assert.equal(podLabel(pod), "shop/checkout-7d9f8b6c5-x2x4q");
  assert.equal(podLabel({ ...pod, podNamespace: "" }), "checkout-7d9f8b6c5-x2x4q");
  assert.equal(podLabel(unnamedPod), "11111111-2222-4333-8444-555555555555");
  assert.equal(podLabel(docker), "");
  assert.equal(nsPidLabel({ pid: 4321, nsPid: 1 }), "1");
  assert.equal(nsPidLabel({ pid: 4321, nsPid: undefined }), "");
  assert.equal(nsPidLabel({ pid: 4321, nsPid: 4321 }), "");
});

test("--container: the name exactly, the full id, or an id prefix of at least 4 hex digits (any case)", () => {
  assert.ok(matchesContainer(docker, "web-frontend"));
  assert.ok(!matchesContainer(docker, "web"), "a name is not a prefix match");
  assert.ok(matchesContainer(docker, ID));
  assert.ok(matchesContainer(docker, "3f4e"));
  assert.ok(matchesContainer(docker, "3F4E5D"));
  assert.ok(!matchesContainer(docker, "3f4"), "3 digits match too much");
  assert.ok(!matchesContainer(docker, "4e5d"), "a prefix, not a substring");
  assert.ok(!matchesContainer(undefined, "3f4e"));
  // nspawn/LXC: the id is the machine name.
  const nspawn = Container.fromPartial({ runtime: ContainerRuntime.CONTAINER_RUNTIME_SYSTEMD_NSPAWN, id: "build-box", name: "build-box" });
  assert.ok(matchesContainer(nspawn, "build-box"));
  assert.ok(!matchesContainer(Container.fromPartial({ id: "cafe-box" }), "cafe"), "no prefix match on a name-like id");
});

test("--pod: NAME in any namespace, NS/NAME, or the UID", () => {
  assert.ok(matchesPod(pod, { name: "checkout-7d9f8b6c5-x2x4q" }));
  assert.ok(matchesPod(pod, { namespace: "shop", name: "checkout-7d9f8b6c5-x2x4q" }));
  assert.ok(!matchesPod(pod, { namespace: "default", name: "checkout-7d9f8b6c5-x2x4q" }));
  assert.ok(matchesPod(pod, { name: "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9" }));
  assert.ok(!matchesPod(pod, { namespace: "shop", name: "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9" }), "a UID has no namespace");
  assert.ok(!matchesPod(unnamedPod, { name: "" }));
  assert.ok(!matchesPod(docker, { name: "web-frontend" }), "a container outside pods is in none");
});

test("parseSelection and selectProcesses: both flags must hold; bad values are usage errors", () => {
  assert.equal(parseSelection(argv({})), undefined);
  assert.deepEqual(parseSelection(argv({ pod: "shop/checkout" })), { pod: { namespace: "shop", name: "checkout" } });
  assert.deepEqual(parseSelection(argv({ container: "web", pod: "checkout" })), { container: "web", pod: { name: "checkout" } });
  for (const bad of ["/x", "x/", "a/b/c", ""]) assert.throws(() => parseSelection(argv({ pod: bad })), UsageError, bad);
  assert.throws(() => parseSelection(argv({ container: " " })), UsageError);
  const processes = [{ pid: 1, container: docker }, { pid: 2, container: pod }, { pid: 3, container: undefined }];
  assert.deepEqual(selectProcesses(processes, undefined).map((p) => p.pid), [1, 2, 3]);
  assert.deepEqual(selectProcesses(processes, { container: "3f4e" }).map((p) => p.pid), [1]);
  assert.deepEqual(selectProcesses(processes, { pod: { namespace: "shop", name: "checkout-7d9f8b6c5-x2x4q" } }).map((p) => p.pid), [2]);
  assert.deepEqual(selectProcesses(processes, { container: "3f4e", pod: { name: "checkout-7d9f8b6c5-x2x4q" } }).map((p) => p.pid), []);
});

test("wide columns: CONTAINER always; NSPID and POD only when some row has one", () => {
  const host = { pid: 10, nsPid: undefined, container: undefined };
  const narrow = wideCells([host, { pid: 11, nsPid: undefined, container: docker }]);
  assert.deepEqual(narrow.header, ["CONTAINER"]);
  assert.deepEqual(narrow.cells(host), [""]);
  const all = wideCells([host, { pid: 12, nsPid: 1, container: pod }]);
  assert.deepEqual(all.header, ["NSPID", "CONTAINER", "POD"]);
  assert.deepEqual(all.cells({ pid: 12, nsPid: 1, container: pod }), ["1", "cdcdcdcdcdcd", "shop/checkout-7d9f8b6c5-x2x4q"]);
  assert.deepEqual(all.cells(host), ["", "", ""]);
});

test("the process view's container lines", () => {
  assert.deepEqual(containerLines(undefined), []);
  assert.deepEqual(containerLines(docker), [
    ["container", `web-frontend (${ID})`],
    ["container runtime", "docker"],
    ["cgroup", `/docker/${ID}`],
  ]);
  assert.deepEqual(containerLines(pod), [
    ["container", "cd".repeat(32)],
    ["container runtime", "kubernetes (runtime not named by the cgroup)"],
    ["pod", "shop/checkout-7d9f8b6c5-x2x4q (uid 0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9)"],
    ["pod QoS class", "Burstable"],
  ]);
  assert.deepEqual(containerLines(unnamedPod), [["container", "ef".repeat(32)], ["pod", "11111111-2222-4333-8444-555555555555"]]);
});

test("issue 17 item 4: an unverified identity is marked, and --container/--pod match its id or UID only, never its name", () => {
  const claimed = { ...docker, verified: false };
  const claimedPod = { ...pod, verified: false };
  assert.equal(containerLabel(claimed), "web-frontend (unverified)");
  assert.equal(podLabel(claimedPod), "shop/checkout-7d9f8b6c5-x2x4q (unverified)");
  assert.deepEqual(containerLines(claimed)[0], ["container", `web-frontend (${ID}) (unverified)`]);
  assert.ok(!matchesContainer(claimed, "web-frontend"));
  assert.ok(matchesContainer(claimed, ID.slice(0, 8)));
  assert.ok(!matchesPod(claimedPod, { name: "checkout-7d9f8b6c5-x2x4q" }));
  assert.ok(!matchesPod(claimedPod, { namespace: "shop", name: "checkout-7d9f8b6c5-x2x4q" }));
  assert.ok(matchesPod(claimedPod, { name: claimedPod.podUid }));
});
