import assert from "node:assert/strict";
import { test } from "node:test";
import { UsageError } from "../errors.js";
import { parseCommandLine as parseArgv } from "./index.js";
import { COMMANDS, findCommand, resolveCommand } from "./index.js";

const resolve = (...argv: string[]) => resolveCommand(parseArgv(argv, {}));
const usage = (argv: string[], message: RegExp) =>
  assert.throws(() => resolve(...argv), (e: unknown) => e instanceof UsageError && message.test(e.message), argv.join(" "));

test("no command lists processes, like gops", () => {
  const inv = resolve();
  assert.equal(inv.spec.name, "ps");
  assert.deepEqual(inv.opts, { allProcesses: false });
  assert.equal(inv.across, false);
  assert.deepEqual(resolve("-A").opts, { allProcesses: true });
  assert.deepEqual(resolve("ps", "--all-processes").opts, { allProcesses: true });
});

test("a pid first is the process shortcut; process has the aliases pid and proc", () => {
  for (const argv of [["4132", "2s"], ["process", "4132", "2s"], ["pid", "4132", "2s"], ["proc", "4132", "2s"]]) {
    const inv = resolve(...argv);
    assert.equal(inv.spec.name, "process");
    assert.deepEqual(inv.opts, { pid: 4132, periodMs: 2000 });
  }
  assert.deepEqual(resolve("4132").opts, { pid: 4132, periodMs: 0 });
  usage(["0"], /^invalid pid "0"$/);
  usage(["-3"], /^invalid pid "-3"$/);
  usage(["4132", "-1s"], /must not be negative/);
});

test("every command is reachable by name", () => {
  for (const c of COMMANDS) assert.equal(findCommand(c.name), c);
  assert.equal(findCommand("nope"), undefined);
});

test("command arguments become options", () => {
  assert.deepEqual(resolve("stack", "7").opts, { pid: 7, summary: false });
  assert.deepEqual(resolve("stack", "7", "--summary").opts, { pid: 7, summary: true });
  assert.deepEqual(resolve("setgc", "7", "off").opts, { pid: 7, percent: -1 });
  assert.deepEqual(resolve("setgc", "7", "250").opts, { pid: 7, percent: 250 });
  const noReport = { top: undefined, sampleIndex: undefined, flame: undefined, merge: false };
  assert.deepEqual(resolve("pprof-cpu", "7", "-o", "cpu.out").opts, { pid: 7, output: "cpu.out", ...noReport });
  assert.deepEqual(resolve("pprof-cpu", "123", "--top").opts, { pid: 123, output: undefined, ...noReport, top: 10 });
  assert.deepEqual(resolve("pprof-cpu", "123", "--top", "20", "--flame", "cpu.html").opts, { pid: 123, output: undefined, ...noReport, top: 20, flame: "cpu.html" });
  assert.deepEqual(resolve("pprof-heap", "123", "--top=5", "--sample-index", "alloc_space").opts, { pid: 123, output: undefined, ...noReport, top: 5, sampleIndex: "alloc_space" });
  assert.deepEqual(resolve("trace", "7").opts, { pid: 7, output: undefined });
  assert.deepEqual(resolve("binary", "7", "-o", "app.bin").opts, { pid: 7, output: "app.bin" });
});

test("an unknown command is a usage error listing the commands", () => {
  usage(["frobnicate"], /^unknown command "frobnicate" \(commands: ps, process, tree, stack, gc, setgc, memstats, stats, top, version, buildinfo, trace, pprof-cpu, pprof-heap, binary, captures, pprof, token, help\)$/);
});

test("usage errors of commands", () => {
  usage(["stack"], /^missing PID$/);
  usage(["stack", "x"], /^invalid pid "x"$/);
  usage(["gc", "1", "2"], /^too many arguments: "2"$/);
  usage(["setgc", "1"], /^missing gc percentage$/);
  usage(["setgc", "1", "-2"], /^invalid gc percentage "-2"/);
  usage(["ps", "1"], /^ps takes no arguments/);
  usage(["tree", "x"], /^tree takes no arguments/);
});

test("command-specific flags are refused where they do not apply", () => {
  usage(["stack", "1", "-o", "x"], /^flag --output does not apply to stack$/);
  usage(["gc", "1", "-A"], /^flag --all-processes does not apply to gc$/);
  usage(["-o", "x"], /^invalid -o "x" \(want wide\)$/);
  assert.equal(resolve("tree", "-A", "--json", "--host", "h:1").spec.name, "tree");
  usage(["trace", "1", "--top"], /^flag --top does not apply to trace$/);
  usage(["stack", "1", "--flame", "f.html"], /^flag --flame does not apply to stack$/);
  usage(["pprof-cpu", "1", "--summary"], /^flag --summary does not apply to pprof-cpu$/);
  usage(["pprof-cpu", "1", "--top", "--sample-index", "alloc_space"], /^invalid --sample-index "alloc_space" \(want one of: cpu, samples\)$/);
  usage(["pprof-heap", "1", "--flame", "h.html", "--sample-index", "cpu"], /want one of: inuse_space, inuse_objects, alloc_space, alloc_objects/);
  usage(["pprof-cpu", "--top", "1"], /^missing PID$/);
});

test("deadlines: 30s by default, none for captures, --timeout overrides, 0 = none", () => {
  assert.equal(resolve("stack", "1").timeoutMs, 30_000);
  assert.equal(resolve("ps").timeoutMs, 30_000);
  assert.equal(resolve("pprof-cpu", "1").timeoutMs, undefined);
  assert.equal(resolve("trace", "1").timeoutMs, undefined);
  assert.equal(resolve("pprof-heap", "1").timeoutMs, undefined);
  assert.equal(resolve("binary", "1").timeoutMs, undefined);
  assert.equal(resolve("pprof-cpu", "1", "--timeout", "45s").timeoutMs, 45_000);
  assert.equal(resolve("stack", "1", "--timeout", "0").timeoutMs, undefined);
  assert.equal(resolve("stack", "1", "--timeout", "2").timeoutMs, 2000);
  // sampling CPU for the period is part of the call
  assert.equal(resolve("process", "1", "20s").timeoutMs, 50_000);
});

test("across hosts: 10s per host for reads, none for captures, --timeout per host; --merge and --flame rules", () => {
  const inv = resolve("memstats", "1", "--all");
  assert.deepEqual([inv.across, inv.timeoutMs], [true, 10_000]);
  assert.equal(resolve("-l", "role=web", "process", "1", "2s").timeoutMs, 12_000);
  assert.equal(resolve("pprof-heap", "1", "--hosts", "a,b").timeoutMs, undefined);
  assert.equal(resolve("stack", "1", "--all", "--timeout", "3s").timeoutMs, 3000);
  assert.equal(resolve("stack", "1", "--host", "web-1").across, false);
  assert.equal((resolve("pprof-heap", "1", "--all", "--merge", "--flame", "f.html").opts as { merge: boolean }).merge, true);
  usage(["pprof-heap", "1", "--merge"], /^--merge merges the profiles of several hosts/);
  usage(["pprof-cpu", "1", "--all", "--flame", "f.html"], /^--flame across hosts draws one graph of the merged profiles: add --merge$/);
  usage(["trace", "1", "--all", "--merge"], /^flag --merge does not apply to trace$/);
  usage(["pprof", "f.pb.gz", "--all"], /^flag --all does not apply to pprof \(it reads a local file\)$/);
  usage(["ps", "--sort", "size"], /^invalid --sort "size" \(want one of: cpu, mem, heap, goroutines\)$/);
  usage(["ps", "--sort", "cpu", "--module", "x"], /^--sort and --module exclude each other$/);
  assert.deepEqual(resolve("ps", "--module", "golang.org/x/net@<v0.17.0").opts, {
    allProcesses: false,
    module: { path: "golang.org/x/net", bound: { op: "<", version: "v0.17.0" } },
  });
});

test("-h anywhere shows help, about the command when one is named", () => {
  const inv = resolve("stack", "-h");
  assert.equal(inv.spec.name, "help");
  assert.equal((inv.opts as { topic: { name: string } }).topic.name, "stack");
  assert.equal((resolve("42", "--help").opts as { topic: { name: string } }).topic.name, "process");
  assert.equal((resolve("--help").opts as { topic: unknown }).topic, undefined);
  assert.equal((resolve("help", "memstats").opts as { topic: { name: string } }).topic.name, "memstats");
  usage(["help", "nope"], /^no help for unknown command "nope"$/);
});

test("connection flags go with any command that calls gopsd; token create's flags only with token", () => {
  assert.deepEqual(resolve("stack", "7", "--host", "h:1", "--ca", "ca.pem", "--token-file", "t", "--tls", "--server-name", "n").opts, { pid: 7, summary: false });
  usage(["ps", "--dev"], /^flag --dev does not apply to ps$/);
  usage(["gc", "1", "--ttl", "1m"], /^flag --ttl does not apply to gc$/);
});
