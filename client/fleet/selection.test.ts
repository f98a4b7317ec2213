import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseInventory } from "./inventory.js";
import { matchesSelector, nearMatches, parseSelector, selectHosts } from "./selection.js";

const inv = parseInventory(
  `hosts:
  web-1: { address: "127.0.0.1:1", labels: { env: prod, role: web } }
  web-2: { address: "127.0.0.1:2", labels: { env: prod, role: web, canary: "true" } }
  web-3: { address: "127.0.0.1:3", labels: { env: staging, role: web } }
  db-1: { address: "127.0.0.1:4", labels: { env: prod, role: db } }
`,
  { file: "f.yaml", home: "/h", username: "u", sshConfigText: "Host jumpbox\n  HostName 1.2.3.4\n" },
);
const names = (opts: Parameters<typeof selectHosts>[1]) => selectHosts(inv, opts).map((h) => h.name);

describe("selection", () => {
  it("parses selectors", () => {
    assert.deepEqual(parseSelector("env=prod, role!=db,canary,!legacy"), [
      { key: "env", op: "=", value: "prod" },
      { key: "role", op: "!=", value: "db" },
      { key: "canary", op: "exists" },
      { key: "legacy", op: "!exists" },
    ]);
    assert.throws(() => parseSelector("env=prod,,"), /empty requirement/);
    assert.throws(() => parseSelector("=x"), /not/);
  });

  it("matches labels", () => {
    assert.ok(matchesSelector({ env: "prod" }, parseSelector("env=prod,role!=db")));
    assert.ok(!matchesSelector({ env: "prod", role: "db" }, parseSelector("env=prod,role!=db")));
    assert.ok(!matchesSelector({}, parseSelector("env=prod")));
  });

  it("selects by name, names list, selector, all, and names filtered by a selector", () => {
    assert.deepEqual(names({ host: "db-1" }), ["db-1"]);
    assert.deepEqual(names({ hosts: "web-3,web-1,web-3" }), ["web-3", "web-1"]);
    assert.deepEqual(names({ selector: "env=prod,role=web" }), ["web-1", "web-2"]);
    assert.deepEqual(names({ selector: "role!=web" }), ["db-1"]);
    assert.deepEqual(names({ selector: "canary" }), ["web-2"]);
    assert.deepEqual(names({ all: true }), ["web-1", "web-2", "web-3", "db-1"]);
    assert.deepEqual(names({ hosts: ["web-1", "web-3"], selector: "env=prod" }), ["web-1"]);
    assert.deepEqual(names({ host: "jumpbox" }), ["jumpbox"]);
  });

  it("explains unknown names with near matches, and empty selections", () => {
    assert.throws(() => names({ host: "web1" }), /unknown host "web1".*did you mean web-1, web-2, web-3\?/);
    assert.throws(() => names({ host: "zzzzzzzz" }), (e: Error) => !/did you mean/.test(e.message) && /unknown host/.test(e.message));
    assert.throws(() => names({}), /no hosts selected/);
    assert.throws(() => names({ selector: "env=dev" }), /matches no host/);
    assert.throws(() => names({ all: true, host: "web-1" }), /exclude/);
    assert.deepEqual(nearMatches("jumpbx", ["jumpbox", "db-1"]), ["jumpbox"]);
  });
});
