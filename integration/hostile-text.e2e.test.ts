// End to end (issue 8, item 6): a hostile process, run as uid 65534, puts terminal controls (ESC sequences that
// retitle or clear the terminal, BEL, CR that rewrites the line, the 8-bit CSI, a bidi override) into its name
// (comm, from its file name), argv, exe path, config dir and its agent's version reply and stack dump. gopsctl
// prints it all escaped, in the process's own gopsctl and through a gopsd, while --json keeps the exact strings.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { portNobodyListensOn, runCli, startFixture, startGopsd, type Fixture, type Gopsd } from "./harness.js";

const NOBODY = 65534;
/** The file name the fixture runs under: 11 bytes, so the kernel's comm (15 bytes at most) is all of it. */
const NAME = "e\x1b[2J\x07\r\u202eX";
const NAME_ESCAPED = "e\\e[2J\\x07\\r\\u202eX";
/** An argument, a config dir and the agent's reply suffix, each with the same kinds of controls. */
const ARG = "arg\x1b]0;pwned\x07\r\x9b1A\u202e";
const ARG_ESCAPED = "arg\\e]0;pwned\\x07\\r\\x9b1A\\u202e";
const HOSTILE_TEXT = "\x1b]0;owned\x07\r\x1b[2K\x9b2J\u202e";
const HOSTILE_TEXT_ESCAPED = "\\e]0;owned\\x07\\r\\e[2K\\x9b2J\\u202e";
const CONFIG_DIR = "cfg\x1b[31m\x07\r\u202e";
const CONFIG_DIR_ESCAPED = "cfg\\e[31m\\x07\\r\\u202e";

/** Any byte or character a terminal may act on, except the newline (a stack dump's tab is allowed separately). */
const RAW_CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\p{Cf}\u2028\u2029]/u;

function assertNoRawControl(text: string, what: string, allowTab = false): void {
  const m = (allowTab ? text.replace(/\t/g, "") : text).match(RAW_CONTROL);
  assert.equal(m, null, `${what} holds a raw control ${JSON.stringify(m?.[0])} in ${JSON.stringify(text.slice(0, 2000))}`);
}

let hostile: Fixture;
let stale: Fixture;
let gopsd: Gopsd;
let workDir: string;

before(async () => {
  [hostile, stale] = await Promise.all([
    startFixture("agentprog", {
      uid: NOBODY,
      exeName: NAME,
      args: ["-hostile-text", HOSTILE_TEXT, ARG],
      env: { GOPS_CONFIG_DIR: CONFIG_DIR },
    }),
    // A port file naming a port its process does not listen on: the refusal quotes the file's hostile path.
    startFixture("agentprog", { uid: NOBODY, exeName: NAME, args: ["-spoof-port", String(await portNobodyListensOn()), ARG], env: { GOPS_CONFIG_DIR: CONFIG_DIR } }),
  ]);
  gopsd = await startGopsd({ args: ["--host-name", "hostile-text-e2e"] });
  workDir = mkdtempSync(join(tmpdir(), "gopsctl-hostile-text-"));
});

after(async () => {
  await gopsd?.stop();
  await Promise.all([hostile?.stop(), stale?.stop()]);
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

it("the fixture really carries the controls (the kernel's comm is the hostile file name)", () => {
  assert.ok(hostile.exe.endsWith(`/${NAME}`));
  assert.ok(hostile.configDir.endsWith(`/${CONFIG_DIR}`));
});

for (const mode of ["local", "gopsd"] as const) {
  describe(`hostile text (${mode === "local" ? "in-process" : "through gopsd --host"})`, () => {
    const cli = (...args: string[]) => runCli(mode === "local" ? args : ["--host", gopsd.address, ...args], { cwd: workDir });
    const ok = async (...args: string[]) => {
      const res = await cli(...args);
      assert.equal(res.code, 0, `gopsctl ${args.join(" ")} exited ${res.code}: ${res.stderr}`);
      assertNoRawControl(res.stderr, `stderr of gopsctl ${args.join(" ")}`);
      return res.stdout;
    };

    it("ps: the row is escaped and the columns still line up; --json keeps the exact name and path", async () => {
      const table = await ok("ps", "--table");
      assertNoRawControl(table, "ps --table");
      const lines = table.split("\n");
      const row = lines.find((l) => l.startsWith(`${hostile.pid} `));
      assert.ok(row, `no row for pid ${hostile.pid} in:\n${table}`);
      const exeEscaped = hostile.exe.replace(`/${NAME}`, `/${NAME_ESCAPED}`);
      assert.match(row, new RegExp(`^${hostile.pid}\\s+${process.pid}\\s+${escapeRegExp(NAME_ESCAPED)}\\s+\\*\\s+go1\\.19\\.\\d+\\s+${escapeRegExp(exeEscaped)}$`));
      const header = lines[0]!;
      assert.equal(row.indexOf(" go1.19") + 1, header.indexOf("VERSION"), `VERSION column misaligned:\n${header}\n${row}`);
      assert.equal(row.indexOf(NAME_ESCAPED), header.indexOf("NAME"));
      assert.equal(row.lastIndexOf(exeEscaped), header.indexOf("PATH"));

      const json = await ok("ps", "--json");
      assertNoRawControl(json, "ps --json");
      const p = (JSON.parse(json) as { processes: { pid: number; name: string; exe: string }[] }).processes.find((x) => x.pid === hostile.pid);
      assert.deepEqual({ name: p?.name, exe: p?.exe }, { name: NAME, exe: hostile.exe });
    });

    it("tree: the node is one escaped line", async () => {
      const tree = await ok("tree", "--table");
      assertNoRawControl(tree, "tree --table");
      assert.match(tree, new RegExp(`\\[\\*\\]  ${hostile.pid} \\(${escapeRegExp(NAME_ESCAPED)}\\) \\{go1\\.19`));
      const json = JSON.parse(await ok("tree", "--json")) as unknown;
      assert.ok(JSON.stringify(json).includes(JSON.stringify(NAME)), "the tree's JSON holds the exact name");
    });

    it("process view: command line and exe escaped; --json keeps argv exact", async () => {
      const text = await ok(String(hostile.pid), "--table");
      assertNoRawControl(text, "process view", true);
      assert.match(text, new RegExp(`cmd\\+args:\\t.*${escapeRegExp(NAME_ESCAPED)} -hostile-text ${escapeRegExp(HOSTILE_TEXT_ESCAPED)} ${escapeRegExp(ARG_ESCAPED)}\\n`));
      const json = JSON.parse(await ok(String(hostile.pid), "--json")) as { cmdline: string[]; process: { name: string } };
      assert.deepEqual(json.cmdline.slice(1), ["-hostile-text", HOSTILE_TEXT, ARG]);
      assert.equal(json.process.name, NAME);
    });

    it("buildinfo: the exe path is escaped; --json keeps it exact", async () => {
      const text = await ok("buildinfo", String(hostile.pid), "--table");
      assertNoRawControl(text, "buildinfo", true);
      assert.ok(text.startsWith(`${hostile.exe.replace(`/${NAME}`, `/${NAME_ESCAPED}`)}: go1.19`), text.split("\n")[0]);
      const json = JSON.parse(await ok("buildinfo", String(hostile.pid), "--json")) as { exe: string };
      assert.equal(json.exe, hostile.exe);
    });

    it("version and stack: the agent's reply is escaped (the dump keeps its lines); --json keeps it exact", async () => {
      const version = await ok("version", String(hostile.pid), "--table");
      assert.match(version, new RegExp(`^go1\\.19\\.\\d+${escapeRegExp(HOSTILE_TEXT_ESCAPED)}\\n$`));
      const json = JSON.parse(await ok("version", String(hostile.pid), "--json")) as { goVersion: string };
      assert.match(json.goVersion, /^go1\.19\.\d+/);
      assert.ok(json.goVersion.endsWith(HOSTILE_TEXT), JSON.stringify(json.goVersion));

      for (const args of [["stack", String(hostile.pid)], ["stack", String(hostile.pid), "--table"]]) {
        const dump = await ok(...args);
        assertNoRawControl(dump, args.join(" "), true);
        assert.match(dump, /^goroutine \d+ \[/m, "the dump keeps its lines");
        assert.ok(dump.includes(`\n${HOSTILE_TEXT_ESCAPED}\n`), "the hostile line is there, escaped");
      }
      const stackJson = JSON.parse(await ok("stack", String(hostile.pid), "--json")) as { stack: string };
      assert.ok(stackJson.stack.endsWith(`\n${HOSTILE_TEXT}\n`));
    });

    it("an error that quotes the hostile config dir is one escaped line", async () => {
      const res = await cli("stack", String(stale.pid));
      assert.notEqual(res.code, 0, res.stdout);
      assertNoRawControl(res.stderr, "the error line");
      assert.equal(res.stderr.split("\n").length, 2, `one line: ${JSON.stringify(res.stderr)}`);
      assert.ok(res.stderr.includes(`/${CONFIG_DIR_ESCAPED}/${stale.pid}`), res.stderr);
    });
  });
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
