// server/proc: the only /proc reader (ProcFs), pure parsers of its files, the process scanner behind
// ListProcesses and the per-process views behind GetProcess and GetBuildInfo.
export {
  createProcFs,
  type ProcFs,
  type FileId,
  type ExeHandle,
  type NetTable,
  type PidDir,
  type HostFile,
} from "./proc-fs.js";
export { errnoCode, isGone, isDenied } from "./errno.js";
export { parseStat, isKernelThread, hasExited, type ProcStat } from "./parse-stat.js";
export { parseStatus, type ProcStatus } from "./parse-status.js";
export { parseCmdline, parseEnviron } from "./parse-cmdline.js";
export { parsePasswd, type PasswdEntry } from "./parse-passwd.js";
export { parseMemTotalBytes, parseBootTimeSeconds, parseUptimeSeconds } from "./parse-host.js";
export {
  parseInetTable,
  parseUnixTable,
  formatIp,
  tcpStateName,
  socketInode,
  socketInodes,
  type InetSocket,
  type UnixSocket,
} from "./parse-net.js";
export { readConnections } from "./connections.js";
export { NetTables } from "./net-tables.js";
export { toProtoBuildInfo, type ReadBuildInfo } from "./go-binary.js";
export { ProcessScanner, type ProcessScannerOptions, type ScanResult } from "./process-scanner.js";
export { ContainerResolver, DEFAULT_CONTAINER_SOURCES, type ContainerSources } from "./container-info.js";
export { parseCgroupContainer } from "./parse-cgroup.js";
export { getProcessDetails, getBuildInfo, type ProcessDetailsOptions } from "./process-details.js";
