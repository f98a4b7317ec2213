// `gopsctl binary <pid> [-o FILE]`: the target's executable as its agent reads it (gops' binary dump), saved to a
// file, with one line naming the file, its size and its SHA-256 (to compare with a build or a release).
import { OUTPUT_FLAG, parseCaptureArgs, summarizedCapture, type CaptureKindSpec, type SavedCapture } from "../capture.js";
import { defineCommand } from "../command.js";
import { flagValue } from "../parse-argv.js";

const kind: CaptureKindSpec = {
  kind: "binary",
  what: "executable",
  defaultExtension: "",
  start: (diagnostics, pid, signal) => diagnostics.streamBinary({ pid }, { signal }),
};

export const spec = defineCommand({
  name: "binary",
  args: "<pid> [-o FILE]",
  summary: "save the process's executable into a file, with its SHA-256",
  flags: [OUTPUT_FLAG],
  details: [
    "Saves the executable as the agent read it to -o FILE or <pid>-binary-<date>-<time> and prints one line:",
    "  <file>: <size> bytes, sha256 <hex>. --json: {pid, kind, path, bytes, sha256}.",
    "Through gopsd the token needs the gops:binary scope.",
    "A progress line (bytes received) runs on stderr when it is a terminal; Ctrl-C stops the download and leaves",
    "  no file (exit 130).",
    "Across hosts (the pid applies on every host): one file per host, <host>-<pid>-binary-<date>-<time>, in the",
    "  working directory or in -o DIR (created if missing), and each host's line as its file is saved.",
  ],
  parse: (args, parsed) => parseCaptureArgs(args, flagValue(parsed, "output")),
  // An executable is tens of megabytes, over gopsd perhaps over a slow link; bound it with --timeout if wanted.
  defaultTimeoutMs: () => undefined,
  ...summarizedCapture(kind, described),
});
export const run = spec.run;

interface SavedBinary {
  pid: number;
  kind: string;
  /** The absolute path. */
  path: string;
  bytes: number;
  /** SHA-256 of the file's content, lower-case hex. */
  sha256: string;
}

/** The one-line summary and the JSON of a saved executable (only these are kept, not its bytes). */
function described(saved: SavedCapture): { line: string; json: SavedBinary } {
  // node:crypto when first needed (it costs every gopsctl start ~8 ms of CPU otherwise).
  const { createHash } = process.getBuiltinModule("node:crypto");
  const sha256 = createHash("sha256").update(saved.data).digest("hex");
  return {
    line: `${saved.display}: ${saved.bytes} bytes, sha256 ${sha256}`,
    json: { pid: saved.pid, kind: kind.kind, path: saved.path, bytes: saved.bytes, sha256 },
  };
}
