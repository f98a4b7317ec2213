import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { ContainerRuntime } from "../../proto/index.js";
import { readBoundedFile } from "./bounded-read.js";
import { ContainerResolver, podHostNameFromEtcHosts } from "./container-info.js";
import { FakeProcFs } from "./fake-proc-fs.testkit.js";

const ID = "ab".repeat(32);
const UID = "11111111-2222-4333-8444-555555555555";
const tmp = mkdtempSync(path.join(tmpdir(), "gopsctl-container-info-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe("podHostNameFromEtcHosts", () => {
  const head = "# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nfe00::1\tip6-allnodes\n";
  it("the pod's entry: its host name", () => {
    assert.equal(podHostNameFromEtcHosts(`${head}10.244.0.5\tapi-5f7d9-abcde\n`), "api-5f7d9-abcde");
  });
  it("with a subdomain: the short name (last on the line)", () => {
    assert.equal(podHostNameFromEtcHosts(`${head}10.244.0.5\tdb-0.db.shop.svc.cluster.local\tdb-0\n`), "db-0");
  });
  it("HostAliases entries after the pod's own are ignored", () => {
    const text = `${head}10.244.0.5\tapi-1\n\n# Entries added by HostAliases.\n10.0.0.1\tfoo.example\n`;
    assert.equal(podHostNameFromEtcHosts(text), "api-1");
  });
  it("a host-network pod's file (the node's hosts) and junk give nothing", () => {
    assert.equal(podHostNameFromEtcHosts("# Kubernetes-managed hosts file (host network).\n127.0.0.1 localhost\n10.0.0.9 node-1\n"), undefined);
    assert.equal(podHostNameFromEtcHosts(`${head}10.244.0.5\tNot_A\x1b[31mName\n`), undefined);
    assert.equal(podHostNameFromEtcHosts(""), undefined);
  });
});

describe("bounded reads", () => {
  it("refuses FIFOs without blocking, devices, and files over the limit", () => {
    const fifo = path.join(tmp, "fifo");
    execFileSync("mkfifo", [fifo]);
    assert.throws(() => readBoundedFile(fifo, 100), /not a regular file/);
    assert.throws(() => readBoundedFile("/dev/zero", 100), /not a regular file/);
    writeFileSync(path.join(tmp, "big"), "x".repeat(101));
    assert.throws(() => readBoundedFile(path.join(tmp, "big"), 100), /larger than 100 bytes/);
    assert.equal(readBoundedFile(path.join(tmp, "big"), 101).length, 101);
  });
});

describe("ContainerResolver", () => {
  const docker = path.join(tmp, "docker");
  const kubelet = path.join(tmp, "kubelet");
  const podman = path.join(tmp, "podman");
  mkdirSync(path.join(docker, "containers", ID), { recursive: true });
  // The container's init (State.Pid) is pid 10.
  writeFileSync(path.join(docker, "containers", ID, "config.v2.json"), JSON.stringify({ Name: "/redis", State: { Running: true, Pid: 10 } }));
  mkdirSync(path.join(podman, "overlay-containers"), { recursive: true });
  writeFileSync(path.join(podman, "overlay-containers", "containers.json"), JSON.stringify([{ id: ID, names: ["pg"] }]));
  mkdirSync(path.join(kubelet, "pods", UID), { recursive: true });
  writeFileSync(path.join(kubelet, "pods", UID, "etc-hosts"), "127.0.0.1\tlocalhost\n10.1.2.3\tweb-0\n");
  const sources = { dockerRoot: docker, podmanRoot: podman, kubeletRoot: kubelet };

  it("names Docker and Podman containers from their state files; Docker's is verified by State.Pid", () => {
    const fs = new FakeProcFs()
      .add(10, { comm: "redis", cgroup: `0::/system.slice/docker-${ID}.scope\n` })
      .add(18, { comm: "redis-cli", cgroup: `0::/system.slice/docker-${ID}.scope/sub\n` })
      .add(11, { comm: "pg", cgroup: `0::/machine.slice/libpod-${ID}.scope\n` });
    const r = new ContainerResolver(fs, sources);
    assert.equal(r.of(10, 0)?.name, "redis");
    assert.equal(r.of(10, 0)?.verified, true);
    assert.equal(r.of(18, 0)?.name, "redis", "another process of the container (below its cgroup)");
    assert.equal(r.of(18, 0)?.verified, true);
    assert.equal(r.of(11, 0)?.name, "pg");
    assert.equal(r.of(11, 0)?.verified, false, "containers.json has no pid to check against");
    assert.equal(r.of(11, 0)?.runtime, ContainerRuntime.CONTAINER_RUNTIME_PODMAN);
  });

  it("issue 17 item 4: no name for a container whose State.Pid runs elsewhere, nor for a delegated subtree's claim", () => {
    // State.Pid 10 is in a cgroup that is no longer this container's (stale state, pid reused).
    const stale = new FakeProcFs()
      .add(10, { comm: "other", cgroup: "0::/system.slice/cron.service\n" })
      .add(20, { comm: "x", cgroup: `0::/docker/${ID}\n` });
    const c = new ContainerResolver(stale, sources).of(20, 0);
    assert.equal(c?.id, ID);
    assert.equal(c?.name, "");
    assert.equal(c?.verified, false);
    // A user's own systemd subtree: docker-<ID>.scope there is no container; libpod-<ID>.scope there is rootless
    // Podman's, never named from the rootful state.
    const user = new FakeProcFs()
      .add(10, { comm: "redis", cgroup: `0::/system.slice/docker-${ID}.scope\n` })
      .add(21, { comm: "evil", cgroup: `0::/user.slice/user-65534.slice/user@65534.service/docker-${ID}.scope\n` })
      .add(22, { comm: "evil", cgroup: `0::/user.slice/user-65534.slice/user@65534.service/app.slice/libpod-${ID}.scope\n` });
    const r = new ContainerResolver(user, sources);
    assert.equal(r.of(21, 0), undefined);
    const rootless = r.of(22, 0);
    assert.equal(rootless?.runtime, ContainerRuntime.CONTAINER_RUNTIME_PODMAN);
    assert.equal(rootless?.name, "");
    assert.equal(rootless?.verified, false);
  });

  it("a pod: name from the kubelet's etc-hosts; without a namespace source, HOSTNAME is not used for the namespace", () => {
    const fs = new FakeProcFs().add(12, { comm: "web", cgroup: `0::/kubepods/besteffort/pod${UID}/${ID}\n`, environ: { HOSTNAME: "web-0" } });
    const c = new ContainerResolver(fs, sources).of(12, 0);
    assert.equal(c?.podName, "web-0");
    assert.equal(c?.podNamespace, "");
    assert.equal(c?.verified, false, "no namespace from the kubelet's state");
    mkdirSync(path.join(kubelet, "pods", UID, "volumes", "kubernetes.io~projected", "kube-api-access-x"), { recursive: true });
    writeFileSync(path.join(kubelet, "pods", UID, "volumes", "kubernetes.io~projected", "kube-api-access-x", "namespace"), "shop\n");
    const full = new ContainerResolver(fs, sources).of(12, 0);
    assert.equal(full?.podNamespace, "shop");
    assert.equal(full?.verified, true, "pod name and namespace from the kubelet's pod directory");
    rmSync(path.join(kubelet, "pods", UID, "volumes"), { recursive: true });
  });

  it("a pod without a kubelet directory: the container's HOSTNAME names it", () => {
    const other = "99999999-2222-4333-8444-555555555555";
    const fs = new FakeProcFs().add(13, { comm: "job", cgroup: `0::/kubepods/pod${other}/${ID}\n`, environ: { HOSTNAME: "job-x1" } });
    assert.equal(new ContainerResolver(fs, sources).of(13, 0)?.podName, "job-x1");
    assert.equal(new ContainerResolver(fs, sources).of(13, 0)?.verified, false, "HOSTNAME is the container's claim");
  });

  it("a pod without a kubelet directory: the namespace from the container's own service-account file", () => {
    const other = "77777777-2222-4333-8444-555555555555";
    const fs = new FakeProcFs().add(16, {
      comm: "job",
      cgroup: `0::/kubepods/pod${other}/${ID}\n`,
      files: { "/var/run/secrets/kubernetes.io/serviceaccount/namespace": "batch\n" },
    });
    assert.equal(new ContainerResolver(fs, sources).of(16, 0)?.podNamespace, "batch");
    const bad = new FakeProcFs().add(17, {
      comm: "job",
      cgroup: `0::/kubepods/pod${other}/${ID}\n`,
      files: { "/var/run/secrets/kubernetes.io/serviceaccount/namespace": "Not A Namespace\x1b" },
    });
    assert.equal(new ContainerResolver(bad, sources).of(17, 0)?.podNamespace, "", "not a DNS name: not shown");
  });

  it("caches per pid and start time: a new process on the same pid is looked up again", () => {
    const fs = new FakeProcFs().add(14, { comm: "redis", cgroup: `0::/docker/${ID}\n` });
    const r = new ContainerResolver(fs, sources);
    r.of(14, 100);
    r.of(14, 100);
    assert.equal(fs.callCount("readCgroup", 14), 1);
    fs.processes.get(14)!.cgroup = "0::/user.slice\n";
    assert.equal(r.of(14, 200), undefined);
    assert.equal(fs.callCount("readCgroup", 14), 2);
    r.retain(new Set());
    r.of(14, 200);
    assert.equal(fs.callCount("readCgroup", 14), 3, "forgotten once the pid was not seen in a scan");
  });

  it("an unreadable cgroup file is no container, and not cached", () => {
    const fs = new FakeProcFs().add(15, { comm: "x", errors: { readCgroup: "EACCES" } });
    const r = new ContainerResolver(fs, sources);
    assert.equal(r.of(15, 0), undefined);
    assert.equal(r.of(15, 0), undefined);
    assert.equal(fs.callCount("readCgroup", 15), 2);
  });
});
