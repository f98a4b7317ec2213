// Test support: builds and runs a tiny real Go program (Debian's Go, offline) that listens on a TCP port
// on 127.0.0.1, writes a gops-style port file when GOPS_CONFIG_DIR is set, prints the port and exits when
// its stdin closes (so it never outlives the test run).
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
export const GO = "/usr/bin/go";
export const GO_TEST_MODULE = "example.com/gopsproctest";

const MAIN_GO = `package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
)

func main() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if dir := os.Getenv("GOPS_CONFIG_DIR"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			panic(err)
		}
		file := filepath.Join(dir, strconv.Itoa(os.Getpid()))
		if err := os.WriteFile(file, []byte(strconv.Itoa(port)), 0o644); err != nil {
			panic(err)
		}
		defer os.Remove(file)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	fmt.Println(port)
	io.Copy(io.Discard, os.Stdin)
}
`;

const goEnv = () => ({
  ...process.env,
  GOPROXY: "off",
  GOFLAGS: "-mod=mod",
  GOCACHE: fileURLToPath(new URL("../../.cache/go-build", import.meta.url)),
  GOTOOLCHAIN: "local",
});

export interface BuiltGoProgram {
  binary: string;
  /** e.g. "go1.19.8": what the toolchain writes into the build info. */
  goVersion: string;
  remove(): Promise<void>;
}

export async function buildGoTestProgram(): Promise<BuiltGoProgram> {
  const dir = await mkdtemp(join(tmpdir(), "gops-proc-test-"));
  await writeFile(join(dir, "go.mod"), `module ${GO_TEST_MODULE}\n\ngo 1.19\n`);
  await writeFile(join(dir, "main.go"), MAIN_GO);
  const binary = join(dir, "gopsproctest");
  await run(GO, ["build", "-o", binary, "."], { cwd: dir, env: goEnv(), timeout: 120_000 });
  const { stdout } = await run(GO, ["env", "GOVERSION"], { env: goEnv(), timeout: 30_000 });
  return { binary, goVersion: stdout.trim(), remove: () => rm(dir, { recursive: true, force: true }) };
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
