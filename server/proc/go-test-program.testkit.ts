// Test support: a real Go service for /proc tests, the `listener` fixture (integration/fixtures/listener), built
// once with the other Go fixtures by integration/harness.ts. It listens on a TCP port on 127.0.0.1, writes a
// gops-style port file when GOPS_CONFIG_DIR is set, prints the port and exits when its stdin closes (so it never
// outlives the test run).
import { spawn, type ChildProcess } from "node:child_process";
import { FIXTURES_MODULE, buildFixtures, fixturesGoVersion } from "../../integration/harness.js";

/** The main module path in the program's build info. */
export const GO_TEST_MODULE = FIXTURES_MODULE;
/** The program's package path in its build info. */
export const GO_TEST_PACKAGE = `${FIXTURES_MODULE}/listener`;

export interface BuiltGoProgram {
  binary: string;
  /** e.g. "go1.19.8": what the toolchain writes into the build info. */
  goVersion: string;
}

export async function buildGoTestProgram(): Promise<BuiltGoProgram> {
  const [built, goVersion] = await Promise.all([buildFixtures(), fixturesGoVersion()]);
  return { binary: built.listener, goVersion };
}

export interface RunningGoProgram {
  pid: number;
  port: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

export async function startGoTestProgram(binary: string, env: Record<string, string> = {}): Promise<RunningGoProgram> {
  const child = spawn(binary, [], { env: { ...process.env, ...env }, stdio: ["pipe", "pipe", "inherit"] });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.stdin?.end();
    const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
    await exited;
    clearTimeout(timer);
  };
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let out = "";
      const timer = setTimeout(() => reject(new Error("the Go test program did not print its port within 10 s")), 10_000);
      child.once("error", reject);
      child.once("exit", (code) => reject(new Error(`the Go test program exited with ${code}`)));
      child.stdout!.on("data", (d: Buffer) => {
        out += d.toString();
        const nl = out.indexOf("\n");
        if (nl >= 0) {
          clearTimeout(timer);
          resolve(Number(out.slice(0, nl)));
        }
      });
    });
    return { pid: child.pid!, port, child, stop };
  } catch (e) {
    child.kill("SIGKILL");
    throw e;
  }
}
