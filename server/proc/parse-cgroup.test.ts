import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ContainerRuntime as R, PodQosClass as Q } from "../../proto/index.js";
import { containerOfPath, inUserDelegation, parseCgroupContainer, systemdUnescape } from "./parse-cgroup.js";

const ID = "3f4e2a1b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f";
const ID2 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const UID = "8d1f5c3e-2b4a-4c6d-9e8f-0a1b2c3d4e5f";
const UID_ = UID.replace(/-/g, "_");

const pick = (path: string) => {
  const c = containerOfPath(path);
  return c && { runtime: c.runtime, id: c.id, name: c.name, podUid: c.podUid, qos: c.podQosClass };
};
const plain = (runtime: R, id: string, name = "") => ({ runtime, id, name, podUid: "", qos: Q.POD_QOS_CLASS_UNSPECIFIED });
const pod = (runtime: R, id: string, qos: Q) => ({ runtime, id, name: "", podUid: UID, qos });

describe("container of a cgroup path", () => {
  it("Docker: cgroupfs and systemd drivers", () => {
    assert.deepEqual(pick(`/docker/${ID}`), plain(R.CONTAINER_RUNTIME_DOCKER, ID));
    assert.deepEqual(pick(`/system.slice/docker-${ID}.scope`), plain(R.CONTAINER_RUNTIME_DOCKER, ID));
    // Docker in Docker: the innermost container is the process's.
    assert.deepEqual(pick(`/docker/${ID2}/docker/${ID}`), plain(R.CONTAINER_RUNTIME_DOCKER, ID));
  });

  it("Kubernetes, cgroupfs driver: QoS classes, Guaranteed without a segment, the runtime unnamed", () => {
    assert.deepEqual(pick(`/kubepods/burstable/pod${UID}/${ID}`), pod(R.CONTAINER_RUNTIME_CRI, ID, Q.POD_QOS_CLASS_BURSTABLE));
    assert.deepEqual(pick(`/kubepods/besteffort/pod${UID}/${ID}`), pod(R.CONTAINER_RUNTIME_CRI, ID, Q.POD_QOS_CLASS_BEST_EFFORT));
    assert.deepEqual(pick(`/kubepods/pod${UID}/${ID}`), pod(R.CONTAINER_RUNTIME_CRI, ID, Q.POD_QOS_CLASS_GUARANTEED));
    assert.deepEqual(pick(`/kubepods/burstable/pod${UID}/crio-${ID}`), pod(R.CONTAINER_RUNTIME_CRIO, ID, Q.POD_QOS_CLASS_BURSTABLE));
    // A process in the pod cgroup itself: the pod is known, no container.
    assert.deepEqual(pick(`/kubepods/burstable/pod${UID}`), pod(R.CONTAINER_RUNTIME_CRI, "", Q.POD_QOS_CLASS_BURSTABLE));
    // kind / nested: a node container around the pods.
    assert.deepEqual(pick(`/docker/${ID2}/kubepods/besteffort/pod${UID}/${ID}`), pod(R.CONTAINER_RUNTIME_CRI, ID, Q.POD_QOS_CLASS_BEST_EFFORT));
  });

  it("Kubernetes, systemd driver: containerd, CRI-O and Docker scopes; pod UID with underscores back to dashes", () => {
    assert.deepEqual(
      pick(`/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${UID_}.slice/cri-containerd-${ID}.scope`),
      pod(R.CONTAINER_RUNTIME_CONTAINERD, ID, Q.POD_QOS_CLASS_BURSTABLE),
    );
    assert.deepEqual(
      pick(`/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${UID_}.slice/crio-${ID}.scope`),
      pod(R.CONTAINER_RUNTIME_CRIO, ID, Q.POD_QOS_CLASS_BEST_EFFORT),
    );
    assert.deepEqual(
      pick(`/kubepods.slice/kubepods-pod${UID_}.slice/docker-${ID}.scope`),
      pod(R.CONTAINER_RUNTIME_DOCKER, ID, Q.POD_QOS_CLASS_GUARANTEED),
    );
    // The conmon monitor of CRI-O is in the pod, not in a container.
    assert.deepEqual(
      pick(`/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${UID_}.slice/crio-conmon-${ID}.scope`),
      pod(R.CONTAINER_RUNTIME_CRI, "", Q.POD_QOS_CLASS_BURSTABLE),
    );
  });

  it("CRI-O and containerd outside Kubernetes", () => {
    assert.deepEqual(pick(`/system.slice/crio-${ID}.scope`), plain(R.CONTAINER_RUNTIME_CRIO, ID));
    assert.equal(pick(`/system.slice/crio-conmon-${ID}.scope`), undefined);
    assert.deepEqual(pick(`/system.slice/nerdctl-${ID}.scope`), plain(R.CONTAINER_RUNTIME_CONTAINERD, ID));
  });

  it("Podman: rootful systemd, cgroupfs, rootless, and the container sub-cgroup; conmon is not the container", () => {
    assert.deepEqual(pick(`/machine.slice/libpod-${ID}.scope`), plain(R.CONTAINER_RUNTIME_PODMAN, ID));
    assert.deepEqual(pick(`/machine.slice/libpod-${ID}.scope/container`), plain(R.CONTAINER_RUNTIME_PODMAN, ID));
    assert.deepEqual(pick(`/libpod_parent/libpod-${ID}`), plain(R.CONTAINER_RUNTIME_PODMAN, ID));
    assert.deepEqual(
      pick(`/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-${ID}.scope`),
      plain(R.CONTAINER_RUNTIME_PODMAN, ID),
    );
    assert.equal(pick(`/machine.slice/libpod-conmon-${ID}.scope`), undefined);
  });

  it("systemd-nspawn machines (name unescaped) and LXC containers (both layouts; not their monitors)", () => {
    assert.deepEqual(pick(`/machine.slice/machine-web\\x2d1.scope`), plain(R.CONTAINER_RUNTIME_SYSTEMD_NSPAWN, "web-1", "web-1"));
    assert.deepEqual(pick(`/machine.slice/machine-web\\x2d1.scope/payload`), plain(R.CONTAINER_RUNTIME_SYSTEMD_NSPAWN, "web-1", "web-1"));
    assert.deepEqual(pick("/lxc.payload.db1"), plain(R.CONTAINER_RUNTIME_LXC, "db1", "db1"));
    assert.deepEqual(pick("/lxc.payload.db1/init.scope"), plain(R.CONTAINER_RUNTIME_LXC, "db1", "db1"));
    assert.deepEqual(pick("/lxc/db1"), plain(R.CONTAINER_RUNTIME_LXC, "db1", "db1"));
    assert.equal(pick("/lxc.monitor.db1"), undefined);
    assert.equal(systemdUnescape("a\\x2db\\x2dc"), "a-b-c");
  });

  it("only anchored shapes (issue 17 item 4): a container-shaped name under a user's delegated subtree or any other parent is none", () => {
    const user = "/user.slice/user-65534.slice/user@65534.service";
    for (const p of [
      `${user}/docker-${ID}.scope`,
      `${user}/app.slice/docker-${ID}.scope`,
      `${user}/docker/${ID}`,
      `${user}/kubepods/pod${UID}/${ID}`,
      `${user}/kubepods.slice/kubepods-pod${UID_}.slice/cri-containerd-${ID}.scope`,
      `${user}/machine.slice/machine-prod.scope`,
      `${user}/lxc.payload.db1`,
      `/system.slice/foo.service/docker-${ID}.scope`,
      `/some/where/docker/${ID}`,
      `/system.slice/kubepods/pod${UID}/${ID}`,
      `/machine.slice/x/libpod-${ID}.scope`,
      `/kubepods/burstable/x/pod${UID}/${ID}`,
    ]) {
      assert.equal(pick(p), undefined, p);
    }
    // Rootless Podman is recognised there, as such (container-info.ts never names or verifies it).
    assert.deepEqual(pick(`${user}/user.slice/libpod-${ID}.scope`), plain(R.CONTAINER_RUNTIME_PODMAN, ID));
    assert.equal(inUserDelegation(`${user}/user.slice/libpod-${ID}.scope`), true);
    assert.equal(inUserDelegation(`/system.slice/docker-${ID}.scope`), false);
    assert.equal(inUserDelegation("/user.slice/user-1.slice/user@2.service/x"), false);
  });

  it("ordinary host cgroups are no container", () => {
    for (const p of ["/", "/init.scope", "/system.slice/sshd.service", "/user.slice/user-1000.slice/session-3.scope", `/docker`, `/system.slice/docker.service`]) {
      assert.equal(pick(p), undefined, p);
    }
    // Not 64 hex digits.
    assert.equal(pick(`/docker/${ID.slice(1)}`), undefined);
    assert.equal(pick(`/system.slice/docker-${ID.toUpperCase()}.scope`), undefined);
  });
});

describe("container of a /proc/PID/cgroup file", () => {
  it("cgroup v2: the single 0:: line", () => {
    const c = parseCgroupContainer(`0::/system.slice/docker-${ID}.scope\n`);
    assert.equal(c?.runtime, R.CONTAINER_RUNTIME_DOCKER);
    assert.equal(c?.id, ID);
    assert.equal(c?.cgroup, `/system.slice/docker-${ID}.scope`);
  });

  it("cgroup v1: the hierarchy that says the most wins, whatever its order", () => {
    const text = [
      "12:pids:/",
      `11:memory:/docker/${ID2}`,
      `10:cpu,cpuacct:/kubepods/burstable/pod${UID}/${ID}`,
      "1:name=systemd:/init.scope",
      "0::/",
      "",
    ].join("\n");
    const c = parseCgroupContainer(text);
    assert.equal(c?.id, ID);
    assert.equal(c?.podUid, UID);
    assert.equal(c?.podQosClass, Q.POD_QOS_CLASS_BURSTABLE);
  });

  it("no container, empty or malformed text: undefined", () => {
    assert.equal(parseCgroupContainer("12:pids:/\n11:memory:/user.slice\n0::/\n"), undefined);
    assert.equal(parseCgroupContainer(""), undefined);
    assert.equal(parseCgroupContainer("garbage\nmore garbage"), undefined);
  });
});
