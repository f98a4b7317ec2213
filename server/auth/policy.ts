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
  watchStats: "gops:read",
  stack: "gops:stack",
  streamProfile: "gops:profile",
  streamTrace: "gops:profile",
  forceGC: "gops:write",
  setGCPercent: "gops:write",
  streamBinary: "gops:binary",
  // Captures hold goroutine dumps and profiles of every process the rules watched: a scope of their own.
  listCaptures: "gops:captures",
  getCapture: "gops:captures",
  deleteCapture: "gops:captures",
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

/** The metrics port's one resource (server/metrics): scraping it needs gops:metrics. */
export const METRICS_PATH = "GET /metrics";

const PUBLIC_SERVICES = ["grpc.health.v1.Health"];
const AUTHENTICATED_SERVICES = ["grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"];

const RULES: ReadonlyMap<string, AccessRule> = new Map(
  (Object.keys(METHOD_SCOPES) as DiagnosticsMethod[]).map((m) => [
    `/${DiagnosticsServiceDefinition.fullName}/${DiagnosticsServiceDefinition.methods[m].name}`,
    { kind: "scope", scope: METHOD_SCOPES[m] } as const,
  ]),
).set(METRICS_PATH, { kind: "scope", scope: "gops:metrics" });

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

/** Longest `hosts` pattern honoured: a DNS name is at most 253 characters. */
export const MAX_HOST_PATTERN_LENGTH = 253;
/** Most `hosts` patterns a token may carry. */
export const MAX_HOST_PATTERNS = 64;

/**
 * Whether `host` is one of `patterns`: exact names or globs where `*` is any run of characters and `?` one
 * character; everything else is literal. Host names compare case-insensitively (ASCII). Patterns longer than
 * MAX_HOST_PATTERN_LENGTH never match (the verifier refuses such tokens; this is the second line).
 */
export function hostMatches(patterns: readonly string[], host: string): boolean {
  return patterns.some((p) => p.length <= MAX_HOST_PATTERN_LENGTH && globMatch(p, host).matched);
}

/**
 * Glob match without backtracking recursion or regular expressions: two pointers plus the position of the last
 * `*` seen. Each step advances the text pointer or restarts from the last star one character further on, so the
 * work is at most (pattern.length + 1) * (text.length + 1) steps whatever the pattern (`"*" x 88 + "x"` included).
 * `steps` is returned so tests can prove the bound without measuring time.
 */
export function globMatch(pattern: string, text: string): { matched: boolean; steps: number } {
  const p = pattern.toLowerCase();
  const t = text.toLowerCase();
  let pi = 0;
  let ti = 0;
  let starP = -1;
  let starT = 0;
  let steps = 0;
  while (ti < t.length) {
    steps++;
    const c = p[pi];
    if (c === "*") {
      // Collapse runs of stars: "**" means what "*" means.
      while (p[pi] === "*") pi++;
      starP = pi;
      starT = ti;
    } else if (c !== undefined && (c === "?" || c === t[ti])) {
      pi++;
      ti++;
    } else if (starP >= 0) {
      pi = starP;
      ti = ++starT;
    } else {
      return { matched: false, steps };
    }
  }
  while (p[pi] === "*") pi++;
  return { matched: pi === p.length, steps };
}
