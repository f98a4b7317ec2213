// The fleet inventory: a YAML file of hosts (plus `defaults` merged into each), and hosts named only in
// ~/.ssh/config. Parsing and validation are pure; loadInventory() is the one place that reads files.
//
//   defaults:
//     labels: { env: prod }
//     tls: { ca: ca.pem, cert: client.pem, key: client-key.pem }
//     tokenFile: ~/.config/gopsctl/token
//     ssh: { user: ops, forward: 127.0.0.1:4677 }
//   hosts:
//     - name: web-1
//       address: 10.0.0.11:4677          # direct gRPC (TLS when tls is set)
//       labels: { role: web }
//     - name: db-1
//       ssh: { host: 10.0.1.5, jumpHost: ops@bastion:22, identityFile: ~/.ssh/ops }
//
// `hosts` may also be a mapping from name to settings. Relative paths are relative to the fleet file; `~/` is
// the home directory. A mistake is one line naming the file, the host and the key.
import { readFile } from "node:fs/promises";
import { homedir, userInfo } from "node:os";
import path from "node:path";
import SSHConfig from "ssh-config";
import * as v from "valibot";
import { parse as parseYaml } from "yaml";
import { gopsctlConfigPath } from "../../common/config-dir.js";
import { firstLine } from "../../common/first-line.js";
import { issueKey, mapping } from "../../common/config-schema.js";
import { InventoryError } from "./inventory-error.js";

export type HostTokenSource = { kind: "literal"; value: string } | { kind: "file"; path: string } | { kind: "env"; name: string };

export interface TlsSettings {
  ca?: string;
  cert?: string;
  key?: string;
  serverName?: string;
}

export interface SshHop {
  /** Address to dial. */
  host: string;
  port: number;
  user: string;
  identityFiles: string[];
}

export interface SshSettings extends SshHop {
  knownHostsFiles: string[];
  /** Its identity files default to the host's. known_hosts files are shared with the host. */
  jump?: SshHop;
  /** gopsd as seen from the host: "host:port" or "unix:/path". */
  forward: string;
}

/** One host of the fleet file (or of ~/.ssh/config): how to reach its gopsd, its labels and credentials. */
export interface FleetHost {
  name: string;
  /** Direct gRPC address ("host:port" or "unix:/path"); absent when the host is reached over SSH. */
  address?: string;
  labels: Readonly<Record<string, string>>;
  tls?: TlsSettings;
  token?: HostTokenSource;
  ssh?: SshSettings;
  /** Where the host was declared. */
  source: "fleet" | "ssh-config";
}

/** The hosts a fleet file declares, plus lookup by name (falling back to ~/.ssh/config). */
export interface Inventory {
  /** Fleet-file hosts in file order. */
  hosts: FleetHost[];
  /** Looks a host up by name: a fleet-file host, else one declared by name in ~/.ssh/config. */
  resolve(name: string): FleetHost | undefined;
  /** Names a host can be selected by (fleet-file hosts, then ssh-config Host names without wildcards). */
  knownNames(): string[];
}

export const DEFAULT_FORWARD = "127.0.0.1:4677";

export { InventoryError } from "./inventory-error.js";

export interface InventoryContext {
  /** The fleet file's path (messages, relative paths). */
  file: string;
  /** ~/.ssh/config text, if any. */
  sshConfigText?: string;
  home?: string;
  /** Default SSH user when neither the inventory nor ssh config names one. */
  username?: string;
}

/** `$XDG_CONFIG_HOME/gopsctl/fleet.yaml`, else `$HOME/.config/gopsctl/fleet.yaml` (as for config.yaml). */
export function defaultInventoryPath(env: NodeJS.ProcessEnv = process.env, home = homedir()): string {
  return gopsctlConfigPath(env, ["fleet.yaml"], home);
}

export interface LoadInventoryOptions {
  /** The fleet file; default defaultInventoryPath(). A missing default file is an empty fleet, a missing given one an error. */
  path?: string;
  /** Default ~/.ssh/config; a missing file is fine. Pass null to ignore ssh config. */
  sshConfigPath?: string | null;
  env?: NodeJS.ProcessEnv;
}

/** Reads and checks the fleet file (default $XDG_CONFIG_HOME/gopsctl/fleet.yaml). Throws InventoryError. */
export async function loadInventory(opts: LoadInventoryOptions = {}): Promise<Inventory> {
  const home = homedir();
  const file = opts.path ?? defaultInventoryPath(opts.env ?? process.env, home);
  const text = await readOptional(file, opts.path !== undefined, "fleet file");
  const sshConfigPath = opts.sshConfigPath === undefined ? path.join(home, ".ssh", "config") : opts.sshConfigPath;
  const sshConfigText = sshConfigPath === null ? undefined : await readOptional(sshConfigPath, false, "ssh config");
  return parseInventory(text ?? "", {
    file,
    home,
    username: userInfo().username,
    ...(sshConfigText !== undefined ? { sshConfigText } : {}),
  });
}

async function readOptional(file: string, required: boolean, what: string): Promise<string | undefined> {
  try {
    return await readFile(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" && !required) return undefined;
    throw new InventoryError(`${what} ${file}: ${code === "ENOENT" ? "no such file" : (e as Error).message}`);
  }
}

// ---------------------------------------------------------------------------
// Parsing and validation (pure).

type Raw = Record<string, unknown>;

const LABEL_KEY = /^[A-Za-z0-9]([A-Za-z0-9._/-]*[A-Za-z0-9])?$/;
const NAME = /^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$/;

// The fleet file's schema (valibot): a host entry, and `defaults` (the same keys but name and address). Checks
// that span keys (one token source, cert with key, address or ssh) and the ssh-config fallbacks are in build().
const nonEmpty = (key: string) => {
  const msg = `"${key}" must be a non-empty string`;
  return v.pipe(v.string(msg), v.nonEmpty(msg));
};
const got = (what: string) => (issue: v.BaseIssue<unknown>) => `${what}, got ${JSON.stringify(issue.input)}`;
const tlsFields = {
  ca: v.optional(nonEmpty("tls.ca")),
  cert: v.optional(nonEmpty("tls.cert")),
  key: v.optional(nonEmpty("tls.key")),
  serverName: v.optional(nonEmpty("tls.serverName")),
};
const tlsSchema = mapping(tlsFields, `"tls" must be a mapping (ca, cert, key, serverName)`);
const portMsg = got(`"ssh.port" must be an integer`);
const sshFields = {
  host: v.optional(nonEmpty("ssh.host")),
  user: v.optional(nonEmpty("ssh.user")),
  port: v.optional(v.pipe(v.number(portMsg), v.integer(portMsg))),
  identityFile: v.optional(nonEmpty("ssh.identityFile")),
  jumpHost: v.optional(nonEmpty("ssh.jumpHost")),
  knownHostsFile: v.optional(nonEmpty("ssh.knownHostsFile")),
  forward: v.optional(nonEmpty("ssh.forward")),
};
const sshSchema = mapping(sshFields, `"ssh" must be a mapping`);
const labelsSchema = v.pipe(
  mapping({}, `"labels" must be a mapping of name: value`, v.unknown()),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    const out: Record<string, string> = {};
    for (const [k, val] of Object.entries(dataset.value)) {
      if (!LABEL_KEY.test(k)) {
        addIssue({ message: `label "${k}" is not a valid label name` });
        return NEVER;
      }
      if (typeof val !== "string" && typeof val !== "number" && typeof val !== "boolean") {
        addIssue({ message: `label "${k}" must be a string, got ${JSON.stringify(val)}` });
        return NEVER;
      }
      out[k] = String(val);
    }
    return out;
  }),
);
const sharedFields = {
  labels: v.nullish(labelsSchema),
  tls: v.nullish(tlsSchema),
  token: v.optional(nonEmpty("token")),
  tokenFile: v.optional(nonEmpty("tokenFile")),
  tokenEnv: v.optional(nonEmpty("tokenEnv")),
  ssh: v.nullish(sshSchema),
};
const nameMsg = got(`"name" must be a host name (letters, digits, . _ -)`);
const addressMsg = got(`"address" must be host:port or unix:/path`);
const hostFields = {
  name: v.pipe(v.string(nameMsg), v.regex(NAME, nameMsg)),
  address: v.optional(v.pipe(v.string(addressMsg), v.check(isAddress, addressMsg))),
  ...sharedFields,
};
const hostSchema = mapping(hostFields, "must be a mapping with at least `name`");
const defaultsSchema = mapping(sharedFields, "must be a mapping");
type HostEntry = v.InferOutput<typeof hostSchema>;
type Defaults = v.InferOutput<typeof defaultsSchema>;
type SshEntry = v.InferOutput<typeof sshSchema>;
type TlsEntry = v.InferOutput<typeof tlsSchema>;

/** Keys per section, for "unknown key" messages. */
const KNOWN_KEYS = {
  host: Object.keys(hostFields),
  defaults: Object.keys(sharedFields),
  tls: Object.keys(tlsFields),
  ssh: Object.keys(sshFields),
};

/** `value` checked against `schema`; the first problem fails as `<where><message>` (nested keys get "tls: "/"ssh: "). */
function check<S extends v.GenericSchema<unknown, unknown>>(schema: S, value: unknown, top: "host" | "defaults", where: string, fail: (w: string, m: string) => never): v.InferOutput<S> {
  const r = v.safeParse(schema, value, { abortEarly: true });
  if (r.success) return r.output;
  const issue = r.issues[0];
  const { key, unknownKey } = issueKey(issue);
  if (!unknownKey) return fail(where, issue.message);
  const [section, name] = key.includes(".") ? (key.split(".") as ["tls" | "ssh", string]) : [undefined, key];
  return fail(section ? `${where}${section}: ` : where, `unknown key "${name}" (expected one of ${KNOWN_KEYS[section ?? top].join(", ")})`);
}

export function parseInventory(text: string, ctx: InventoryContext): Inventory {
  const home = ctx.home ?? homedir();
  const username = ctx.username ?? userInfo().username;
  const fail = (where: string, msg: string): never => {
    throw new InventoryError(`${ctx.file}: ${where}${msg}`);
  };
  let doc: unknown;
  try {
    doc = text.trim() === "" ? {} : parseYaml(text);
  } catch (e) {
    throw new InventoryError(`${ctx.file}: not valid YAML: ${firstLine(e)}`);
  }
  if (!isObject(doc)) fail("", "the top level must be a mapping with `hosts` (and optionally `defaults`)");
  const top = doc as Raw;
  for (const key of Object.keys(top)) {
    if (key !== "hosts" && key !== "defaults") fail("", `unknown top-level key "${key}" (expected hosts, defaults)`);
  }
  const sshConfig = ctx.sshConfigText !== undefined ? SSHConfig.parse(ctx.sshConfigText) : undefined;
  const resolvePath = (p: string) => expandPath(p, path.dirname(path.resolve(ctx.file)), home);

  const d: Defaults = check(defaultsSchema, top.defaults === undefined ? {} : top.defaults, "defaults", "defaults: ", fail);

  const rawHosts: Raw[] = [];
  if (Array.isArray(top.hosts)) {
    top.hosts.forEach((h, i) => {
      if (!isObject(h)) fail(`hosts[${i}]: `, "must be a mapping with at least `name`");
      rawHosts.push(h as Raw);
    });
  } else if (isObject(top.hosts)) {
    for (const [name, h] of Object.entries(top.hosts as Raw)) {
      if (h !== null && !isObject(h)) fail(`host "${name}": `, "must be a mapping");
      if (isObject(h) && "name" in h) fail(`host "${name}": `, 'has a "name" key inside the hosts mapping (the key is the name)');
      rawHosts.push({ name, ...((h as Raw | null) ?? {}) });
    }
  } else if (top.hosts !== undefined && top.hosts !== null) {
    fail("", "`hosts` must be a list or a mapping");
  }

  const build = (raw: Raw, where: string, source: FleetHost["source"]): FleetHost => {
    const h: HostEntry = check(hostSchema, raw, "host", where, fail);
    const labels = { ...d.labels, ...h.labels };
    const tls = mergeDefined(tlsOf(d.tls, "defaults: ", fail, resolvePath), tlsOf(h.tls, where, fail, resolvePath));
    const token = tokenOf(h, where, fail, resolvePath) ?? tokenOf(d, "defaults: ", fail, resolvePath);
    const host: FleetHost = { name: h.name, labels, source };
    if (tls) host.tls = tls;
    if (token) host.token = token;
    if (h.address !== undefined) {
      if (h.ssh !== undefined) fail(where, `has both "address" and "ssh" (over ssh, gopsd's address on the host is ssh.forward)`);
      host.address = h.address;
    } else {
      // `ssh:` with no value is an empty mapping: tunnel with every setting from defaults or ~/.ssh/config.
      const sshEntry = mergeDefined(d.ssh === null ? {} : d.ssh, h.ssh === null ? {} : h.ssh);
      if (sshEntry === undefined) return fail(where, `needs "address" (direct) or "ssh" (tunnelled)`);
      host.ssh = resolveSsh(host.name, sshEntry, where);
    }
    return host;
  };

  const resolveSsh = (name: string, s: SshEntry, where: string): SshSettings => {
    const fromConfig = sshConfig ? computeSsh(sshConfig, s.host ?? name) : {};
    const hop = hopOf(name, s, fromConfig, where);
    const jumpSpec = s.jumpHost ?? configValue(fromConfig, "proxyjump");
    const forward = s.forward ?? DEFAULT_FORWARD;
    if (!isAddress(forward)) fail(where, `"ssh.forward" must be host:port or unix:/path, got ${JSON.stringify(forward)}`);
    const knownHostsFiles =
      s.knownHostsFile !== undefined
        ? [resolvePath(s.knownHostsFile)]
        : configList(fromConfig, "userknownhostsfile").flatMap((v) => v.split(/\s+/)).map(resolvePath);
    const settings: SshSettings = {
      ...hop,
      forward,
      knownHostsFiles: knownHostsFiles.length > 0 ? knownHostsFiles : [path.join(home, ".ssh", "known_hosts")],
    };
    if (jumpSpec !== undefined && jumpSpec.toLowerCase() !== "none") {
      const jump = parseJump(jumpSpec, where);
      // A jump host without identity files of its own uses the host's (as `ssh -i KEY -J jump host` does).
      settings.jump = jump.identityFiles.length > 0 ? jump : { ...jump, identityFiles: hop.identityFiles };
    }
    return settings;
  };

  const hopOf = (name: string, s: SshEntry, fromConfig: Record<string, string | string[]>, where: string): SshHop => {
    const portText = s.port ?? configValue(fromConfig, "port") ?? 22;
    const port = Number(portText);
    if (!Number.isInteger(port) || port < 1 || port > 65535) fail(where, `"ssh.port" must be 1..65535, got ${JSON.stringify(portText)}`);
    const identityFiles =
      s.identityFile !== undefined
        ? [resolvePath(s.identityFile)]
        : configList(fromConfig, "identityfile").map((p) => expandPath(p, home, home));
    return {
      host: configValue(fromConfig, "hostname") ?? s.host ?? name,
      port,
      user: s.user ?? configValue(fromConfig, "user") ?? username,
      identityFiles,
    };
  };

  const parseJump = (spec: string, where: string): SshHop => {
    if (spec.includes(",")) fail(where, `jump host "${spec}": only one jump host is supported`);
    const m = /^(?:([^@]+)@)?(\[[^\]]+\]|[^:@]+)(?::(\d+))?$/.exec(spec.trim());
    if (!m) fail(where, `jump host "${spec}" is not [user@]host[:port]`);
    const jumpName = m![2]!.replace(/^\[|\]$/g, "");
    const fromConfig = sshConfig ? computeSsh(sshConfig, jumpName) : {};
    const hop: SshEntry = {
      ...(m![1] !== undefined ? { user: m![1] } : {}),
      ...(m![3] !== undefined ? { port: Number(m![3]) } : {}),
    };
    return hopOf(jumpName, hop, fromConfig, where);
  };

  const hosts: FleetHost[] = [];
  const seen = new Set<string>();
  rawHosts.forEach((raw, i) => {
    const where = typeof raw.name === "string" ? `host "${raw.name}": ` : `hosts[${i}]: `;
    const host = build(raw, where, "fleet");
    if (seen.has(host.name)) fail(where, "is listed twice");
    seen.add(host.name);
    hosts.push(host);
  });
  const byName = new Map(hosts.map((h) => [h.name, h]));
  const sshNames = sshConfig ? explicitSshHosts(sshConfig).filter((n) => !byName.has(n)) : [];

  return {
    hosts,
    resolve(name) {
      const known = byName.get(name);
      if (known) return known;
      if (!sshNames.includes(name)) return undefined;
      return build({ name, ssh: {} }, `ssh config host "${name}": `, "ssh-config");
    },
    knownNames: () => [...hosts.map((h) => h.name), ...sshNames],
  };
}

function isObject(v: unknown): v is Raw {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function mergeDefined<T extends object>(a: T | undefined, b: T | undefined): T | undefined {
  if (!a) return b;
  if (!b) return a;
  return { ...a, ...b };
}

function tlsOf(t: TlsEntry | null | undefined, where: string, fail: (w: string, m: string) => never, resolvePath: (p: string) => string): TlsSettings | undefined {
  if (t === undefined || t === null) return undefined;
  const out: TlsSettings = {};
  for (const key of ["ca", "cert", "key"] as const) if (t[key] !== undefined) out[key] = resolvePath(t[key]);
  if (t.serverName !== undefined) out.serverName = t.serverName;
  if ((out.cert === undefined) !== (out.key === undefined)) fail(where, `"tls.cert" and "tls.key" go together`);
  return out;
}

function tokenOf(
  raw: { token?: string; tokenFile?: string; tokenEnv?: string },
  where: string,
  fail: (w: string, m: string) => never,
  resolvePath: (p: string) => string,
): HostTokenSource | undefined {
  const given = (["token", "tokenFile", "tokenEnv"] as const).filter((k) => raw[k] !== undefined);
  if (given.length === 0) return undefined;
  if (given.length > 1) fail(where, `only one of token, tokenFile, tokenEnv may be set (got ${given.join(", ")})`);
  const key = given[0]!;
  const val = raw[key]!;
  if (key === "token") return { kind: "literal", value: val };
  if (key === "tokenFile") return { kind: "file", path: resolvePath(val) };
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(val)) fail(where, `"tokenEnv" must be an environment variable name, got "${val}"`);
  return { kind: "env", name: val };
}

function isAddress(a: string): boolean {
  if (a.startsWith("unix:")) return a.length > 6 && a[5] === "/";
  const m = /^(?:\[[^\]]+\]|[^:\s]+):(\d+)$/.exec(a);
  return m !== null && Number(m[1]) >= 1 && Number(m[1]) <= 65535;
}

function expandPath(p: string, base: string, home: string): string {
  if (p === "~") return home;
  if (p.startsWith("~/")) return path.join(home, p.slice(2));
  return path.resolve(base, p);
}

function computeSsh(config: SSHConfig, host: string): Record<string, string | string[]> {
  return config.compute(host, { ignoreCase: true, matchExec: false });
}

function configValue(c: Record<string, string | string[]>, key: string): string | undefined {
  const v = c[key];
  return Array.isArray(v) ? v[0] : v;
}

function configList(c: Record<string, string | string[]>, key: string): string[] {
  const v = c[key];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** Host names declared in ssh config sections, without patterns or negations. */
function explicitSshHosts(config: SSHConfig): string[] {
  const names: string[] = [];
  for (const line of config) {
    if (line.type !== SSHConfig.DIRECTIVE || line.param.toLowerCase() !== "host") continue;
    const values = typeof line.value === "string" ? line.value.split(/\s+/) : line.value.map((v) => v.val);
    for (const v of values) if (v && !/[*?!]/.test(v) && !names.includes(v)) names.push(v);
  }
  return names;
}
