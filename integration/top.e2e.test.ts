// `gopsctl top` in a real terminal (a private tmux server, fixed size): two gopsd hosts on loopback watching three
// idle replicas and one that leaks goroutines, all of the same program. The leaker rises to the top when sorted by
// goroutines, its count grows between two captures, the outlier mark (!) is on its rows and only there, sort keys
// and window resizes redraw, and q (and Ctrl-C) leave the terminal as it was: main screen, cursor shown, the
// previous lines intact. Also the pipe form: one table per interval and NDJSON with "outlier".
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import { cliArgs, repoRoot, runCli, startFixture, startGopsd, type Fixture, type Gopsd } from "./harness.js";

const run = promisify(execFile);
const HOSTS = ["web-1", "web-2"];
const SOCKET = `gopsctl-top-test-${process.pid}`;
const SESSION = "top";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function tmux(...args: string[]): Promise<string> {
  return (await run("tmux", ["-L", SOCKET, "-f", "/dev/null", ...args], { timeout: 10_000 })).stdout;
}
const capture = () => tmux("capture-pane", "-p", "-t", SESSION);
const display = async (format: string) => (await tmux("display-message", "-p", "-t", SESSION, format)).trim();

/** Polls the pane until `ok` holds for a capture (at most ~30 s); returns that capture. */
async function waitForPane(ok: (text: string) => boolean, what: string): Promise<string> {
  let text = "";
  for (let i = 0; i < 300; i++) {
    text = await capture();
    if (ok(text)) return text;
    await sleep(100);
  }
  assert.fail(`${what}; the pane shows:\n${text}`);
}

interface Row {
  host: string;
  pid: number;
  goroutines: string;
  cells: string[];
}

/** The table rows on screen (after the HOST header line), split on whitespace (no cell holds a space). */
function tableRows(text: string): Row[] {
  const lines = text.split("\n");
  const at = lines.findIndex((l) => l.startsWith("HOST "));
  if (at < 0) return [];
  const rows: Row[] = [];
  for (const line of lines.slice(at + 1)) {
    const cells = line.trim().split(/\s+/);
    if (cells.length < 8 || !/^\d+$/.test(cells[1]!)) break;
    rows.push({ host: cells[0]!, pid: Number(cells[1]), goroutines: cells[6]!, cells });
  }
  return rows;
}
const count = (cell: string) => Number(cell.replace(/[!~]+$/, ""));

describe("gopsctl top in a terminal", { timeout: 240_000 }, () => {
  let dir: string;
  let fleetFile: string;
  const gopsds: Gopsd[] = [];
  const idle: Fixture[] = [];
  let leaker: Fixture;
  let pids: string;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "gopsctl-top-"));
    gopsds.push(...(await Promise.all(HOSTS.map((name) => startGopsd({ args: ["--host-name", name] })))));
    idle.push(...(await Promise.all([0, 1, 2].map(() => startFixture("agentprog")))));
    leaker = await startFixture("agentprog", { args: ["-leak-goroutines-per-sec", "20"] });
    pids = [...idle, leaker].map((f) => f.pid).join(",");
    fleetFile = path.join(dir, "fleet.yaml");
    await writeFile(
      fleetFile,
      `hosts:\n${HOSTS.map((name, i) => `  - name: ${name}\n    address: "${gopsds[i]!.address}"\n    labels: { role: web }\n`).join("")}`,
    );
    await tmux("new-session", "-d", "-s", SESSION, "-x", "160", "-y", "30", "env PS1='$ ' bash --norc --noprofile");
    await tmux("set-option", "-t", SESSION, "window-size", "manual");
  });

  after(async () => {
    await tmux("kill-server").catch(() => undefined);
    await Promise.all([...gopsds, ...idle, ...(leaker ? [leaker] : [])].map((p) => p.stop()));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const topCommand = (extra: string) =>
    `env XDG_CONFIG_HOME=${dir} ${[process.execPath, ...cliArgs()].join(" ")} ` +
    `--fleet ${fleetFile} -l role=web top --interval 500ms --pid ${pids} ${extra}`;

  it("marks the leaking replica, keeps it on top by goroutines, redraws on sort keys, and q restores the terminal", async () => {
    await waitForPane((t) => t.includes("$"), "no shell prompt");
    await tmux("send-keys", "-t", SESSION, "-l", "printf 'before top\\n'");
    await tmux("send-keys", "-t", SESSION, "Enter");
    const before = (await waitForPane((t) => /^before top$/m.test(t), "printf did not run")).trimEnd();
    assert.equal(await display("#{alternate_on}"), "0");

    await tmux("send-keys", "-t", SESSION, "-l", topCommand("--sort goroutines"));
    await tmux("send-keys", "-t", SESSION, "Enter");
    // Each host samples on its own: wait until both have marked the leaker (one may be a refresh behind the other).
    const first = await waitForPane((t) => {
      const rows = tableRows(t);
      return rows.length === 8 && rows.filter((r) => r.pid === leaker.pid && r.goroutines.endsWith("!")).length === 2;
    }, "top did not show 8 rows with the leaker marked on both hosts");
    assert.equal(await display("#{alternate_on}"), "1", "top runs on the alternate screen");
    assert.equal(await display("#{cursor_flag}"), "0", "the cursor is hidden");
    assert.match(first, /sort: goroutines/);

    const rows = tableRows(first);
    // Both hosts see every process: the leaker's two rows come first, then the idle ones.
    assert.deepEqual(rows.slice(0, 2).map((r) => r.pid), [leaker.pid, leaker.pid]);
    assert.deepEqual(rows.slice(0, 2).map((r) => r.host).sort(), HOSTS);
    for (const r of rows) {
      const isLeaker = r.pid === leaker.pid;
      assert.equal(r.goroutines.endsWith("!"), isLeaker, `row ${r.cells.join(" ")}`);
      if (!isLeaker) assert.ok(!r.cells.some((c) => c.includes("!")), `no mark on an idle replica: ${r.cells.join(" ")}`);
    }
    const before1 = count(rows[0]!.goroutines);

    // Its counter grows between captures (20 goroutines a second), and the +/- column says so.
    const later = await waitForPane((t) => {
      const r = tableRows(t)[0];
      return r !== undefined && r.pid === leaker.pid && count(r.goroutines) > before1;
    }, "the leaker's goroutine count did not grow");
    const top = tableRows(later)[0]!;
    assert.match(top.cells[7]!, /^\+\d+$/, "goroutines +/- since the start");

    // Sort keys: m sorts by RSS, g back to goroutines.
    await tmux("send-keys", "-t", SESSION, "m");
    await waitForPane((t) => t.includes("sort: rss"), "m did not sort by rss");
    await tmux("send-keys", "-t", SESSION, "g");
    await waitForPane((t) => t.includes("sort: goroutines") && tableRows(t)[0]?.pid === leaker.pid, "g did not sort by goroutines");

    await tmux("send-keys", "-t", SESSION, "q");
    const restored = await waitForPane((t) => /^\$ ?$/.test(t.split("\n").filter((l) => l !== "").at(-1) ?? "") && !t.includes("GOROUTINES"), "q did not restore the shell screen");
    assert.equal(await display("#{alternate_on}"), "0", "back on the main screen");
    assert.equal(await display("#{cursor_flag}"), "1", "the cursor is shown again");
    // The screen is what it was, plus the command line and a new prompt (no table remnants).
    const lines = restored.trimEnd().split("\n");
    assert.ok(restored.startsWith(before), `before:\n${before}\nafter:\n${restored}`);
    assert.match(lines.at(-1)!, /^\$ ?$/);
    await tmux("send-keys", "-t", SESSION, "-l", "echo exit=$?");
    await tmux("send-keys", "-t", SESSION, "Enter");
    await waitForPane((t) => /^exit=0$/m.test(t), "top did not exit 0 on q");
  });

  it("follows window resizes; Ctrl-C also restores the terminal", async () => {
    await tmux("send-keys", "-t", SESSION, "-l", "clear");
    await tmux("send-keys", "-t", SESSION, "Enter");
    // Start in a narrow window: top draws each line cut to 70 columns, so the table's right part (VIA is its last
    // column) never reaches the terminal. Only a redraw after the window grows can show it: tmux cannot make up
    // cells a program never wrote, so a top that ignores SIGWINCH fails here (a check after shrinking a wide
    // window could not tell: tmux cuts the old lines to the new width itself).
    await tmux("resize-window", "-t", SESSION, "-x", "70", "-y", "30");
    await tmux("send-keys", "-t", SESSION, "-l", topCommand(""));
    await tmux("send-keys", "-t", SESSION, "Enter");
    const headerOf = (t: string) => t.split("\n").find((l) => l.startsWith("HOST ")) ?? "";
    const narrow = await waitForPane((t) => tableRows(t).length === 8, "top did not start in a 70-column window");
    assert.ok(!headerOf(narrow).includes("VIA"), headerOf(narrow));
    assert.ok(narrow.split("\n").every((l) => [...l].length <= 70));
    // Wider: redrawn at once with every column, the header and every row past column 70.
    await tmux("resize-window", "-t", SESSION, "-x", "160", "-y", "30");
    const wide = await waitForPane((t) => /\sVIA\s*$/.test(headerOf(t)) && tableRows(t).length === 8, "no redraw after the window grew: the VIA column did not appear");
    assert.ok([...headerOf(wide)].length > 70);
    for (const r of tableRows(wide)) assert.match(r.cells.at(-1)!, /^(agent|pprof|-)$/, `the VIA cell of ${r.cells.join(" ")}`);
    // Narrower again: the same header as drawn at 70 columns from the start.
    await tmux("resize-window", "-t", SESSION, "-x", "70", "-y", "30");
    const again = await waitForPane((t) => !headerOf(t).includes("VIA") && tableRows(t).length === 8, "no redraw after the window shrank");
    assert.equal(headerOf(again), headerOf(narrow));

    await tmux("send-keys", "-t", SESSION, "C-c");
    await waitForPane((t) => !t.includes("GOROUTINES"), "Ctrl-C did not leave top");
    assert.equal(await display("#{alternate_on}"), "0");
    assert.equal(await display("#{cursor_flag}"), "1");
  });

  it("in a pipe: one table per interval; --json: one NDJSON line per interval with the outlier list", async () => {
    const base = ["--fleet", fleetFile, "-l", "role=web", "top", "--interval", "500ms", "--pid", pids, "--sort", "goroutines"];
    const text = await runCli([...base, "--iterations", "3"], { cwd: dir, timeoutMs: 60_000 });
    assert.equal(text.code, 0, text.stderr);
    const tables = text.stdout.trimEnd().split("\n\n");
    assert.equal(tables.length, 3);
    for (const t of tables) assert.match(t, /^HOST\s+PID\s+NAME\s+CPU%/);
    assert.ok(!text.stdout.includes("\x1b"), "no escape sequences in a pipe");

    const json = await runCli([...base, "--iterations", "2", "--json"], { cwd: dir, timeoutMs: 60_000 });
    assert.equal(json.code, 0, json.stderr);
    const lines = json.stdout.trimEnd().split("\n").map((l) => JSON.parse(l) as { seq: number; processes: { host: string; pid: number; goroutines: number; outlier: string[] }[] });
    assert.deepEqual(lines.map((l) => l.seq), [1, 2]);
    const last = lines.at(-1)!;
    assert.equal(last.processes.length, 8);
    for (const p of last.processes) assert.deepEqual(p.outlier, p.pid === leaker.pid ? ["goroutines"] : [], JSON.stringify(p));
    assert.deepEqual(last.processes.slice(0, 2).map((p) => p.pid), [leaker.pid, leaker.pid]);
  });

  it("examples/watch-goroutines.ts alerts on the leaking process, and only on it", async () => {
    const child = spawn(
      process.execPath,
      ["--import", import.meta.resolve("tsx"), path.join(repoRoot, "examples", "watch-goroutines.ts"), "--fleet", fleetFile, "--hosts", "web-1",
        "--pid", pids, "--interval-ms", "500", "--intervals", "3", "--max-alerts", "1"],
      { cwd: dir, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, XDG_CONFIG_HOME: dir } },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    clearTimeout(killer);
    assert.equal(code, 0, stderr);
    const alerts = stdout.trim().split("\n");
    assert.equal(alerts.length, 1, stdout);
    const [tag, host, pid, name, what] = alerts[0]!.split("\t");
    assert.deepEqual([tag, host, Number(pid), name], ["ALERT", "web-1", leaker.pid, "agentprog"]);
    assert.match(what!, /^goroutines grew 3 intervals in a row: \d+ -> \d+$/);
  });
});
