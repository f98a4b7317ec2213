// The setns path's own guarantees, in child processes (the one under test must be able to die): a socket made in
// a namespace belongs to it after the thread returned, and a failed return to gopsd's own namespace is fatal.
// setns needs CAP_SYS_ADMIN: root only.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";

const root = process.getuid?.() === 0;
const here = (name: string) => fileURLToPath(new URL(name, import.meta.url));

/** Runs `body` (ES module source, with createNamespaceSockets, loadFfi and fs in scope) in a child node. */
function child(body: string) {
  const source = [
    `import { createNamespaceSockets } from ${JSON.stringify(here("./netns-socket.ts"))};`,
    `import { loadFfi } from ${JSON.stringify(here("./native-ffi.ts"))};`,
    `import fs from "node:fs";`,
    body,
  ].join("\n");
  // No core file for the abort (ulimit -c 0); the source on stdin.
  return spawnSync("sh", ["-c", 'ulimit -c 0; exec "$0" --import tsx --input-type=module', process.execPath], {
    input: source,
    encoding: "utf8",
    cwd: here("../.."),
    timeout: 60_000,
  });
}

describe("sockets made in a namespace with setns", { skip: root ? false : "needs root (setns)" }, () => {
  it("a socket made in a new, empty namespace lives there: its loopback is down, while ours still works", () => {
    const r = child(`
      import net from "node:net";
      import { spawn } from "node:child_process";
      const made = createNamespaceSockets(loadFfi());
      if (!made.ok) throw new Error(made.why);
      // A holder of a new network namespace (loopback down: nothing can connect there).
      const holder = spawn("unshare", ["--net", "sleep", "30"], { stdio: "ignore" });
      await new Promise((r) => setTimeout(r, 300));
      // unshare execs sleep: the same pid, now in the new namespace.
      const ns = fs.openSync("/proc/" + holder.pid + "/ns/net", "r");
      const server = net.createServer((s) => (s.on("error", () => {}), s.end("hi"))).listen(0, "127.0.0.1");
      await new Promise((r) => server.once("listening", r));
      const port = server.address().port;
      const tryConnect = (fd) => new Promise((resolve) => {
        const s = fd === undefined ? new net.Socket() : new net.Socket({ fd, readable: true, writable: true });
        s.once("connect", () => (s.destroy(), resolve("connected")));
        s.once("error", (e) => resolve(e.code));
        s.connect({ host: "127.0.0.1", port });
      });
      console.log("inside:", await tryConnect(made.sockets.socketIn(ns, 4)));
      console.log("home:", await tryConnect(undefined));
      console.log("thread:", fs.readlinkSync("/proc/self/task/" + process.pid + "/ns/net") === fs.readlinkSync("/proc/" + process.ppid + "/ns/net"));
      holder.kill("SIGKILL");
      server.close();
    `);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /inside: ENETUNREACH|inside: ECONNREFUSED/, "127.0.0.1 in the new namespace is not ours");
    assert.match(r.stdout, /home: connected/);
    assert.match(r.stdout, /thread: true/, "the main thread is back in its own namespace");
  });

  it("a failed return to the own namespace is fatal: the process aborts before using the socket", () => {
    // The descriptor to return to is a UTS namespace: setns(fd, CLONE_NEWNET) on it fails (EINVAL).
    const r = child(`
      const made = createNamespaceSockets(loadFfi(), { ownNamespaceFd: fs.openSync("/proc/self/ns/uts", "r") });
      if (!made.ok) throw new Error(made.why);
      const target = fs.openSync("/proc/self/ns/net", "r");
      made.sockets.socketIn(target, 4);
      console.log("RETURNED: still running");
    `);
    assert.equal(r.signal, "SIGABRT", `status ${r.status} signal ${r.signal}: ${r.stderr}`);
    assert.doesNotMatch(r.stdout, /RETURNED/);
    assert.match(r.stderr, /gopsd: FATAL: cannot return to gopsd's own network namespace .*EINVAL/);
  });
});
