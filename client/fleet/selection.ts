// Choosing hosts from the inventory (pure): by name (`--host a`, `--hosts a,b`), by label selector
// (`-l env=prod,role=web`, `role!=db`, `tier` (has the label), `!tier` (lacks it)), or `--all`.
// Names and a selector combine (the named hosts that match); `--all` and a selector give the matching fleet hosts.
import type { FleetHost, Inventory } from "./inventory.js";
import { InventoryError } from "./inventory-error.js";

export type LabelRequirement =
  | { key: string; op: "=" | "!="; value: string }
  | { key: string; op: "exists" | "!exists" };

export interface SelectionOptions {
  /** One host (`--host`). */
  host?: string;
  /** Several hosts (`--hosts a,b,c`, or an array). */
  hosts?: string | string[];
  /** Label selector (`-l/--selector`). */
  selector?: string;
  /** Every fleet-file host (`--all`). */
  all?: boolean;
}

const KEY = /^[A-Za-z0-9]([A-Za-z0-9._/-]*[A-Za-z0-9])?$/;

export function parseSelector(text: string): LabelRequirement[] {
  const parts = text.split(",").map((p) => p.trim());
  if (parts.length === 0 || parts.some((p) => p === "")) {
    throw new InventoryError(`selector "${text}": empty requirement (expected key=value, key!=value, key or !key joined by commas)`);
  }
  return parts.map((part): LabelRequirement => {
    const m = /^([^=!]+?)\s*(!=|==|=)\s*(.*)$/.exec(part);
    if (m) {
      const [, key, op, value] = m;
      if (!KEY.test(key!)) throw new InventoryError(`selector "${text}": "${key}" is not a label name`);
      return { key: key!, op: op === "!=" ? "!=" : "=", value: value! };
    }
    const negated = part.startsWith("!");
    const key = negated ? part.slice(1).trim() : part;
    if (!KEY.test(key)) throw new InventoryError(`selector "${text}": "${part}" is not key=value, key!=value, key or !key`);
    return { key, op: negated ? "!exists" : "exists" };
  });
}

export function matchesSelector(labels: Readonly<Record<string, string>>, requirements: readonly LabelRequirement[]): boolean {
  return requirements.every((r) => {
    const has = Object.hasOwn(labels, r.key);
    switch (r.op) {
      case "=":
        return has && labels[r.key] === r.value;
      case "!=":
        return !has || labels[r.key] !== r.value;
      case "exists":
        return has;
      case "!exists":
        return !has;
    }
  });
}

/** The hosts chosen by `opts`, in the order named (or inventory order). Throws InventoryError with a clear line. */
export function selectHosts(inventory: Inventory, opts: SelectionOptions): FleetHost[] {
  const names = [
    ...(opts.host !== undefined ? [opts.host] : []),
    ...(typeof opts.hosts === "string" ? opts.hosts.split(",") : (opts.hosts ?? [])),
  ].map((n) => n.trim());
  if (names.some((n) => n === "")) throw new InventoryError("empty host name in the host list");
  const requirements = opts.selector !== undefined ? parseSelector(opts.selector) : undefined;
  if (opts.all && names.length > 0) throw new InventoryError("--all and --host/--hosts exclude each other");
  if (!opts.all && names.length === 0 && !requirements) {
    throw new InventoryError("no hosts selected: use --host NAME, --hosts a,b, --selector key=value or --all");
  }

  let chosen: FleetHost[];
  if (names.length > 0) {
    chosen = [];
    for (const name of new Set(names)) {
      const host = inventory.resolve(name);
      if (!host) throw new InventoryError(unknownHostMessage(name, inventory.knownNames()));
      chosen.push(host);
    }
  } else {
    chosen = inventory.hosts;
  }
  if (requirements) {
    chosen = chosen.filter((h) => matchesSelector(h.labels, requirements));
    if (chosen.length === 0) throw new InventoryError(`selector "${opts.selector}" matches no host`);
  }
  if (chosen.length === 0) throw new InventoryError("the fleet has no hosts (add some to the fleet file)");
  return chosen;
}

export function unknownHostMessage(name: string, known: readonly string[]): string {
  const near = nearMatches(name, known);
  const hint = near.length > 0 ? `; did you mean ${near.join(", ")}?` : known.length === 0 ? "; the fleet has no hosts" : "";
  return `unknown host "${name}" (not in the fleet file nor ~/.ssh/config)${hint}`;
}

/** Up to 5 names close to `name`: edit distance <= 2 (or a third of its length), or sharing a prefix or substring. */
export function nearMatches(name: string, known: readonly string[]): string[] {
  const n = name.toLowerCase();
  const limit = Math.max(2, Math.floor(n.length / 3));
  return known
    .map((k) => ({ k, d: editDistance(n, k.toLowerCase()) }))
    .filter(({ k, d }) => d <= limit || k.toLowerCase().includes(n) || (n.length >= 3 && n.includes(k.toLowerCase())))
    .sort((a, b) => a.d - b.d || a.k.localeCompare(b.k))
    .slice(0, 5)
    .map(({ k }) => k);
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}
