// Is an executable Go? Its build info, or the scan problem that says why not.
import { BuildInfoError, readGoBuildInfo, type GoBuildInfo, type GoModule } from "../elf/index.js";
import { ScanProblemKind, type BuildInfo, type Module } from "../../proto/index.js";
import type { ExeHandle } from "./proc-fs.js";

export type ReadBuildInfo = typeof readGoBuildInfo;

export type ExeVerdict = { go: GoBuildInfo } | { problem: ScanProblemKind; detail: string };

const PROBLEM_OF: Record<BuildInfoError["kind"], ScanProblemKind> = {
  "not-elf": ScanProblemKind.SCAN_PROBLEM_KIND_NOT_ELF,
  "no-build-info": ScanProblemKind.SCAN_PROBLEM_KIND_NO_BUILD_INFO,
  corrupt: ScanProblemKind.SCAN_PROBLEM_KIND_CORRUPT,
};

/** The verdict on an open executable. I/O errors are thrown (they say nothing about the file itself). */
export function exeVerdict(exe: ExeHandle, read: ReadBuildInfo = readGoBuildInfo): ExeVerdict {
  try {
    return { go: read(exe.readAt, exe.id.size) };
  } catch (e) {
    if (e instanceof BuildInfoError) return { problem: PROBLEM_OF[e.kind], detail: e.message };
    throw e;
  }
}

function toProtoModule(m: GoModule): Module {
  return { path: m.path, version: m.version, sum: m.sum, replace: m.replace ? toProtoModule(m.replace) : undefined };
}

export function toProtoBuildInfo(info: GoBuildInfo): BuildInfo {
  return {
    goVersion: info.goVersion,
    path: info.path,
    main: info.main ? toProtoModule(info.main) : undefined,
    deps: info.deps.map(toProtoModule),
    settings: info.settings.map((s) => ({ key: s.key, value: s.value })),
  };
}
