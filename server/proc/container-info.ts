// The container of a process (parse-cgroup.ts) completed with the names the host keeps on disk, without any
// daemon API, and marked `verified` when they were cross-checked (Docker: State.Pid runs in that container's
// cgroup; pods: the kubelet's pod directory): Docker's config.v2.json "Name", Podman's containers.json "names", and for Kubernetes pods the
// kubelet's pod directory (etc-hosts: the pod's host name; the projected service-account volume: the namespace),
// falling back to the container's own service-account namespace file and its HOSTNAME variable.
// Every read is bounded and non-blocking (host state files: bounded-read.ts; the container's own files: ProcFs'
// target-file reader); a missing or unreadable source leaves the name empty. Results are
// cached per pid and start time, so a warm `ps` reads only /proc/PID/stat for them.
import { readdirSync, statSync } from "node:fs";
import { posix } from "node:path";
import type { Container } from "../../proto/index.js";
import { ContainerRuntime } from "../../proto/index.js";
import { readBoundedFile } from "./bounded-read.js";
import { parseEnviron } from "./parse-cmdline.js";
import { inUserDelegation, parseCgroupContainer } from "./parse-cgroup.js";
import { parseStatus } from "./parse-status.js";
import type { ProcFs } from "./proc-fs.js";

export interface ContainerSources {
  /** Docker's data root (default /var/lib/docker). */
  dockerRoot: string;
  /** Podman's (containers/storage) graph root (default /var/lib/containers/storage). */
  podmanRoot: string;
  /** The kubelet's root directory (default /var/lib/kubelet). */
  kubeletRoot: string;
}

export const DEFAULT_CONTAINER_SOURCES: ContainerSources = Object.freeze({
  dockerRoot: "/var/lib/docker",
  podmanRoot: "/var/lib/containers/storage",
  kubeletRoot: "/var/lib/kubelet",
});

const MAX_DOCKER_CONFIG = 4 << 20;
const MAX_PODMAN_STATE = 32 << 20;
const MAX_SMALL = 64 * 1024;
const MAX_PROJECTED_VOLUMES = 64;
const SA_NAMESPACE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";
/** A DNS-1123 label or subdomain: what pod names and namespaces are. */
const DNS_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

function tryRead(read: () => Buffer): string | undefined {
  try {
    return read().toString("utf8");
  } catch {
    return undefined;
  }
}

/** The pod's host name in a kubelet-managed etc-hosts: the last entry before the HostAliases section. */
export function podHostNameFromEtcHosts(text: string): string | undefined {
  if (/^# Kubernetes-managed hosts file \(host network\)/m.test(text)) return undefined;
  let name: string | undefined;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line.startsWith("# Entries added by HostAliases")) break;
    if (line === "" || line.startsWith("#")) continue;
    const [ip, ...names] = line.split(/\s+/);
    if (!ip || names.length === 0 || ip.startsWith("127.") || ip === "::1" || ip.startsWith("fe00::") || ip.startsWith("ff0")) continue;
    // "IP  host.subdomain.ns.svc.cluster.local  host" or "IP  podname": the short name is the last one.
    name = names.at(-1);
  }
  return name !== undefined && DNS_NAME.test(name) ? name : undefined;
}

interface Cached {
  starttime: number;
  container: Container | undefined;
}

export class ContainerResolver {
  private readonly byPid = new Map<number, Cached>();
  private podman?: { key: string; names: Map<string, string> };

  constructor(
    private readonly fs: ProcFs,
    private readonly sources: ContainerSources = DEFAULT_CONTAINER_SOURCES,
    private readonly maxEntries = 8192,
  ) {}

  /** The container of pid (started at `starttime`), or undefined. Never throws. */
  of(pid: number, starttime: number): Container | undefined {
    const hit = this.byPid.get(pid);
    if (hit !== undefined && hit.starttime === starttime) return hit.container;
    let container: Container | undefined;
    try {
      container = parseCgroupContainer(this.fs.readCgroup(pid));
    } catch {
      return undefined; // gone or not readable: not cached, asked again next time
    }
    if (container) container = this.named(pid, container);
    if (this.byPid.size >= this.maxEntries) this.byPid.delete(this.byPid.keys().next().value!);
    this.byPid.set(pid, { starttime, container });
    return container;
  }

  /** Forgets the pids not in `alive` (after a full scan). */
  retain(alive: ReadonlySet<number>): void {
    for (const pid of this.byPid.keys()) if (!alive.has(pid)) this.byPid.delete(pid);
  }

  /**
   * `c` with the names the runtimes keep, and `verified` when every name shown was cross-checked against the
   * runtime's state: Docker's State.Pid (the container's init) runs in a cgroup of the same container; a pod's
   * kubelet directory exists and its etc-hosts names the pod. Names from elsewhere (Podman's containers.json,
   * the container's HOSTNAME or service-account file, an LXC/nspawn cgroup name) leave it false.
   */
  private named(pid: number, c: Container): Container {
    const out = { ...c, verified: false };
    // A user's delegated subtree (rootless Podman) is the user's claim: no runtime state is asked about its id.
    if (inUserDelegation(c.cgroup)) return out;
    let verified = c.id !== "" || c.podUid !== "";
    if (c.id !== "" && c.name === "") {
      if (c.runtime === ContainerRuntime.CONTAINER_RUNTIME_DOCKER) {
        const docker = this.dockerState(c.id);
        if (docker !== undefined && this.runsIn(docker.pid, c)) out.name = docker.name;
        else verified = false;
      } else if (c.runtime === ContainerRuntime.CONTAINER_RUNTIME_PODMAN) {
        out.name = this.podmanName(c.id) ?? "";
        verified = false;
      } else if (c.podUid === "") {
        verified = false; // containerd, CRI-O outside a pod: nothing to check the id against
      }
    } else if (c.name !== "") {
      verified = false; // LXC, nspawn: the name is the cgroup's
    }
    if (c.podUid !== "") {
      const dir = posix.join(this.sources.kubeletRoot, "pods", c.podUid);
      const fromKubelet = tryPodName(dir);
      const namespace = projectedNamespace(dir);
      out.podName = fromKubelet ?? this.hostnameEnv(pid) ?? "";
      out.podNamespace = namespace ?? this.containerNamespace(pid) ?? "";
      if (fromKubelet === undefined || namespace === undefined) verified = false;
    }
    out.verified = verified;
    return out;
  }

  /** Docker's config.v2.json: the name, and State.Pid when the container is running (else no state). */
  private dockerState(id: string): { name: string; pid: number } | undefined {
    const text = tryRead(() => readBoundedFile(posix.join(this.sources.dockerRoot, "containers", id, "config.v2.json"), MAX_DOCKER_CONFIG));
    if (text === undefined) return undefined;
    try {
      const doc = JSON.parse(text) as { Name?: unknown; State?: { Pid?: unknown; Running?: unknown } };
      const name = typeof doc.Name === "string" ? doc.Name.replace(/^\//, "") : "";
      const pid = doc.State?.Pid;
      if (name === "" || doc.State?.Running !== true || typeof pid !== "number" || !Number.isInteger(pid) || pid <= 0) return undefined;
      return { name, pid };
    } catch {
      return undefined;
    }
  }

  /** Whether process `pid` (a runtime's State.Pid) is in a cgroup of container `c` (same runtime and id). */
  private runsIn(pid: number, c: Container): boolean {
    try {
      const theirs = parseCgroupContainer(this.fs.readCgroup(pid));
      return theirs !== undefined && theirs.runtime === c.runtime && theirs.id === c.id && theirs.podUid === c.podUid;
    } catch {
      return false;
    }
  }

  /** containers.json is read again only when it changed (size or mtime). */
  private podmanName(id: string): string | undefined {
    const file = posix.join(this.sources.podmanRoot, "overlay-containers", "containers.json");
    let key: string;
    try {
      const st = statSync(file);
      key = `${st.size}:${st.mtimeMs}`;
    } catch {
      return undefined;
    }
    if (this.podman?.key !== key) {
      const names = new Map<string, string>();
      const text = tryRead(() => readBoundedFile(file, MAX_PODMAN_STATE));
      try {
        const entries = text === undefined ? [] : (JSON.parse(text) as unknown);
        if (Array.isArray(entries)) {
          for (const e of entries as { id?: unknown; names?: unknown }[]) {
            const first = Array.isArray(e?.names) ? e.names[0] : undefined;
            if (typeof e?.id === "string" && typeof first === "string") names.set(e.id, first);
          }
        }
      } catch {
        // unparsable: no names
      }
      this.podman = { key, names };
    }
    return this.podman.names.get(id);
  }

  private hostnameEnv(pid: number): string | undefined {
    try {
      const name = parseEnviron(this.fs.readEnviron(pid)).get("HOSTNAME");
      return name !== undefined && DNS_NAME.test(name) ? name : undefined;
    } catch {
      return undefined;
    }
  }

  /** The container's own service-account namespace file: target-controlled, read with its eyes (ProcFs). */
  private containerNamespace(pid: number): string | undefined {
    const text = tryRead(() => {
      const st = parseStatus(this.fs.readStatus(pid));
      return this.fs.readFileUnder(pid, "root", SA_NAMESPACE, MAX_SMALL, { uid: st.fsuid, gid: st.fsgid, groups: st.groups });
    })?.trim();
    return text !== undefined && DNS_NAME.test(text) ? text : undefined;
  }
}

function tryPodName(podDir: string): string | undefined {
  const text = tryRead(() => readBoundedFile(posix.join(podDir, "etc-hosts"), MAX_SMALL));
  return text === undefined ? undefined : podHostNameFromEtcHosts(text);
}

/** The namespace file of the pod's projected service-account volume (kube-api-access-*), on the host. */
function projectedNamespace(podDir: string): string | undefined {
  const dir = posix.join(podDir, "volumes", "kubernetes.io~projected");
  let volumes: string[];
  try {
    volumes = readdirSync(dir).slice(0, MAX_PROJECTED_VOLUMES);
  } catch {
    return undefined;
  }
  for (const v of volumes.sort()) {
    const text = tryRead(() => readBoundedFile(posix.join(dir, v, "namespace"), MAX_SMALL))?.trim();
    if (text !== undefined && DNS_NAME.test(text)) return text;
  }
  return undefined;
}
