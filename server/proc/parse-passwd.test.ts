import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parsePasswd } from "./parse-passwd.js";

const PASSWD = `root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
# a comment
app:x:1000:1000:App User,,,:/home/app:/bin/sh
broken line
dup:x:1000:1000::/home/dup:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
`;

describe("parsePasswd", () => {
  it("maps uids to name and home, first entry winning", () => {
    const m = parsePasswd(PASSWD);
    assert.deepEqual(m.get(0), { name: "root", uid: 0, home: "/root" });
    assert.deepEqual(m.get(1000), { name: "app", uid: 1000, home: "/home/app" });
    assert.equal(m.get(65534)?.home, "/nonexistent");
    assert.equal(m.size, 4);
  });
});
