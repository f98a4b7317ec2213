import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { DiagnosticsServiceDefinition } from "../../proto/index.js";
import { isGopsError, Status } from "../../common/errors.js";
import { ANONYMOUS } from "./authn-middleware.js";
import { authorize } from "./authz-middleware.js";
import { MAX_HOST_PATTERN_LENGTH, METHOD_SCOPES, globMatch, hostMatches, isPublicMethod, ruleFor } from "./policy.js";

const path = (name: string) => `/gops.v1.DiagnosticsService/${name}`;
const denied = (re: RegExp) => (e: unknown) => isGopsError(e) && e.code === Status.PERMISSION_DENIED && re.test(e.message);

describe("policy", () => {
  it("has a scope rule for every Diagnostics RPC, by its wire path", () => {
    for (const [key, m] of Object.entries(DiagnosticsServiceDefinition.methods)) {
      assert.deepEqual(ruleFor(path(m.name)), { kind: "scope", scope: METHOD_SCOPES[key as keyof typeof METHOD_SCOPES] });
    }
    assert.deepEqual(ruleFor(path("ForceGC")), { kind: "scope", scope: "gops:write" });
    assert.deepEqual(ruleFor(path("StreamBinary")), { kind: "scope", scope: "gops:binary" });
  });

  it("health is public, reflection needs authentication, anything else is denied", () => {
    assert.ok(isPublicMethod("/grpc.health.v1.Health/Check"));
    assert.ok(isPublicMethod("/grpc.health.v1.Health/Watch"));
    assert.deepEqual(ruleFor("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"), { kind: "authenticated" });
    assert.deepEqual(ruleFor("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"), { kind: "authenticated" });
    for (const p of [path("Nope"), "/gops.v1.Other/ListProcesses", "/grpc.health.v1.Health", "garbage"]) {
      assert.equal(ruleFor(p), undefined, p);
      assert.throws(() => authorize(ANONYMOUS, p, "h"), denied(/^no access rule for /));
    }
  });

  it("matches hosts by name or * and ? globs, case-insensitively, with other characters literal", () => {
    assert.ok(hostMatches(["web-3"], "web-3"));
    assert.ok(hostMatches(["db-1", "web-*"], "web-12"));
    assert.ok(hostMatches(["web-?"], "WEB-3"));
    assert.ok(hostMatches(["*"], "anything"));
    assert.ok(!hostMatches(["web-?"], "web-12"));
    assert.ok(!hostMatches(["web"], "web-1"));
    assert.ok(!hostMatches(["web.1"], "webx1"));
    assert.ok(!hostMatches(["(a|web-1)"], "web-1"));
    assert.ok(!hostMatches([], "web-1"));
  });

  it("matches globs without backtracking: the work is bounded by (pattern + 1) x (host + 1) steps", () => {
    const cases: [string, string, boolean][] = [
      ["*", "", true], ["", "", true], ["", "a", false], ["a*", "a", true], ["*a", "ba", true], ["*a", "ab", false],
      ["a*b*c", "axxbyyc", true], ["a*b*c", "axxbyy", false], ["?*?", "ab", true], ["?*?", "a", false],
      ["**web-*-?", "WEB-eu-1", true], ["web-*", "web-", true], ["*x", "yyyyx", true], ["*x*x", "xyx", true],
    ];
    for (const [p, t, want] of cases) assert.equal(globMatch(p, t).matched, want, `${p} ~ ${t}`);
    // The attack: a signed ["*" x 88 + "x"] stalled gopsd for 9.9 s with the regular-expression matcher.
    const evil = `${"*".repeat(88)}x`;
    for (const host of ["a".repeat(253), `${"a".repeat(252)}x`, "a".repeat(60)]) {
      const r = globMatch(evil, host);
      assert.equal(r.matched, host.endsWith("x"));
      assert.ok(r.steps <= (evil.length + 1) * (host.length + 1), `${r.steps} steps`);
    }
    const worst = `${"*a".repeat(126)}b`;
    const r = globMatch(worst, "a".repeat(253));
    assert.equal(r.matched, false);
    assert.ok(r.steps <= (worst.length + 1) * 254, `${r.steps} steps`);
    assert.ok(hostMatches([evil], `${"a".repeat(200)}x`));
    assert.ok(!hostMatches([`${"*".repeat(MAX_HOST_PATTERN_LENGTH)}x`], "x"), "over-long patterns never match");
  });

  it("authorizes by scope then host; reflection needs no scope but honours hosts", () => {
    const p = { subject: "a", tokenId: undefined, scopes: new Set(["gops:read"]), hosts: ["web-*"] };
    authorize(p, path("ListProcesses"), "web-1");
    assert.throws(() => authorize(p, path("ForceGC"), "web-1"), denied(/^token lacks scope gops:write$/));
    assert.throws(() => authorize(p, path("ListProcesses"), "db-1"), denied(/^token is not valid for host db-1$/));
    const reflection = "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo";
    authorize({ ...p, scopes: new Set() }, reflection, "web-2");
    assert.throws(() => authorize(p, reflection, "db-1"), denied(/not valid for host/));
    authorize(ANONYMOUS, "/grpc.health.v1.Health/Check", "db-1");
  });
});
