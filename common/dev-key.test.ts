import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { devSecretPath } from "./dev-key.js";

describe("devSecretPath", () => {
  it("prefers an absolute XDG_CONFIG_HOME", () => {
    assert.equal(devSecretPath({ XDG_CONFIG_HOME: "/x/cfg", HOME: "/home/a" }), "/x/cfg/gopsctl/dev/hs256.key");
  });
  it("falls back to HOME/.config, also when XDG_CONFIG_HOME is relative or empty", () => {
    assert.equal(devSecretPath({ HOME: "/home/a" }), "/home/a/.config/gopsctl/dev/hs256.key");
    assert.equal(devSecretPath({ XDG_CONFIG_HOME: "rel", HOME: "/home/a" }), "/home/a/.config/gopsctl/dev/hs256.key");
    assert.equal(devSecretPath({ XDG_CONFIG_HOME: "", HOME: "/home/a" }), "/home/a/.config/gopsctl/dev/hs256.key");
  });
});
