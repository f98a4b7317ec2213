// The release artifacts (`npm run release`, release/), each run as a user would run it. Not part of `npm test`:
// .ci/run runs it after `npm run release` (scripts/release-prereqs.sh installs the Debian tools); by hand:
//   bash scripts/release-prereqs.sh && npm run release && node --import tsx --test --test-reporter=spec scripts/release.test.ts
// Needs root (chroot, mount and network namespaces). Every network call is on a loopback address: gopsd's
// 0.0.0.0:4677 of the DaemonSet is served inside a network namespace of the test's, whose only interface is lo.
//
// - the single executables in a chroot that holds them and the host's glibc and libstdc++ only (no node anywhere):
//   `gopsctl ps` in-process, then gopsd with TLS + a token and `gopsctl stack` through it, `gopsd --health-check`;
// - the .deb: control files (conffiles, no unit enabled by the maintainer scripts), lintian, systemd-analyze verify
//   of its unit, its files unpacked into a root and the unit's ExecStart (with its Environment=) run there;
// - the OCI archive: its layers unpacked from the layout, its entrypoint + command run in the root file system;
// - the DaemonSet as written: that image, its ConfigMap's gopsd.yaml, its volumes, env and read-only root, and its
//   exec probes run exactly as stated, in gopsd's mount and network namespaces; a call through it over TLS + token.
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { parse, parseAllDocuments } from "yaml";
import { gopsdAddress, portNobodyListensOn, repoRoot, startFixture, type Fixture } from "../integration/harness.js";
import { secureSetup, type SecureSetup } from "../bench/secure-setup.js";
import { signToken, signingKey } from "../common/token.js";

const version = (JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8")) as { version: string }).version;
const releaseDir = path.join(repoRoot, "release");
const artifact = (name: string) => path.join(releaseDir, name);
const GOPSD = artifact("gopsd-linux-x64");
const GOPSCTL = artifact("gopsctl-linux-x64");
const DEB = artifact(`gopsd_${version}_amd64.deb`);
const IMAGE = artifact(`gopsd-${version}-oci.tar`);
const TGZ = artifact(`gopsctl-${version}.tgz`);
const MANIFEST = path.join(repoRoot, "deploy/kubernetes/gopsd-daemonset.yaml");

const scratch = mkdtempSync(path.join(tmpdir(), "gopsctl-release-test-"));
const children = new Set<ChildProcess>();
let fixture: Fixture;
let secure: SecureSetup;
let tokenFile: string;

before(async () => {
  assert.equal(process.getuid?.(), 0, "the release test needs root (chroot, mount and network namespaces)");
  for (const f of [GOPSD, GOPSCTL, DEB, IMAGE, TGZ, artifact("SHA256SUMS")]) assert.ok(existsSync(f), `${f} is missing: run npm run release first`);
  // A Go program with an agent and two goroutines parked in main.blockedWorker (for stack).
  fixture = await startFixture("agentprog", { args: ["-goroutines", "2"] });
  secure = secureSetup("gopsctl-release-tls-", ["gops:read", "gops:stack"]);
  tokenFile = path.join(secure.dir, "token");
  writeFileSync(tokenFile, secure.token, { mode: 0o600 });
});

after(async () => {
  for (const c of children) c.kill("SIGKILL");
  await fixture?.stop();
  rmSync(scratch, { recursive: true, force: true });
  if (secure !== undefined) rmSync(secure.dir, { recursive: true, force: true });
});

describe("release/", () => {
  it("SHA256SUMS lists every artifact with its hash", () => {
    const lines = readFileSync(artifact("SHA256SUMS"), "utf8").trim().split("\n");
    const listed = lines.map((l) => l.split(/ +/)[1]).sort();
    assert.deepEqual(listed, readdirSync(releaseDir).filter((f) => f !== "SHA256SUMS").sort());
    for (const line of lines) {
      const [hash, name] = line.split(/ +/) as [string, string];
      assert.equal(createHash("sha256").update(readFileSync(artifact(name))).digest("hex"), hash, name);
    }
  });

  it("the npm tarball has LICENSE, the example configs and deploy files, and no tsc output of the CLI", () => {
    const files = execFileSync("tar", ["-tzf", TGZ], { encoding: "utf8" }).trim().split("\n");
    for (const f of ["package/LICENSE", "package/examples/gopsd.yaml", "package/examples/fleet.yaml", "package/deploy/gopsd.service", "package/deploy/kubernetes/gopsd-daemonset.yaml", "package/dist/cli/gopsctl.cjs", "package/dist/cli/main.cjs", "package/dist/server/main.js"]) {
      assert.ok(files.includes(f), `${f} in the tarball`);
    }
    assert.deepEqual(files.filter((f) => /^package\/dist\/cli\/.*\.(js|d\.ts)$/.test(f)), []);
    assert.match(readFileSync(path.join(repoRoot, "LICENSE"), "utf8"), /Apache License\s+Version 2\.0/);
  });
});

describe("single executables, in a chroot with no node", () => {
  let root: string;
  before(() => {
    root = hostLibRoot("sea", [GOPSD, GOPSCTL]);
    copyFileSync(GOPSD, path.join(root, "gopsd"));
    copyFileSync(GOPSCTL, path.join(root, "gopsctl"));
    chmodSync(path.join(root, "gopsd"), 0o755);
    chmodSync(path.join(root, "gopsctl"), 0o755);
    const found = execFileSync("find", [root, "-name", "node*"], { encoding: "utf8" }).trim();
    assert.equal(found, "", "nothing named node in the root");
  });

  it("needs only glibc and libstdc++ (with libgcc_s) from the host", () => {
    for (const exe of [GOPSD, GOPSCTL]) {
      const needed = [...execFileSync("readelf", ["--dynamic", "--wide", exe], { encoding: "utf8" }).matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
      assert.deepEqual(needed.filter((n) => !/^(libc|libm|libdl|libpthread|librt|ld-linux-x86-64)\.so|^libstdc\+\+\.so|^libgcc_s\.so/.test(n!)), [], path.basename(exe));
      // The versions the .deb's Depends and the README promise: glibc 2.28, libstdc++ of GCC 5.
      const symbols = execFileSync("objdump", ["-T", exe], { encoding: "utf8", maxBuffer: 64 << 20 });
      const newest = (prefix: string) => [...symbols.matchAll(new RegExp(`\\b${prefix}_([0-9.]+)`, "g"))].map((m) => m[1]!.split(".").map(Number)).sort((a, b) => b[0]! - a[0]! || b[1]! - a[1]! || (b[2] ?? 0) - (a[2] ?? 0))[0]!.join(".");
      assert.equal(newest("GLIBC"), "2.28");
      assert.equal(newest("GLIBCXX"), "3.4.21");
    }
  });

  it("gopsctl --version names the release's version", async () => {
    const r = await runIn(root, ["/gopsctl", "--version"], { env: { HOME: "/tmp" } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `gopsctl ${version}\n`);
  });

  it("gopsctl carries ssh2: an SSH host is dialled (and refused here), with no warning", async () => {
    const home = path.join(root, "tmp/ssh-home");
    mkdirSync(path.join(home, ".ssh"), { recursive: true });
    writeFileSync(path.join(home, ".ssh/config"), `Host refused\n  HostName 127.0.0.1\n  Port ${await portNobodyListensOn()}\n  User nobody\n`);
    const r = await runIn(root, ["/gopsctl", "--timeout", "5s", "--host", "refused", "ps"], { env: { HOME: "/tmp/ssh-home" } });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /^gopsctl: ssh to nobody@127\.0\.0\.1:\d+: connect ECONNREFUSED 127\.0\.0\.1:\d+\n$/);
  });

  it("gopsctl ps lists the Go program in-process", async () => {
    const r = await runIn(root, ["/gopsctl", "ps"], { binds: ["/proc"], env: { HOME: "/tmp" } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^${fixture.pid}\\s.*agentprog`, "m"));
  });

  it("gopsd with TLS and a token serves gopsctl's stack; --health-check passes, and fails once gopsd is gone", async () => {
    // /tmp holds the TLS files, the token and the audit log (secureSetup's directory).
    const gopsd = await startDaemon(chrootCommand(root, ["/gopsd", ...secure.gopsdArgs], { binds: ["/proc", "/tmp"] }));
    const health = ["/gopsd", "--health-check", ...secure.gopsdArgs, "--listen", gopsd.address];
    try {
      const stack = await runIn(root, ["/gopsctl", "--host", gopsd.address, "--ca", secure.caFile, "--token-file", tokenFile, "stack", String(fixture.pid)], { binds: ["/tmp"], env: { HOME: "/tmp" } });
      assert.equal(stack.code, 0, stack.stderr);
      assert.match(stack.stdout, /main\.blockedWorker/);
      const noToken = await runIn(root, ["/gopsctl", "--host", gopsd.address, "--ca", secure.caFile, "stack", String(fixture.pid)], { binds: ["/tmp"], env: { HOME: "/tmp" } });
      assert.notEqual(noToken.code, 0, "a call without a token is refused");
      const ok = await runIn(root, health, { binds: ["/tmp"], env: { HOME: "/tmp" } });
      assert.equal(ok.code, 0, ok.stderr);
    } finally {
      await gopsd.stop();
    }
    const gone = await runIn(root, health, { binds: ["/tmp"], env: { HOME: "/tmp" } });
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /^gopsd: health check: 127\.0\.0\.1:\d+: .*UNAVAILABLE/m);
  });
});

describe("the .deb", () => {
  let root: string;
  let control: string;
  before(() => {
    root = path.join(scratch, "deb-root");
    control = path.join(scratch, "deb-control");
    execFileSync("dpkg-deb", ["-x", DEB, root]);
    execFileSync("dpkg-deb", ["-e", DEB, control]);
  });

  it("declares its config a conffile, depends on what the executable needs, and enables nothing on install", () => {
    assert.equal(readFileSync(path.join(control, "conffiles"), "utf8"), "/etc/gopsd/gopsd.yaml\n");
    const fields = readFileSync(path.join(control, "control"), "utf8");
    assert.match(fields, /^Package: gopsd$/m);
    assert.match(fields, new RegExp(`^Version: ${version.replace(/\./g, "\\.")}$`, "m"));
    assert.match(fields, /^Depends: .*libc6 \(>= 2\.28\).*libstdc\+\+6/m);
    for (const script of ["postinst", "postrm"]) {
      const text = readFileSync(path.join(control, script), "utf8").replace(/^\s*#.*$/gm, "");
      execFileSync("sh", ["-n", path.join(control, script)]);
      assert.doesNotMatch(text, /systemctl\s+(?:--\S+\s+)*(enable|start|restart)|deb-systemd-(invoke|helper)/, script);
    }
    assert.match(readFileSync(path.join(control, "postinst"), "utf8"), /adduser --system --group .* gopsd/);
    const config = parse(readFileSync(path.join(root, "etc/gopsd/gopsd.yaml"), "utf8")) as { listen: string };
    assert.match(config.listen, /^unix:\//, "the default config opens no port");
  });

  it("holds the native packages gopsd loads from beside its executable, loadable from there", () => {
    // koffi (when a dependency): copied with its platform package by the release; loaded as gopsd does, by a
    // require resolved from the executable's directory.
    const deps = Object.keys((JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8")) as { dependencies: Record<string, string> }).dependencies);
    for (const name of ["koffi"].filter((n) => deps.includes(n))) {
      const dir = path.join(root, "usr/lib/gopsd");
      assert.ok(existsSync(path.join(dir, "node_modules", name, "package.json")), `${name} beside usr/lib/gopsd/gopsd`);
      const r = spawnSync(process.execPath, ["-e", `require("node:module").createRequire(${JSON.stringify(path.join(dir, "gopsd-native.cjs"))})(${JSON.stringify(name)})`], { encoding: "utf8" });
      assert.equal(r.status, 0, r.stderr);
    }
  });

  it("lintian reports no errors", () => {
    const r = spawnSync("lintian", ["--tag-display-limit", "0", "--fail-on", "error", DEB], { encoding: "utf8" });
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  });

  it("its unit passes systemd-analyze verify with the packaged ExecStart", () => {
    const unit = path.join(root, "lib/systemd/system/gopsd.service");
    // /usr/sbin/gopsd only in this mount namespace (a tmpfs over /usr/sbin), pointing into the unpacked package.
    const r = spawnSync("unshare", ["--mount", "--", "sh", "-c", 'mount -t tmpfs tmpfs /usr/sbin && ln -s "$1" /usr/sbin/gopsd && exec systemd-analyze verify "$2"', "sh", path.join(root, "usr/lib/gopsd/gopsd"), unit], { encoding: "utf8" });
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  });

  it("its files in a root: the unit's ExecStart serves the default config's unix socket, ps through it", async () => {
    const unit = readFileSync(path.join(root, "lib/systemd/system/gopsd.service"), "utf8");
    const execStart = /^ExecStart=(.+)$/m.exec(unit)![1]!.trim().split(/\s+/);
    assert.equal(execStart[0], "/usr/sbin/gopsd");
    const env = Object.fromEntries([...unit.matchAll(/^Environment=(\w+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
    assert.equal(env.NODE_OPTIONS, "--max-semi-space-size=2");
    addHostLibs(root, [path.join(root, "usr/lib/gopsd/gopsd")]);
    // What systemd makes for the unit (RuntimeDirectory=gopsd); as root here (no gopsd user in this root).
    mkdirSync(path.join(root, "run/gopsd"), { recursive: true, mode: 0o700 });
    const gopsd = await startDaemon(chrootCommand(root, execStart, { binds: ["/proc"], env }));
    try {
      assert.equal(gopsd.address, "unix:/run/gopsd/gopsd.sock");
      const ps = await run(GOPSCTL, ["--host", `unix:${path.join(root, "run/gopsd/gopsd.sock")}`, "ps"]);
      assert.equal(ps.code, 0, ps.stderr);
      assert.match(ps.stdout, new RegExp(`^${fixture.pid}\\s.*agentprog`, "m"));
    } finally {
      await gopsd.stop();
    }
  });
});

describe("the OCI image and the DaemonSet", () => {
  let image: ExtractedImage;
  before(() => {
    image = extractImage(IMAGE, path.join(scratch, "image"));
  });

  it("is one image, named as the DaemonSet names it, <= 50 MB, with only gopsd, its libraries and the relay's tools", () => {
    assert.ok(statSync(IMAGE).size <= 50e6, `${statSync(IMAGE).size} bytes`);
    assert.equal(image.ref, `localhost/gopsd:${version}`);
    assert.equal(daemonSet().container.image, image.ref);
    assert.deepEqual(readdirSync(path.join(image.rootfs, "usr/bin")).sort(), ["bash", "cat", "gopsd", "nsenter", "setpriv"]);
    assert.ok(statSync(path.join(image.rootfs, "etc/ssl/certs/ca-certificates.crt")).size > 100_000, "CA certificates");
  });

  it("its entrypoint with its default command serves the default config's unix socket", async () => {
    const rootfs = copyTree(image.rootfs, path.join(scratch, "image-default"));
    const gopsd = await startDaemon(chrootCommand(rootfs, [...image.config.Entrypoint, ...image.config.Cmd], { binds: ["/proc"], env: envList(image.config.Env) }));
    try {
      assert.equal(gopsd.address, "unix:/run/gopsd/gopsd.sock");
      const ps = await run(GOPSCTL, ["--host", `unix:${path.join(rootfs, "run/gopsd/gopsd.sock")}`, "ps"]);
      assert.equal(ps.code, 0, ps.stderr);
      assert.match(ps.stdout, new RegExp(`^${fixture.pid}\\s.*agentprog`, "m"));
    } finally {
      await gopsd.stop();
    }
  });

  it("as the DaemonSet runs it: its probes pass, stack over TLS + token through a socket made in the agent's namespace; the probe fails with no gopsd", async () => {
    const { container, volumes, configMaps } = daemonSet();
    const rootfs = copyTree(image.rootfs, path.join(scratch, "image-daemonset"));
    const gopsdYaml = configMaps.get("gopsd-config")!["gopsd.yaml"]!;
    const config = parse(gopsdYaml) as { listen: string; tls: { cert: string; key: string }; auth: { algorithms: string[]; publicKeyFiles: string[]; issuer: string; audience: string } };
    assert.deepEqual(config.auth.algorithms, ["ES256"]);
    // The Secret the README has the admin create: the TLS pair and the token issuer's ES256 public key.
    const secretDir = path.join(scratch, "secret");
    mkdirSync(secretDir);
    execFileSync("openssl", ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", path.join(secretDir, "issuer.key")]);
    const issuerKey = readFileSync(path.join(secretDir, "issuer.key"));
    const secretFiles: Record<string, Buffer> = {
      "tls.crt": readFileSync(path.join(secure.dir, "server.pem")),
      "tls.key": readFileSync(path.join(secure.dir, "server.key")),
      "token-pub.pem": execFileSync("openssl", ["ec", "-in", path.join(secretDir, "issuer.key"), "-pubout"], { stdio: ["ignore", "pipe", "ignore"] }),
    };
    const token = signToken(signingKey(issuerKey, "ES256", "test issuer"), { alg: "ES256", issuer: config.auth.issuer, audience: config.auth.audience, subject: "release-test", scopes: ["gops:read", "gops:stack"], ttlSec: 600 });
    const esTokenFile = path.join(secretDir, "token");
    writeFileSync(esTokenFile, token, { mode: 0o600 });

    // The volumes, as the kubelet would mount them: hostPath (a DirectoryOrCreate that this host lacks: an empty
    // directory), the ConfigMap's data and the Secret's files; readOnly ones read-only.
    const mounts: { source: string; target: string; readOnly: boolean }[] = [];
    for (const m of container.volumeMounts) {
      const v = volumes.get(m.name)!;
      let source: string;
      if (v.hostPath !== undefined) {
        assert.ok(existsSync(v.hostPath.path) || v.hostPath.type === "DirectoryOrCreate", `hostPath ${v.hostPath.path}`);
        source = existsSync(v.hostPath.path) ? v.hostPath.path : writeDir(path.join(scratch, `host-${m.name}`), {});
      } else if (v.configMap !== undefined) {
        source = writeDir(path.join(scratch, `configmap-${m.name}`), configMaps.get(v.configMap.name)!);
      } else if (v.secret !== undefined) {
        assert.equal(v.secret.secretName, "gopsd-credentials");
        source = writeDir(path.join(scratch, `secret-${m.name}`), secretFiles);
      } else {
        throw new Error(`volume ${m.name}: a kind this test does not know`);
      }
      mounts.push({ source, target: m.mountPath, readOnly: m.readOnly === true });
    }
    for (const file of [config.tls.cert, config.tls.key, ...config.auth.publicKeyFiles]) {
      assert.ok(mounts.some((m) => file.startsWith(`${m.target}/`)), `${file} is on a mounted volume`);
    }
    const env = {
      ...envList(image.config.Env),
      ...Object.fromEntries(container.env.map((e) => [e.name, e.value ?? (e.valueFrom?.fieldRef?.fieldPath === "spec.nodeName" ? "release-test-node" : assert.fail(`env ${e.name}`))])),
    };
    const command = [...(container.command ?? image.config.Entrypoint), ...(container.args ?? image.config.Cmd)];
    assert.ok(container.securityContext.readOnlyRootFilesystem);
    const gopsd = await startDaemon(containerCommand(rootfs, mounts, command, env));
    try {
      assert.equal(gopsd.address, config.listen);
      // kubectl exec-like: the probe's command in gopsd's mount (its root) and network namespaces, its env.
      for (const probe of [container.readinessProbe, container.livenessProbe]) {
        const r = await run("/usr/bin/env", ["-i", ...envArgs(env), "/usr/bin/nsenter", "--target", String(gopsd.pid), "--mount", "--net", "--root", "--wd", "--", ...probe.exec.command]);
        assert.equal(r.code, 0, `${probe.exec.command.join(" ")}: ${r.stderr}`);
      }
      // A client on the node: TLS on 4677 and an ES256 token; the agent is in the host's network namespace, so gopsd
      // reaches it with a socket made there by setns, through koffi loaded from beside the single executable (without
      // koffi it would log that it falls back to its relay: nsenter, bash and cat from the image).
      const port = config.listen.split(":").pop()!;
      const stack = await run("nsenter", ["--target", String(gopsd.pid), "--net", "--", GOPSCTL, "--host", `127.0.0.1:${port}`, "--ca", secure.caFile, "--token-file", esTokenFile, "stack", String(fixture.pid)]);
      assert.equal(stack.code, 0, stack.stderr);
      assert.match(stack.stdout, /main\.blockedWorker/);
      assert.doesNotMatch(gopsd.stderr(), /through a relay process per call/, "gopsd fell back to the relay: koffi did not load beside it");
    } finally {
      await gopsd.stop();
    }
    // The same probe where no gopsd serves (a fresh network namespace): it fails.
    const probe = container.readinessProbe.exec.command;
    const none = await run(...containerCommand(rootfs, mounts, probe, env));
    assert.equal(none.code, 1, none.stderr);
    assert.match(none.stderr, /health check: 127\.0\.0\.1:4677: .*UNAVAILABLE/);
  });
});

// ---------------------------------------------------------------------------------------------------------------

interface Started {
  address: string;
  pid: number;
  /** What it wrote to stderr so far. */
  stderr(): string;
  stop(): Promise<void>;
}

/** Runs a gopsd command line until `gopsd: listening on ...`; stop() sends SIGTERM and waits. */
async function startDaemon([cmd, args]: [string, string[]]): Promise<Started> {
  const proc = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
  children.add(proc);
  proc.stdout!.resume();
  let stderr = "";
  proc.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  const address = await gopsdAddress(proc, () => stderr);
  return {
    address,
    pid: proc.pid!,
    stderr: () => stderr,
    async stop() {
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
      children.delete(proc);
    },
  };
}

function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    p.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    p.once("error", reject);
    p.once("close", (code, signal) => resolve({ code: code ?? 128 + (signal === "SIGKILL" ? 9 : 15), stdout, stderr }));
  });
}

/** `chroot root` in a mount namespace of its own, with host directories bound at the same paths, and env only. */
function chrootCommand(root: string, argv: string[], opts: { binds?: string[]; env?: Record<string, string> } = {}): [string, string[]] {
  const binds = (opts.binds ?? []).map((d) => `mkdir -p "$0${d}" && mount --rbind ${d} "$0${d}"`).join(" && ");
  return ["unshare", ["--mount", "--", "sh", "-c", `${binds || "true"} && exec /usr/bin/env -i "$@"`, root, ...envArgs({ PATH: "/usr/bin:/bin", ...opts.env }), "/usr/sbin/chroot", root, ...argv]];
}

function runIn(root: string, argv: string[], opts: { binds?: string[]; env?: Record<string, string> } = {}) {
  return run(...chrootCommand(root, argv, opts));
}

/**
 * Mounts for a container: the root bound on itself (made read-only last), what a runtime gives every container (a
 * proc of its pid namespace, the host's with hostPID; a /dev with the usual character devices), then each volume
 * (read-only as asked).
 */
function mountScript(rootfs: string, mounts: { source: string; target: string; readOnly: boolean }[]): string {
  const q = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;
  const steps = [`mount --bind ${q(rootfs)} ${q(rootfs)}`, `mount -t proc proc ${q(path.join(rootfs, "proc"))}`, `mount -t tmpfs -o mode=755 tmpfs ${q(path.join(rootfs, "dev"))}`];
  for (const dev of ["null", "zero", "full", "random", "urandom"]) steps.push(`touch ${q(path.join(rootfs, "dev", dev))}`, `mount --bind /dev/${dev} ${q(path.join(rootfs, "dev", dev))}`);
  for (const m of mounts) {
    const target = q(path.join(rootfs, m.target));
    steps.push(`mkdir -p ${target}`, `mount --rbind ${q(m.source)} ${target}`);
    if (m.readOnly) steps.push(`mount -o remount,bind,ro ${target}`);
  }
  steps.push(`mount -o remount,bind,ro ${q(rootfs)}`);
  return steps.join(" && ");
}

/** The container of the DaemonSet: hostPID (no pid namespace), hostNetwork (here: a fresh one with lo only). */
function containerCommand(rootfs: string, mounts: { source: string; target: string; readOnly: boolean }[], argv: string[], env: Record<string, string>): [string, string[]] {
  for (const m of mounts) mkdirSync(path.join(rootfs, m.target), { recursive: true });
  return ["unshare", ["--net", "--mount", "--", "sh", "-c", `ip link set lo up && ${mountScript(rootfs, mounts)} && exec /usr/bin/env -i "$@"`, rootfs, ...envArgs(env), "/usr/sbin/chroot", rootfs, ...argv]];
}

const envArgs = (env: Record<string, string>) => Object.entries(env).map(([k, v]) => `${k}=${v}`);
const envList = (list: string[]) => Object.fromEntries(list.map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));

/** A root with the host's copies of the shared libraries `executables` load (ldd), and /proc, /tmp, /dev. */
function hostLibRoot(name: string, executables: string[]): string {
  const root = path.join(scratch, name);
  for (const d of ["proc", "tmp", "dev", "etc"]) mkdirSync(path.join(root, d), { recursive: true });
  // Users and groups, as on any host (ssh's default user name comes from the passwd entry).
  for (const f of ["etc/passwd", "etc/group"]) copyFileSync(`/${f}`, path.join(root, f));
  addHostLibs(root, executables);
  return root;
}

function addHostLibs(root: string, executables: string[]): void {
  for (const exe of executables) {
    for (const m of execFileSync("ldd", [exe], { encoding: "utf8" }).matchAll(/(?:=> )?(\/\S+) \(0x/g)) {
      const lib = m[1]!;
      mkdirSync(path.join(root, path.dirname(lib)), { recursive: true });
      copyFileSync(realpathSync(lib), path.join(root, lib));
    }
  }
}

interface ImageConfig {
  Entrypoint: string[];
  Cmd: string[];
  Env: string[];
}
interface ExtractedImage {
  ref: string;
  rootfs: string;
  config: ImageConfig;
}

/** The OCI layout's one image: its name, its configuration and its layers unpacked in order into rootfs/. */
function extractImage(archive: string, dir: string): ExtractedImage {
  const layout = path.join(dir, "layout");
  const rootfs = path.join(dir, "rootfs");
  mkdirSync(layout, { recursive: true });
  mkdirSync(rootfs, { recursive: true });
  execFileSync("tar", ["-xf", archive, "-C", layout]);
  const blob = (digest: string) => path.join(layout, "blobs", ...digest.split(":"));
  const index = JSON.parse(readFileSync(path.join(layout, "index.json"), "utf8")) as { manifests: { digest: string; annotations?: Record<string, string> }[] };
  assert.equal(index.manifests.length, 1);
  const entry = index.manifests[0]!;
  const manifest = JSON.parse(readFileSync(blob(entry.digest), "utf8")) as { config: { digest: string }; layers: { digest: string; mediaType: string }[] };
  const config = JSON.parse(readFileSync(blob(manifest.config.digest), "utf8")) as { config: ImageConfig };
  for (const layer of manifest.layers) {
    assert.equal(layer.mediaType, "application/vnd.oci.image.layer.v1.tar+gzip");
    assert.equal(`sha256:${createHash("sha256").update(readFileSync(blob(layer.digest))).digest("hex")}`, layer.digest);
    execFileSync("tar", ["-xzf", blob(layer.digest), "-C", rootfs, "--numeric-owner"]);
  }
  return { ref: entry.annotations!["org.opencontainers.image.ref.name"]!, rootfs, config: config.config };
}

function copyTree(from: string, to: string): string {
  execFileSync("cp", ["-a", from, to]);
  return to;
}

function writeDir(dir: string, files: Record<string, string | Buffer>): string {
  mkdirSync(dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, name), content, { mode: 0o400 });
  return dir;
}

interface Container {
  image: string;
  command?: string[];
  args?: string[];
  env: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  securityContext: { readOnlyRootFilesystem?: boolean };
  readinessProbe: { exec: { command: string[] } };
  livenessProbe: { exec: { command: string[] } };
  volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
}
interface Volume {
  name: string;
  hostPath?: { path: string; type?: string };
  configMap?: { name: string };
  secret?: { secretName: string };
}

/** deploy/kubernetes/gopsd-daemonset.yaml: the gopsd container, the pod's volumes and the ConfigMaps' data. */
function daemonSet(): { container: Container; volumes: Map<string, Volume>; configMaps: Map<string, Record<string, string>> } {
  const docs = parseAllDocuments(readFileSync(MANIFEST, "utf8")).map((d) => d.toJS() as { kind: string; metadata: { name: string }; data?: Record<string, string>; spec?: { template: { spec: { containers: Container[]; volumes: Volume[]; priorityClassName?: string; hostNetwork?: boolean; hostPID?: boolean } } } });
  const ds = docs.find((d) => d.kind === "DaemonSet")!;
  const pod = ds.spec!.template.spec;
  assert.equal(pod.priorityClassName, undefined, "no cluster-specific priority class");
  assert.ok(pod.hostPID && pod.hostNetwork);
  const container = pod.containers.find((c) => (c as unknown as { name: string }).name === "gopsd")!;
  return {
    container,
    volumes: new Map(pod.volumes.map((v) => [v.name, v])),
    configMaps: new Map(docs.filter((d) => d.kind === "ConfigMap").map((d) => [d.metadata.name, d.data ?? {}])),
  };
}
