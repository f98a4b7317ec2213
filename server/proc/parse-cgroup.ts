// Which container a process runs in, from /proc/PID/cgroup alone (pure). Lines are "ID:controllers:/path"
// (cgroup v1, one per hierarchy) or "0::/path" (v2). The path shapes of the usual runtimes, cgroupfs driver /
// systemd driver:
//   Docker              /docker/<id>                      /system.slice/docker-<id>.scope
//   containerd (CRI)    /kubepods/<qos>/pod<uid>/<id>     /kubepods.slice/kubepods-<qos>.slice/kubepods-<qos>-pod<uid_>.slice/cri-containerd-<id>.scope
//   CRI-O               .../crio-<id>                     .../crio-<id>.scope          (crio-conmon-<id>: its monitor, not the container)
//   Podman              /libpod_parent/libpod-<id>        /machine.slice/libpod-<id>.scope, rootless .../user@UID.service/.../libpod-<id>.scope
//   systemd-nspawn                                        /machine.slice/machine-<name>.scope   (systemd escapes "-" as \x2d)
//   LXC                 /lxc/<name>, /lxc.payload.<name>  (lxc.monitor.<name>: its monitor)
// Kubernetes: no <qos> segment means the Guaranteed class; the systemd driver writes the pod UID with "_" for "-".
// Every shape is anchored: its first segment at the root (or below a Docker container: kind, Docker in Docker),
// never a container-shaped name at any depth (issue 17 item 4: a user's delegated subtree can hold any name).
import { ContainerRuntime, PodQosClass, type Container } from "../../proto/index.js";

const R = ContainerRuntime;
const ID = "[0-9a-f]{64}";
const POD_UID = "[0-9a-fA-F][0-9a-fA-F_-]{15,63}";

/** The container segment of each runtime's cgroup, and the parent it must sit directly under (see anchored()). */
const DOCKER_SCOPE = new RegExp(`^docker-(${ID})\\.scope$`);
const NERDCTL_SCOPE = new RegExp(`^nerdctl-(${ID})\\.scope$`);
const CRIO_SCOPE = new RegExp(`^crio-(${ID})(?:\\.scope)?$`);
const LIBPOD_SCOPE = new RegExp(`^libpod-(${ID})(?:\\.scope)?$`);
const BARE_ID = new RegExp(`^${ID}$`);

/** Container segments directly below a Kubernetes pod cgroup. */
const POD_CONTAINER_SEGMENTS: readonly { re: RegExp; runtime: ContainerRuntime }[] = [
  { re: DOCKER_SCOPE, runtime: R.CONTAINER_RUNTIME_DOCKER },
  { re: new RegExp(`^cri-containerd-(${ID})\\.scope$`), runtime: R.CONTAINER_RUNTIME_CONTAINERD },
  { re: CRIO_SCOPE, runtime: R.CONTAINER_RUNTIME_CRIO },
];

const QOS: Readonly<Record<string, PodQosClass>> = {
  burstable: PodQosClass.POD_QOS_CLASS_BURSTABLE,
  besteffort: PodQosClass.POD_QOS_CLASS_BEST_EFFORT,
};

function container(runtime: ContainerRuntime, id: string, cgroup: string, more: Partial<Container> = {}): Container {
  return {
    runtime,
    id,
    name: "",
    podUid: "",
    podName: "",
    podNamespace: "",
    podQosClass: PodQosClass.POD_QOS_CLASS_UNSPECIFIED,
    cgroup,
    verified: false,
    ...more,
  };
}

/** systemd unit-name unescaping: "\x2d" → "-" (and any other \xNN). */
export function systemdUnescape(s: string): string {
  return s.replace(/\\x([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

/** A Kubernetes pod cgroup at the start of `segs` (either driver), with the container below it if there is one. */
function kubernetes(segs: readonly string[], path: string): Container | undefined {
  if (segs[0] !== "kubepods" && segs[0] !== "kubepods.slice") return undefined;
  const systemd = segs[0] === "kubepods.slice";
  let qos = PodQosClass.POD_QOS_CLASS_GUARANTEED;
  let podAt = 1;
  const q = systemd ? /^kubepods-(burstable|besteffort)\.slice$/.exec(segs[1] ?? "")?.[1] : QOS[segs[1] ?? ""] ? segs[1] : undefined;
  if (q !== undefined) [qos, podAt] = [QOS[q]!, 2];
  const m = systemd
    ? new RegExp(`^kubepods(?:-(?:burstable|besteffort))?-pod(${POD_UID})\\.slice$`).exec(segs[podAt] ?? "")
    : new RegExp(`^pod(${POD_UID})$`).exec(segs[podAt] ?? "");
  if (!m) return undefined;
  const pod = { podUid: (systemd ? m[1]!.replace(/_/g, "-") : m[1]!).toLowerCase(), podQosClass: qos };
  const below = segs[podAt + 1];
  if (below === undefined) return container(R.CONTAINER_RUNTIME_CRI, "", path, pod);
  if (BARE_ID.test(below)) return container(R.CONTAINER_RUNTIME_CRI, below, path, pod);
  for (const { re, runtime } of POD_CONTAINER_SEGMENTS) {
    const c = re.exec(below);
    if (c) return container(runtime, c[1]!, path, pod);
  }
  return container(R.CONTAINER_RUNTIME_CRI, "", path, pod);
}

/**
 * A container outside Kubernetes, anchored at the start of `segs`: the runtime's container cgroup directly under the
 * parent the runtime uses (root-owned on a host: a user's delegated subtree cannot hold these paths). What is below
 * the container's own cgroup is the container's.
 */
function standalone(segs: readonly string[], path: string): Container | undefined {
  const [a = "", b = ""] = segs;
  let m: RegExpExecArray | null;
  if (a === "docker" && BARE_ID.test(b)) return container(R.CONTAINER_RUNTIME_DOCKER, b, path);
  if (a === "system.slice") {
    if ((m = DOCKER_SCOPE.exec(b))) return container(R.CONTAINER_RUNTIME_DOCKER, m[1]!, path);
    if ((m = NERDCTL_SCOPE.exec(b))) return container(R.CONTAINER_RUNTIME_CONTAINERD, m[1]!, path);
    if ((m = CRIO_SCOPE.exec(b))) return container(R.CONTAINER_RUNTIME_CRIO, m[1]!, path);
  }
  if ((a === "machine.slice" || a === "libpod_parent") && (m = LIBPOD_SCOPE.exec(b))) return container(R.CONTAINER_RUNTIME_PODMAN, m[1]!, path);
  if (a === "machine.slice" && (m = /^machine-(.+)\.scope$/.exec(b))) {
    const name = systemdUnescape(m[1]!);
    return container(R.CONTAINER_RUNTIME_SYSTEMD_NSPAWN, name, path, { name });
  }
  if (a === "lxc" && b !== "") return container(R.CONTAINER_RUNTIME_LXC, b, path, { name: b });
  if ((m = /^lxc\.payload\.(.+)$/.exec(a))) return container(R.CONTAINER_RUNTIME_LXC, m[1]!, path, { name: m[1]! });
  return undefined;
}

/**
 * Rootless Podman: libpod-<id>.scope in a user's own systemd instance (user.slice/user-UID.slice/user@UID.service/
 * ...). That subtree is delegated to the user, who can create any cgroup there: the id is the user's claim, never
 * looked up in the runtimes' state, and the container stays unverified.
 */
function rootlessPodman(segs: readonly string[], path: string): Container | undefined {
  if (!inUserDelegation(path)) return undefined;
  for (let i = segs.length - 1; i >= 3; i--) {
    const m = LIBPOD_SCOPE.exec(segs[i]!);
    if (m) return container(R.CONTAINER_RUNTIME_PODMAN, m[1]!, path);
  }
  return undefined;
}

/** Whether a cgroup path is in a user's own systemd instance (user.slice/user-UID.slice/user@UID.service/...). */
export function inUserDelegation(path: string): boolean {
  const segs = path.split("/").filter((s) => s !== "");
  const uid = /^user-(\d+)\.slice$/.exec(segs[1] ?? "")?.[1];
  return segs[0] === "user.slice" && uid !== undefined && segs[2] === `user@${uid}.service`;
}

/**
 * The container one cgroup path names, if any: only the shapes the runtimes really make, anchored at the root
 * (or below the cgroup of a Docker container that holds a node or another Docker: kind, Docker in Docker).
 * A container-shaped name at any other depth (e.g. docker-<id>.scope in a user's delegated user@UID.service
 * subtree) is no container.
 */
export function containerOfPath(path: string): Container | undefined {
  let segs = path.split("/").filter((s) => s !== "");
  let outer: Container | undefined;
  for (;;) {
    const here = kubernetes(segs, path) ?? standalone(segs, path);
    if (here === undefined) return outer ?? rootlessPodman(segs, path);
    // A Docker container whose cgroup holds more (kind's node, Docker in Docker): look below it.
    if (here.runtime === R.CONTAINER_RUNTIME_DOCKER && segs[0] === "docker" && segs.length > 2) {
      outer = here;
      segs = segs.slice(2);
      continue;
    }
    return here;
  }
}

/** How much a match says: a pod and a container id beat a pod alone, which beats a bare id. */
const weight = (c: Container) => (c.podUid ? 2 : 0) + (c.id ? 1 : 0);

/**
 * The container a process is in, from the text of its /proc/PID/cgroup (v1 and v2 lines alike); the line that
 * says the most wins (the first of equals). undefined when no line has a known container shape.
 */
export function parseCgroupContainer(text: string): Container | undefined {
  let best: Container | undefined;
  for (const line of text.split("\n")) {
    const first = line.indexOf(":");
    const second = first < 0 ? -1 : line.indexOf(":", first + 1);
    if (second < 0) continue;
    const c = containerOfPath(line.slice(second + 1));
    if (c && (best === undefined || weight(c) > weight(best))) best = c;
  }
  return best;
}
