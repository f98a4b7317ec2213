import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { HostSnapshot } from "./host-snapshot.js";
import type { ProcStat } from "./parse-stat.js";
import { elapsedSeconds, processName, usageFields } from "./process-fields.js";

const host: HostSnapshot = {
  memTotalBytes: 8 * 1024 ** 3,
  uptimeSeconds: 1000,
  bootTimeSeconds: 1_700_000_000,
  clockTicks: 100,
  pageSize: 4096,
};
const stat = (p: Partial<ProcStat>): ProcStat => ({
  pid: 10,
  comm: "x",
  state: "S",
  ppid: 1,
  flags: 0,
  utime: 0,
  stime: 0,
  numThreads: 1,
  starttime: 0,
  rssPages: 0,
  vsizeBytes: 0,
  ...p,
});

describe("processName", () => {
  it("uses comm when it cannot be truncated", () => {
    assert.equal(processName("short", ["/usr/bin/something-else"]), "short");
  });
  it("uses the basename of argv[0] when comm is 15 bytes and argv[0] extends it (as gops does)", () => {
    assert.equal(processName("my-long-servic", ["/opt/my-long-servic"]), "my-long-servic");
    assert.equal(processName("my-long-service", ["/opt/bin/my-long-service-name", "-v"]), "my-long-service-name");
    assert.equal(processName("my-long-service", ["/opt/bin/other"]), "my-long-service");
    assert.equal(processName("my-long-service", []), "my-long-service");
  });
});

describe("usageFields", () => {
  it("derives lifetime CPU, memory and start time", () => {
    // Started 100 s after boot, 900 s ago, used 450 s of CPU: 50 %.
    const s = stat({ starttime: 100 * 100, utime: 30_000, stime: 15_000, rssPages: 1024 });
    assert.equal(elapsedSeconds(s, host), 900);
    const u = usageFields(s, host);
    assert.equal(u.cpuPercent, 50);
    assert.equal(u.rssBytes, 4 * 1024 * 1024);
    assert.equal(u.memoryPercent, (4 * 1024 * 1024 * 100) / (8 * 1024 ** 3));
    assert.equal(u.startTimeUnixMs, 1_700_000_100_000);
  });
  it("can exceed 100 % for multi-threaded programs and is 0 for a process that just started", () => {
    assert.equal(usageFields(stat({ starttime: 90_000, utime: 20_000, stime: 10_000 }), host).cpuPercent, 300);
    assert.equal(usageFields(stat({ starttime: 100_000, utime: 5 }), host).cpuPercent, 0);
  });
});
