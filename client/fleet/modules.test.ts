import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Process } from "../../proto/index.js";
import { compareGoVersions, findModule, parseModuleQuery, satisfies, type ProcessWithBuildInfo } from "./modules.js";

function proc(pid: number, modulePath: string, moduleVersion: string, deps?: { path: string; version: string; replace?: { path: string; version: string } }[]): ProcessWithBuildInfo {
  const p = { pid, modulePath, moduleVersion } as Process;
  if (!deps) return p;
  return {
    ...p,
    buildInfo: {
      goVersion: "go1.19",
      path: modulePath,
      main: { path: modulePath, version: moduleVersion, sum: "", replace: undefined },
      deps: deps.map((d) => ({ path: d.path, version: d.version, sum: "", replace: d.replace ? { ...d.replace, sum: "", replace: undefined } : undefined })),
      settings: [],
    },
  };
}

describe("Go module versions", () => {
  it("orders like Go modules", () => {
    const ordered = [
      "v0.0.0-20191109021931-daa7c04131f5",
      "v0.0.0-20200101000000-aaaaaaaaaaaa",
      "v0.1.0",
      "v1.2.3-alpha",
      "v1.2.3-alpha.1",
      "v1.2.3-alpha.beta",
      "v1.2.3-beta.2",
      "v1.2.3-beta.11",
      "v1.2.3-rc.1",
      "v1.2.3",
      "v1.2.4-0.20210101000000-abcdefabcdef",
      "v1.2.4",
      "v1.10.0",
      "v2.0.0+incompatible",
    ];
    for (let i = 0; i < ordered.length - 1; i++) {
      assert.equal(compareGoVersions(ordered[i]!, ordered[i + 1]!), -1, `${ordered[i]} < ${ordered[i + 1]}`);
      assert.equal(compareGoVersions(ordered[i + 1]!, ordered[i]!), 1);
    }
    assert.equal(compareGoVersions("v1.2", "v1.2.0"), 0);
    assert.equal(compareGoVersions("v2.0.0+incompatible", "v2.0.0"), 0);
    assert.equal(compareGoVersions("(devel)", "v1.0.0"), undefined);
    assert.equal(compareGoVersions("1.2.3", "v1.0.0"), undefined);
    assert.equal(compareGoVersions("v1.2.3-01", "v1.0.0"), undefined);
  });

  it("parses queries and bounds", () => {
    assert.deepEqual(parseModuleQuery("golang.org/x/net"), { path: "golang.org/x/net" });
    assert.deepEqual(parseModuleQuery("golang.org/x/net@<v0.17.0"), { path: "golang.org/x/net", bound: { op: "<", version: "v0.17.0" } });
    assert.deepEqual(parseModuleQuery("m@v1.2.3"), { path: "m", bound: { op: "=", version: "v1.2.3" } });
    assert.throws(() => parseModuleQuery("m@<1.2"), /not a Go module version/);
    assert.throws(() => parseModuleQuery("@v1.0.0"), /expected PATH/);
    assert.ok(satisfies("v1.2.3", { op: "<", version: "v1.10.0" }));
    assert.ok(!satisfies("(devel)", { op: "<", version: "v9.0.0" }));
    assert.ok(satisfies("(devel)", undefined));
  });
});

describe("findModule", () => {
  const processes = [
    proc(1, "example.com/app", "v1.0.0", [{ path: "golang.org/x/net", version: "v0.15.0" }]),
    proc(2, "example.com/other", "(devel)", [{ path: "golang.org/x/net", version: "v0.17.0" }]),
    proc(3, "golang.org/x/net", "v0.1.0"),
    proc(4, "example.com/replaced", "v1.0.0", [
      { path: "golang.org/x/net", version: "v0.20.0", replace: { path: "golang.org/x/net", version: "v0.10.0" } },
      { path: "github.com/a/b", version: "v1.0.0", replace: { path: "github.com/fork/b", version: "v1.5.0" } },
    ]),
    proc(5, "example.com/nobuildinfo", "v2.0.0"),
  ];

  it("finds a dependency below a version, by main module, and through replacements", () => {
    const below = findModule(processes, "golang.org/x/net@<v0.17.0");
    assert.deepEqual(
      below.map((m) => [m.process.pid, m.via, m.module.version]),
      [
        [1, "dependency", "v0.15.0"],
        [3, "main", "v0.1.0"],
        [4, "dependency", "v0.10.0"],
      ],
    );
    assert.deepEqual(findModule(processes, "golang.org/x/net").map((m) => m.process.pid), [1, 2, 3, 4]);
    assert.deepEqual(findModule(processes, "github.com/fork/b@>=v1.5.0").map((m) => [m.process.pid, m.via]), [[4, "replacement"]]);
    const replaced = findModule(processes, "github.com/a/b");
    assert.equal(replaced[0]?.replacedBy?.path, "github.com/fork/b");
    assert.deepEqual(findModule(processes, "example.com/nobuildinfo@v2.0.0").map((m) => m.process.pid), [5]);
    assert.deepEqual(findModule(processes, "example.com/other@<v1.0.0"), []);
  });
});
