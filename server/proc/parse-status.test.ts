import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseStatus } from "./parse-status.js";

// Trimmed from a real /proc/PID/status (Linux 6.18) of a process in a nested pid namespace.
const STATUS = `Name:	we ird) (x
Umask:	0022
State:	S (sleeping)
Tgid:	16121
Ngid:	0
Pid:	16121
PPid:	16120
TracerPid:	0
Uid:	1000	1001	1002	1003
Gid:	0	0	0	0
FDSize:	256
Groups:	 
NStgid:	16121	7	1
NSpid:	16121	7	1
NSpgid:	16115	1	0
VmRSS:	    1640 kB
Threads:	3
SigQ:	0/7823
`;

describe("parseStatus", () => {
  it("extracts name, real uid, threads and the pid in every namespace", () => {
    assert.deepEqual(parseStatus(STATUS), {
      name: "we ird) (x",
      uid: 1000,
      fsuid: 1003,
      fsgid: 0,
      groups: [],
      threads: 3,
      nspid: [16121, 7, 1],
    });
  });

  it("takes the fs uid and gid (last of four) and the supplementary groups", () => {
    const s = parseStatus(STATUS.replace("Gid:\t0\t0\t0\t0", "Gid:\t5\t6\t7\t8").replace("Groups:\t ", "Groups:\t4 27 100 "));
    assert.deepEqual([s.fsuid, s.fsgid, s.groups], [1003, 8, [4, 27, 100]]);
  });

  it("works when NSpid is absent (old kernels) and Name is the first line", () => {
    const s = parseStatus(STATUS.replace(/^NSpid:.*\n/m, ""));
    assert.deepEqual(s.nspid, []);
    assert.equal(s.name, "we ird) (x");
  });

  it("does not confuse NSpid with NStgid or Uid with other keys", () => {
    const s = parseStatus(STATUS.replace("NStgid:\t16121\t7\t1", "NStgid:\t9\t9"));
    assert.deepEqual(s.nspid, [16121, 7, 1]);
  });

  it("fails without a Uid line", () => {
    assert.throws(() => parseStatus(STATUS.replace(/^Uid:.*\n/m, "")), /Uid/);
  });
});
