// End to end: profiles, traces and stacks people can use without a Go toolchain (issue 5), as a user runs
// gopsctl against real Go programs: --top and --flame on a live capture and on the saved file, stack --summary,
// and Ctrl-C in the middle of a capture, in-process and through gopsd.
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runCli, startFixture, startGopsd, type Fixture, type Gopsd } from "./harness.js";

let busy: Fixture;
let gopsd: Gopsd;
let workDir: string;

before(async () => {
  [busy, gopsd] = await Promise.all([
    startFixture("agentprog", { args: ["-hot", "-alloc", "-goroutines", "100"], env: { FIXTURE_CPU_PROFILE_SECONDS: "2" } }),
    startGopsd({ args: ["--host-name", "profiles-e2e"] }),
  ]);
  workDir = mkdtempSync(join(tmpdir(), "gopsctl-profiles-e2e-"));
});

after(async () => {
  await Promise.all([gopsd?.stop(), busy?.stop()]);
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

async function ok(args: string[]): Promise<string> {
  const res = await runCli(args, { cwd: workDir });
  assert.equal(res.code, 0, `gopsctl ${args.join(" ")} exited ${res.code}: ${res.stderr}`);
  return res.stdout;
}

/** The function names of a top table's rows, in order. */
function topNames(text: string): string[] {
  const lines = text.split("\n");
  const head = lines.findIndex((l) => /^\s+flat\s+flat%\s+sum%\s+cum\s+cum%$/.test(l));
  assert.ok(head >= 0, `no top table in:\n${text}`);
  const names: string[] = [];
  for (const line of lines.slice(head + 1)) {
    const m = /^\s*\S+\s+\S+%\s+\S+%\s+\S+\s+\S+%\s+(.+)$/.exec(line);
    if (!m) break;
    names.push(m[1]!);
  }
  return names;
}

describe("top tables and flame graphs from live captures and saved files", () => {
  it("pprof-cpu PID --top --flame: main.hotLoop first in the table, and in the flame graph", async () => {
    const out = await ok(["pprof-cpu", String(busy.pid), "-o", "cpu.pprof.gz", "--top", "--flame", "cpu.html"]);
    const lines = out.split("\n");
    assert.equal(lines[0], "cpu.pprof.gz");
    assert.match(out, /^Type: cpu$/m);
    const names = topNames(out);
    assert.equal(names[0], "main.hotLoop");
    assert.ok(names.length <= 10, "--top alone shows 10 rows at most");
    assert.match(out, /^flame graph: cpu\.html \(open it in a browser\)\n$/m);
    assert.deepEqual([...readFileSync(join(workDir, "cpu.pprof.gz")).subarray(0, 2)], [0x1f, 0x8b], "the agent's gzip file");
    const html = readFileSync(join(workDir, "cpu.html"), "utf8");
    assert.match(html, /^<!DOCTYPE html>/i);
    assert.match(html, new RegExp(`<title>CPU profile of pid ${busy.pid} on \\S+ \\(cpu\\)</title>`));
    assert.match(html, /main\.hotLoop/);

    // The saved file gives the same table, offline.
    const again = await ok(["pprof", "cpu.pprof.gz", "--top"]);
    const table = out.slice(out.indexOf("\n") + 1, out.indexOf("flame graph: "));
    assert.equal(again, table);
  });

  it("pprof-heap --top --sample-index alloc_space through gopsd: main.allocSite first; --json has the rows", async () => {
    const out = await ok(["--host", gopsd.address, "pprof-heap", String(busy.pid), "-o", "heap.pprof.gz", "--top=5", "--sample-index", "alloc_space"]);
    assert.match(out, /^Type: alloc_space$/m);
    const names = topNames(out);
    assert.equal(names[0], "main.allocSite");
    assert.ok(names.length <= 5);
    const json = JSON.parse(await ok(["pprof", "heap.pprof.gz", "--top", "3", "--sample-index", "alloc_space", "--flame", "heap.html", "--json"])) as {
      path: string;
      top: { sampleType: string; rows: { name: string; flat: number }[] };
      flame: string;
    };
    assert.equal(json.path, join(workDir, "heap.pprof.gz"));
    assert.equal(json.top.sampleType, "alloc_space");
    assert.equal(json.top.rows[0]!.name, "main.allocSite");
    assert.ok(json.top.rows.length <= 3 && json.top.rows[0]!.flat > 0);
    assert.match(readFileSync(json.flame, "utf8"), /<title>heap\.pprof\.gz \(alloc_space\)<\/title>/);
  });

  it("stack --summary: the 100 blocked goroutines are one group, largest first; --json gives the groups", async () => {
    const out = await ok(["stack", String(busy.pid), "--summary"]);
    assert.match(out, /^\d+ goroutines in \d+ groups\n\n100 goroutines \| chan receive 100\n    main\.blockedWorker\n/);
    assert.match(out, /^    created by main\.startWorkloads$/m);
    const json = JSON.parse(await ok(["--host", gopsd.address, "stack", String(busy.pid), "--summary", "--json"])) as {
      pid: number;
      groups: { count: number; frames: { func: string }[] }[];
    };
    assert.equal(json.pid, busy.pid);
    assert.deepEqual([json.groups[0]!.count, json.groups[0]!.frames[0]!.func], [100, "main.blockedWorker"]);
  });
});

/** Connections accepted by the agent listening on `port` that are still open both ways (ESTABLISHED). */
function establishedToAgent(port: number): number {
  let count = 0;
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (local !== undefined && parseInt(local.split(":")[1]!, 16) === port && state === "01") count++;
    }
  }
  return count;
}

async function eventually(check: () => boolean, timeoutMs: number): Promise<boolean> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
    if (check()) return true;
  }
  return check();
}

describe("Ctrl-C mid-capture: the call is aborted, the agent's socket closed, no partial file, exit 130", () => {
  for (const mode of ["local", "gopsd"] as const) {
    for (const command of ["pprof-cpu", "trace"] as const) {
      it(`${command} (${mode === "local" ? "in-process" : "through gopsd"})`, async () => {
        // A 5 s capture of its own, so the agent is free when the test starts and busy when Ctrl-C comes.
        const fixture = await startFixture("agentprog", { env: { FIXTURE_CPU_PROFILE_SECONDS: "5", FIXTURE_TRACE_SECONDS: "5" } });
        const dir = mkdtempSync(join(tmpdir(), "gopsctl-cancel-"));
        try {
          const args = [...(mode === "gopsd" ? ["--host", gopsd.address] : []), command, String(fixture.pid)];
          let connectedAtSignal = 0;
          let signalledAt = 0;
          const res = await runCli(args, {
            cwd: dir,
            timeoutMs: 20_000,
            signal: {
              // Once the capture file is being written and the agent has the connection.
              when: () => {
                const partial = readdirSync(dir).some((f) => f.endsWith(".partial"));
                connectedAtSignal = partial ? establishedToAgent(fixture.port!) : 0;
                signalledAt = Date.now();
                return connectedAtSignal > 0;
              },
            },
          });
          const stopping = Date.now() - signalledAt;
          assert.equal(res.code, 130, `exit ${res.code}, stderr: ${res.stderr}`);
          assert.equal(res.stderr, "gopsctl: interrupted\n");
          assert.equal(res.stdout, "");
          assert.ok(connectedAtSignal > 0, "the agent was capturing when Ctrl-C came");
          assert.ok(stopping < 2500, `the CLI stopped at once (${stopping} ms after Ctrl-C), not at the end of the 5 s capture`);
          assert.deepEqual(readdirSync(dir), [], "no capture file and no partial file");
          assert.ok(await eventually(() => establishedToAgent(fixture.port!) === 0, 3000), "the agent's connection was closed");

          // The agent cannot stop: it runs the capture to its end and serves nothing else meanwhile. The next call
          // (another gopsctl run, as a user would do it) is refused at once, saying so and for how long.
          const hostArgs = mode === "gopsd" ? ["--host", gopsd.address] : [];
          const label = command === "trace" ? "a trace" : "a CPU profile";
          const next = await runCli([...hostArgs, "version", String(fixture.pid)], { cwd: dir, timeoutMs: 20_000 });
          assert.equal(next.code, 7, `exit ${next.code}, stderr: ${next.stderr}`);
          // Left: of the 5 s a trace lasts; of the 30 s a gops agent profiles the CPU (this fixture stops after 5 s,
          // which gopsctl cannot know: it counts the real agent's fixed duration).
          const left = command === "trace" ? "[1-5]" : "(?:2[0-9]|30)";
          assert.match(
            next.stderr,
            new RegExp(`^gopsctl: pid ${fixture.pid} is busy: its gops agent is finishing ${label} that was stopped early, which an agent cannot cancel \\(about ${left}s left\\); retry when it has finished\n$`),
          );
          if (command === "trace") {
            // Once the trace's time is over, the agent answers again.
            let answered: Awaited<ReturnType<typeof runCli>> | undefined;
            for (const deadline = Date.now() + 15_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 250))) {
              answered = await runCli([...hostArgs, "version", String(fixture.pid)], { cwd: dir, timeoutMs: 20_000 });
              if (answered.code === 0) break;
              assert.equal(answered.code, 7, `only busy until then: ${answered.stderr}`);
            }
            assert.equal(answered?.code, 0, answered?.stderr);
            assert.match(answered!.stdout, /^go1\./);
          }
        } finally {
          rmSync(dir, { recursive: true, force: true });
          await fixture.stop();
        }
      });
    }
  }
});
