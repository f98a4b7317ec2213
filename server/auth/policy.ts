// The access policy: one table from Diagnostics RPC to the scope it needs (a missing RPC is a compile error), the
// rules for the other services gopsd serves, and host matching for the `hosts` claim. Pure data and functions.
import type { Scope } from "../../common/token.js";
import { DiagnosticsServiceDefinition } from "../../proto/index.js";


export type DiagnosticsMethod = keyof typeof DiagnosticsServiceDefinition.methods;

export const METHOD_SCOPES: Readonly<Record<DiagnosticsMethod, Scope>> = Object.freeze<Record<DiagnosticsMethod, Scope>>({
  listProcesses: "gops:read",
  getProcess: "gops:read",
  getBuildInfo: "gops:read",
  version: "gops:read",
  stats: "gops:read",
  memStats: "gops:read",
  stack: "gops:stack",
  streamProfile: "gops:profile",
  streamTrace: "gops:profile",
  forceGC: "gops:write",
  setGCPercent: "gops:write",
  streamBinary: "gops:binary",
});

/**
 * What a call needs:
 * - `public`: nothing, not even a token (grpc.health.v1: load balancers and probes carry no credentials);
 * - `authenticated`: a valid token with any scopes (server reflection: read-only schema, but it tells an
 *   anonymous scanner what the server is, so it is not public);
 * - `scope`: a valid token holding that scope and valid for this host.
 * A method with no rule is refused (default deny).
 */
export type AccessRule = { kind: "public" } | { kind: "authenticated" } | { kind: "scope"; scope: Scope };

const PUBLIC_SERVICES = ["grpc.health.v1.Health"];
const AUTHENTICATED_SERVICES = ["grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"];

const RULES: ReadonlyMap<string, AccessRule> = new Map(
  (Object.keys(METHOD_SCOPES) as DiagnosticsMethod[]).map((m) => [
    `/${DiagnosticsServiceDefinition.fullName}/${DiagnosticsServiceDefinition.methods[m].name}`,
    { kind: "scope", scope: METHOD_SCOPES[m] } as const,
  ]),
);

/** The rule for a gRPC method path ("/pkg.Service/Method"); undefined when none applies (refuse). */
export function ruleFor(path: string): AccessRule | undefined {
  const rule = RULES.get(path);
  if (rule) return rule;
  const service = /^\/([^/]+)\/[^/]+$/.exec(path)?.[1];
  if (service === undefined) return undefined;
  if (PUBLIC_SERVICES.includes(service)) return { kind: "public" };
  if (AUTHENTICATED_SERVICES.includes(service)) return { kind: "authenticated" };
  return undefined;
}

export const isPublicMethod = (path: string) => ruleFor(path)?.kind === "public";

/**
 * Whether `host` is one of `patterns`: exact names or globs where `*` is any run of characters and `?` one
 * character; everything else is literal. Host names compare case-insensitively.
 */
export function hostMatches(patterns: readonly string[], host: string): boolean {
  return patterns.some((p) => globToRegExp(p).test(host));
}

function globToRegExp(glob: string): RegExp {
  let re = "";
  for (const ch of glob) {
    if (ch === "*") re += ".*";
    else if (ch === "?") re += ".";
    else re += ch.replace(/[\\^$.|+()[\]{}]/g, "\\$&");
  }
  return new RegExp(`^${re}$`, "is");
}
