// Containers in the CLI (pure): how a process's container, pod and pid-namespace pid are shown (ps -o wide, the
// process view), and the selection flags --container NAME|ID and --pod [NS/]NAME, applied by the client to a
// listing (so they work the same on this machine, through one gopsd and across a fleet: each host's listing is
// filtered where it arrives).
import type { Container, Process } from "../proto/index.js";
import { UsageError } from "./errors.js";
import { qosName, runtimeName } from "./output/index.js";
import { flagValue, type FlagSpec, type ParsedArgv } from "./parse-argv.js";

/** A container id is shown cut to this many characters (as docker ps does). */
export const SHORT_ID_LENGTH = 12;
/** An id prefix given to --container must have at least this many hex digits (shorter ones match too much). */
export const MIN_ID_PREFIX = 4;

export const CONTAINER_FLAG: FlagSpec = {
  name: "container",
  value: "NAME|ID",
  help: `only processes in this container: its name, or its id (or a prefix of at least ${MIN_ID_PREFIX} hex digits)`,
};
export const POD_FLAG: FlagSpec = {
  name: "pod",
  value: "[NS/]NAME",
  help: "only processes in this Kubernetes pod: its name (in any namespace), namespace/name, or its UID",
};

export interface ContainerSelection {
  /** --container: a name, or an id or id prefix (lower case when it is hex). */
  container?: string;
  /** --pod: the pod name or UID, and the namespace when NS/NAME was given. */
  pod?: { namespace?: string; name: string };
}

/** --container and --pod from the command line (undefined when neither was given). Throws UsageError. */
export function parseSelection(parsed: ParsedArgv): ContainerSelection | undefined {
  const container = flagValue(parsed, "container");
  const pod = flagValue(parsed, "pod");
  if (container === undefined && pod === undefined) return undefined;
  const sel: ContainerSelection = {};
  if (container !== undefined) {
    if (container.trim() === "") throw new UsageError("--container wants a container name or id");
    sel.container = container;
  }
  if (pod !== undefined) {
    const slash = pod.indexOf("/");
    const namespace = slash < 0 ? undefined : pod.slice(0, slash);
    const name = slash < 0 ? pod : pod.slice(slash + 1);
    if (name === "" || namespace === "" || name.includes("/")) throw new UsageError(`invalid --pod "${pod}" (want NAME, NAMESPACE/NAME or the pod's UID)`);
    sel.pod = namespace === undefined ? { name } : { namespace, name };
  }
  return sel;
}

/**
 * Whether container `c` is the one --container names: its name (only when gopsd verified it: an unverified name
 * may be anyone's claim), its id, or an id prefix of >= 4 hex digits.
 */
export function matchesContainer(c: Container | undefined, wanted: string): boolean {
  if (c === undefined) return false;
  if (c.verified && c.name !== "" && c.name === wanted) return true;
  if (c.id === wanted) return true;
  const prefix = wanted.toLowerCase();
  return prefix.length >= MIN_ID_PREFIX && /^[0-9a-f]+$/.test(prefix) && /^[0-9a-f]+$/.test(c.id) && c.id.startsWith(prefix);
}

/** Whether container `c` is in the pod --pod names: NAME (any namespace), NS/NAME (both verified only), or the pod's UID. */
export function matchesPod(c: Container | undefined, wanted: { namespace?: string; name: string }): boolean {
  if (c === undefined || c.podUid === "") return false;
  if (wanted.namespace === undefined && c.podUid === wanted.name.toLowerCase()) return true;
  if (!c.verified || c.podName === "" || c.podName !== wanted.name) return false;
  return wanted.namespace === undefined || c.podNamespace === wanted.namespace;
}

/** The processes a selection keeps (all of them when there is none). */
export function selectProcesses<P extends Pick<Process, "container">>(processes: readonly P[], sel: ContainerSelection | undefined): P[] {
  if (sel === undefined) return [...processes];
  return processes.filter(
    (p) => (sel.container === undefined || matchesContainer(p.container, sel.container)) && (sel.pod === undefined || matchesPod(p.container, sel.pod)),
  );
}

/** How an identity gopsd could not cross-check with the runtime's state is marked (ps -o wide, the process view). */
export const UNVERIFIED_MARK = "(unverified)";

const marked = (c: Container, label: string) => (c.verified || label === "" ? label : `${label} ${UNVERIFIED_MARK}`);

/**
 * The CONTAINER cell: the runtime's name for it, else the id's first 12 characters, marked "(unverified)" when gopsd
 * could not cross-check it; "" outside containers.
 */
export function containerLabel(c: Container | undefined): string {
  if (c === undefined) return "";
  return marked(c, c.name !== "" ? c.name : c.id.slice(0, SHORT_ID_LENGTH));
}

/** The POD cell: namespace/name (or the name alone when the namespace is unknown), else the pod UID; "" outside pods. */
export function podLabel(c: Container | undefined): string {
  if (c === undefined || c.podUid === "") return "";
  if (c.podName === "") return c.podUid;
  return marked(c, c.podNamespace !== "" ? `${c.podNamespace}/${c.podName}` : c.podName);
}

/** The NSPID cell: the pid inside the process's own pid namespace, when it differs; else "". */
export function nsPidLabel(p: Pick<Process, "nsPid" | "pid">): string {
  return p.nsPid !== undefined && p.nsPid !== 0 && p.nsPid !== p.pid ? String(p.nsPid) : "";
}

const RUNTIME_LABEL: Record<string, string> = {
  DOCKER: "docker",
  CONTAINERD: "containerd",
  CRIO: "cri-o",
  PODMAN: "podman",
  SYSTEMD_NSPAWN: "systemd-nspawn",
  LXC: "lxc",
  CRI: "kubernetes (runtime not named by the cgroup)",
};

const QOS_LABEL: Record<string, string> = { GUARANTEED: "Guaranteed", BURSTABLE: "Burstable", BEST_EFFORT: "BestEffort" };

/** The process view's lines for a container (label, value), in a stable order; none outside containers. */
export function containerLines(c: Container | undefined): [string, string][] {
  if (c === undefined) return [];
  const lines: [string, string][] = [];
  lines.push(["container", marked(c, c.name !== "" && c.name !== c.id ? `${c.name} (${c.id})` : c.id)]);
  const runtime = RUNTIME_LABEL[runtimeName(c.runtime)];
  if (runtime !== undefined) lines.push(["container runtime", runtime]);
  if (c.podUid !== "") {
    const named = podLabel(c);
    lines.push(["pod", named === c.podUid ? c.podUid : `${named} (uid ${c.podUid})`]);
    const qos = QOS_LABEL[qosName(c.podQosClass)];
    if (qos !== undefined) lines.push(["pod QoS class", qos]);
  }
  if (c.cgroup !== "") lines.push(["cgroup", c.cgroup]);
  return lines;
}

/**
 * ps -o wide's extra columns for these rows (one table, across hosts too): CONTAINER always, NSPID and POD only
 * when some row has one (a host without pid namespaces or Kubernetes keeps its table narrow).
 */
export function wideCells(processes: readonly Pick<Process, "pid" | "nsPid" | "container">[]): {
  header: string[];
  cells(p: Pick<Process, "pid" | "nsPid" | "container">): string[];
} {
  const nsPid = processes.some((p) => nsPidLabel(p) !== "");
  const pod = processes.some((p) => podLabel(p.container) !== "");
  return {
    header: [...(nsPid ? ["NSPID"] : []), "CONTAINER", ...(pod ? ["POD"] : [])],
    cells: (p) => [...(nsPid ? [nsPidLabel(p)] : []), containerLabel(p.container), ...(pod ? [podLabel(p.container)] : [])],
  };
}
