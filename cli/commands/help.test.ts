import assert from "node:assert/strict";
import { test } from "node:test";
import { fakeContext } from "../fake-context.testkit.js";
import { run } from "./help.js";
import { COMMANDS, findCommand } from "./index.js";

test("the overview lists every command, the pid shortcut, the flags and the exit codes", async () => {
  const f = fakeContext({});
  await run({ topic: undefined, commands: COMMANDS }, f.ctx);
  const text = f.stdout.text();
  for (const c of COMMANDS) assert.match(text, new RegExp(`^  ${c.name} `, "m"), c.name);
  assert.match(text, /^  <pid> \[period\] +same as process <pid> \[period\]$/m);
  for (const flag of ["--host NAME|ADDR", "--json", "--timeout DUR", "-o, --output FILE", "-A, --all-processes", "--fleet FILE", "--hosts A,B,C", "-l, --selector K=V,...", "--all ", "--sort KEY", "--module PATH[@VER]", "--merge", "-h, --help", "--version"]) assert.ok(text.includes(flag), flag);
  assert.match(text, /GOPSCTL_HOST/);
  assert.match(text, /130 interrupted/);
  assert.equal(f.calls.length, 0, "help never calls gopsd");
});

test("a command's help shows its usage, aliases and only the flags it takes", async () => {
  const f = fakeContext({});
  await run({ topic: findCommand("proc"), commands: COMMANDS }, f.ctx);
  const text = f.stdout.text();
  assert.match(text, /^usage: gopsctl \[flags\] process <pid> \[period\]$/m);
  assert.match(text, /^aliases: pid, proc$/m);
  assert.match(text, /^shortcut: gopsctl <pid> \[period\]$/m);
  assert.doesNotMatch(text, /--output|--all-processes/);
  for (const flag of ["--fleet FILE", "--hosts A,B,C", "-l, --selector", "--all "]) assert.ok(text.includes(flag), `selection flag ${flag}`);

  const g = fakeContext({});
  await run({ topic: findCommand("pprof-cpu"), commands: COMMANDS }, g.ctx);
  assert.match(g.stdout.text(), /^usage: gopsctl \[flags\] pprof-cpu <pid> \[-o FILE\] \[--duration DUR\]$/m);
  for (const flag of ["--duration DUR", "--top [N]", "--sample-index NAME", "--flame FILE.html"]) assert.ok(g.stdout.text().includes(`  ${flag} `), flag);
  assert.doesNotMatch(g.stdout.text(), /--summary/);
  assert.match(g.stdout.text(), /-o, --output FILE/);
  assert.doesNotMatch(g.stdout.text(), /--all-processes/);
  assert.match(g.stdout.text(), /--merge/);
  assert.doesNotMatch(g.stdout.text(), /--kind/);

  const h = fakeContext({});
  await run({ topic: findCommand("pprof-heap"), commands: COMMANDS }, h.ctx);
  assert.match(h.stdout.text(), /^  --kind KIND .*allocs, block, mutex, goroutine, threadcreate/m);
  assert.doesNotMatch(h.stdout.text(), /--duration/);
  const p = fakeContext({});
  await run({ topic: findCommand("ps"), commands: COMMANDS }, p.ctx);
  assert.match(p.stdout.text(), /^  --probe /m);
  assert.match(p.stdout.text(), /~ = a net\/http\/pprof/);
});

test("the overview shows the connection flags, the environment, the config file, and the token command", async () => {
  const f = fakeContext({});
  await run({ topic: undefined, commands: COMMANDS }, f.ctx);
  const text = f.stdout.text();
  for (const flag of ["--config FILE", "--token TOKEN", "--token-file FILE", "--tls", "--ca FILE", "--cert FILE", "--key FILE", "--server-name NAME"]) {
    assert.ok(text.includes(`  ${flag} `), flag);
  }
  for (const v of ["GOPSCTL_TOKEN", "GOPSCTL_TOKEN_FILE", "GOPSCTL_CA", "GOPSCTL_CERT", "GOPSCTL_KEY", "GOPSCTL_SERVER_NAME", "GOPSCTL_TLS", "GOPSCTL_CONFIG"]) {
    assert.match(text, new RegExp(`\\b${v}\\b`), v);
  }
  assert.match(text, /config file \(YAML\): host, tokenFile, tls: \{ca, cert, key, serverName\}/);
  assert.match(text, /^  token create \[flags\] +create a token/m);
  assert.doesNotMatch(text, /^ +--(alg|scope|dev|ttl)\b/m, "token create's own flags are in its help only");
});

test("token's help explains --dev and lists its flags, not the connection ones", async () => {
  const f = fakeContext({});
  await run({ topic: findCommand("token"), commands: COMMANDS }, f.ctx);
  const text = f.stdout.text();
  assert.match(text, /^usage: gopsctl \[flags\] token create \[flags\]$/m);
  assert.match(text, /^  gopsctl token create --dev -o ~\/\.config\/gopsctl\/token$/m);
  for (const flag of ["--dev", "--key FILE", "--alg ALG", "--kid KID", "--iss ISS", "--aud AUD", "--sub SUB", "--scope SCOPES", "--ttl DUR", "--hosts A,B,C", "--not-before DUR", "-o, --output FILE", "--json"]) {
    assert.ok(text.includes(`  ${flag} `), flag);
  }
  assert.doesNotMatch(text, /--host |--ca |--token-file|--tls/);

  const g = fakeContext({});
  await run({ topic: findCommand("stack"), commands: COMMANDS }, g.ctx);
  assert.match(g.stdout.text(), /--token-file FILE/);
  assert.doesNotMatch(g.stdout.text(), /--scope|--dev/);
});
