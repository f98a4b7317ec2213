import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { gopsctlConfigPath } from "./config-dir.js";

describe("gopsctlConfigPath", () => {
  it("prefers an absolute XDG_CONFIG_HOME", () => {
    assert.equal(gopsctlConfigPath({ XDG_CONFIG_HOME: "/x/cfg", HOME: "/home/a" }, ["fleet.yaml"], "/home/b"), "/x/cfg/gopsctl/fleet.yaml");
  });
  it("falls back to HOME/.config, then to the given home, when XDG_CONFIG_HOME is unset, relative or empty", () => {
    assert.equal(gopsctlConfigPath({ HOME: "/home/a" }, ["dev", "hs256.key"], "/home/b"), "/home/a/.config/gopsctl/dev/hs256.key");
    assert.equal(gopsctlConfigPath({ XDG_CONFIG_HOME: "rel" }, ["fleet.yaml"], "/home/b"), "/home/b/.config/gopsctl/fleet.yaml");
    assert.equal(gopsctlConfigPath({ XDG_CONFIG_HOME: "", HOME: "" }, ["fleet.yaml"], "/home/b"), "/home/b/.config/gopsctl/fleet.yaml");
  });
});
