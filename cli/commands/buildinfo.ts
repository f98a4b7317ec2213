// `gopsctl buildinfo <pid>`: the `go version -m` view of the target's executable; across hosts, a section per host.
import { formatGoVersionM } from "../../common/go-version-m.js";
import type { GetBuildInfoResponse } from "../../proto/index.js";
import { parseOnlyPid } from "../arguments.js";
import { defineCommand } from "../command.js";

export const spec = defineCommand({
  name: "buildinfo",
  args: "<pid>",
  summary: "print the Go build info of the executable (like go version -m)",
  parse: (args) => ({ pid: parseOnlyPid(args) }),
  call: (d, opts, { signal }) => d.getBuildInfo({ pid: opts.pid }, { signal }),
  render: { text: buildInfoText, json: (res) => ({ pid: res.pid, exe: res.exe, buildInfo: res.buildInfo ?? null }) },
});
export const run = spec.run;

/** What `go version -m` prints for the target's executable (the formatter gopsd's tests check against Go's). */
export function buildInfoText(res: GetBuildInfoResponse): string {
  return res.buildInfo === undefined ? `${res.exe}: \n` : formatGoVersionM(res.exe, res.buildInfo);
}
