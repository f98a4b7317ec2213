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
import { ContainerRuntime, PodQosClass, type Container } from "../../proto/index.js";

const R = ContainerRuntime;
const ID = "[0-9a-f]{64}";
const POD_UID = "[0-9a-fA-F][0-9a-fA-F_-]{15,63}";

/** The id-bearing last segment of a container cgroup, per runtime, and what it means inside a pod. */
const CONTAINER_SEGMENTS: readonly { re: RegExp; runtime: ContainerRuntime }[] = [
  { re: new RegExp(`^docker-(${ID})\\.scope$`), runtime: R.CONTAINER_RUNTIME_DOCKER },
  { re: new RegExp(`^cri-containerd-(${ID})\\.scope$`), runtime: R.CONTAINER_RUNTIME_CONTAINERD },
  { re: new RegExp(`^nerdctl-(${ID})\\.scope$`), runtime: R.CONTAINER_RUNTIME_CONTAINERD },
  { re: new RegExp(`^crio-(${ID})(?:\\.scope)?$`), runtime: R.CONTAINER_RUNTIME_CRIO },
  { re: new RegExp(`^libpod-(${ID})(?:\\.scope)?$`), runtime: R.CONTAINER_RUNTIME_PODMAN },
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
    ...more,
  };
}

/** systemd unit-name unescaping: "\x2d" → "-" (and any other \xNN). */
export function systemdUnescape(s: string): string {
  return s.replace(/\\x([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

/** A Kubernetes pod cgroup in `segs` (either driver), with the container below it if there is one. */
function kubernetes(segs: readonly string[], path: string): Container | undefined {
  const at = segs.findIndex((s) => s === "kubepods" || s === "kubepods.slice");
  if (at < 0) return undefined;
  let podUid: string | undefined;
  let qos = PodQosClass.POD_QOS_CLASS_GUARANTEED;
  let podAt = -1;
  for (let i = at + 1; i < segs.length && podUid === undefined; i++) {
    const s = segs[i]!;
    if (segs[at] === "kubepods") {
      if (QOS[s] !== undefined && i === at + 1) qos = QOS[s]!;
      const m = new RegExp(`^pod(${POD_UID})$`).exec(s);
      if (m) [podUid, podAt] = [m[1]!, i];
    } else {
      const q = /^kubepods-(burstable|besteffort)\.slice$/.exec(s);
      if (q && i === at + 1) qos = QOS[q[1]!]!;
      const m = new RegExp(`^kubepods(?:-(?:burstable|besteffort))?-pod(${POD_UID})\\.slice$`).exec(s);
      if (m) [podUid, podAt] = [m[1]!.replace(/_/g, "-"), i];
    }
  }
  if (podUid === undefined) return undefined;
  const pod = { podUid: podUid.toLowerCase(), podQosClass: qos };
  const below = segs[podAt + 1];
  if (below === undefined) return container(R.CONTAINER_RUNTIME_CRI, "", path, pod);
  if (new RegExp(`^${ID}$`).test(below)) return container(R.CONTAINER_RUNTIME_CRI, below, path, pod);
  for (const { re, runtime } of CONTAINER_SEGMENTS) {
    const m = re.exec(below);
    if (m) return container(runtime, m[1]!, path, pod);
  }
  return container(R.CONTAINER_RUNTIME_CRI, "", path, pod);
}

/** A container outside Kubernetes: the innermost segment that names one. */
function standalone(segs: readonly string[], path: string): Container | undefined {
  for (let i = segs.length - 1; i >= 0; i--) {
    const s = segs[i]!;
    const prev = segs[i - 1];
    for (const { re, runtime } of CONTAINER_SEGMENTS) {
      const m = re.exec(s);
      if (m) return container(runtime, m[1]!, path);
    }
    if (prev === "docker" && new RegExp(`^${ID}$`).test(s)) return container(R.CONTAINER_RUNTIME_DOCKER, s, path);
    if (prev === "lxc" && i === 1) return container(R.CONTAINER_RUNTIME_LXC, s, path, { name: s });
    const lxc = /^lxc\.payload\.(.+)$/.exec(s);
    if (lxc) return container(R.CONTAINER_RUNTIME_LXC, lxc[1]!, path, { name: lxc[1]! });
    const machine = /^machine-(.+)\.scope$/.exec(s);
    if (machine && prev === "machine.slice") {
      const name = systemdUnescape(machine[1]!);
      return container(R.CONTAINER_RUNTIME_SYSTEMD_NSPAWN, name, path, { name });
    }
  }
  return undefined;
}

/** The container one cgroup path names, if any. */
export function containerOfPath(path: string): Container | undefined {
  const segs = path.split("/").filter((s) => s !== "");
  return kubernetes(segs, path) ?? standalone(segs, path);
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
