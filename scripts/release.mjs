// npm run release: the artifacts a user installs, written to release/ (never committed), from the built dist/ and
// Debian packages. scripts/release-prereqs.sh installs the Debian tools this needs (.ci/run calls it).
//
//   gopsd-linux-x64, gopsctl-linux-x64   Node single executable applications (SEA): a copy of this node binary,
//                                        stripped, with the bin's CommonJS bundle injected by postject: gopsd's as one
//                                        file with V8's code cache; gopsctl's as the npm bin's chunks with their
//                                        trained code caches (scripts/sea-loader.cjs). They need glibc and libstdc++
//                                        from the host, nothing else (no node, no node_modules).
//   gopsd_<version>_amd64.deb            /usr/lib/gopsd/gopsd (+ the native packages, see NATIVE_PACKAGES),
//                                        /usr/sbin/gopsd, the systemd unit (enabled by nobody but the admin), a safe
//                                        /etc/gopsd/gopsd.yaml (a unix socket, no port), docs and examples.
//   gopsd-<version>-oci.tar              an OCI image archive (podman load, docker load, skopeo copy): the
//                                        single-file gopsd and only the files of Debian packages it and its relay
//                                        need (glibc, libstdc++, CA certificates, nsenter, setpriv, bash, cat and
//                                        their libraries), taken from a root mmdebstrap extracts; one layer, by umoci.
//   gopsctl-<version>.tgz                npm pack of the package.
//   SHA256SUMS
//
// A single executable has no shebang: gopsd's node flag and malloc setting (server/main.ts) are set by the unit and
// the image as environment variables instead (GOPSD_RUNTIME_ENV).
import { build } from "esbuild";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, closeSync, copyFileSync, openSync, readSync, cpSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const version = pkg.version;
const out = join(root, "release");
const work = join(root, "build", "release");

/**
 * npm packages gopsd loads at run time from beside its executable (module.createRequire(<dir of the executable>/
 * gopsd-native.cjs)), copied with their installed dependencies into node_modules/ next to it in the .deb and the
 * image when they are in this checkout's node_modules (without them gopsd uses its nsenter relay).
 */
const NATIVE_PACKAGES = ["koffi"];
/**
 * What a native package's loader does not need: sources, headers, build files, docs, types, tests, prebuilt
 * binaries for musl (gopsd is a glibc program); scripts with a #! line (install-time tools) are left out too.
 */
const NATIVE_TRIM = /\.(cc|c|cpp|h|hh|hpp|inc|S|asm|def|md|d\.ts|map|gyp)$|\/(doc|docs|vendor|test|tests|CMakeLists\.txt|musl_[^/]+)$/;
/**
 * Prebuilt binaries for other systems and architectures than gopsd's (linux x64, glibc), as packages that ship every
 * platform in one directory lay them out (koffi 2: build/koffi/<os>_<arch>/).
 */
const OTHER_PLATFORMS = /\/build\/[^/]+\/(?!linux_x64$)(darwin|freebsd|openbsd|win32|linux|musl)_[^/]+$/;
/** The image's reference, as the archive names it (deploy/kubernetes/gopsd-daemonset.yaml names the same). */
const IMAGE_REF = `localhost/gopsd:${version}`;
const DEBIAN_SUITE = "bookworm";
/** Debian packages whose files the image takes (only those it needs: see imageRoot). */
const IMAGE_PACKAGES = ["libc6", "libstdc++6", "libgcc-s1", "ca-certificates", "util-linux", "bash", "coreutils"];
/** What the relay runs (server/agent/netns-dial.ts), and setpriv for dropping privileges in a pod's command. */
const IMAGE_TOOLS = ["/usr/bin/nsenter", "/usr/bin/setpriv", "/bin/bash", "/bin/cat"];
/** gopsd's shebang settings (server/main.ts), which a single executable cannot carry. */
const GOPSD_RUNTIME_ENV = { MALLOC_MMAP_THRESHOLD_: "65536", NODE_OPTIONS: "--max-semi-space-size=2" };
const SEA_FUSE = "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2";
/** Timestamps of packaged files: the commit's time, so two builds of one commit give the same archives. */
const epoch = Number(run("git", ["log", "-1", "--format=%ct"], { allowFail: true }).stdout.trim()) || 1_700_000_000;

if (process.platform !== "linux" || process.arch !== "x64") fail(`release: builds linux-x64 artifacts on linux-x64 only (this is ${process.platform}-${process.arch})`);
if (!existsSync(join(root, "dist/server/main.js"))) fail("release: dist/ is missing: run npm run build first (npm run release does)");

const started = Date.now();
rmSync(out, { recursive: true, force: true });
rmSync(work, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
mkdirSync(work, { recursive: true });

const natives = nativePackages();
await singleExecutables();
debPackage();
ociImage();
npmPack();
sums();
log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s:`);
for (const f of readdirSync(out).sort()) log(`  ${f}  ${(statSync(join(out, f)).size / 1e6).toFixed(1)} MB`);

// ---------------------------------------------------------------------------------------------------------------

async function singleExecutables() {
  const common = {
    absWorkingDir: root,
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    minifyWhitespace: true,
    minifySyntax: true,
    charset: "ascii",
    legalComments: "none",
    logLevel: "warning",
    // import.meta.url of the sources: the executable's own file (ES module code in a CommonJS bundle).
    define: { "import.meta.url": "__gopsctlSeaUrl" },
    banner: { js: 'var __gopsctlSeaUrl = require("node:url").pathToFileURL(process.execPath).href;' },
  };
  const bundles = {
    gopsd: { entryPoints: ["server/main.ts"], assets: { "gops.binpb": join(root, "proto/gen/gops.binpb"), "package.json": join(work, "package.json") } },
    // ssh2's optional native parts (its crypto binding, cpu-features): ssh2 falls back to JavaScript without them.
    // The npm bin's CLI bundle (dist/cli: chunks and trained code caches) run by scripts/sea-loader.cjs; ssh2, external
    // there, as a one-file bundle of its own.
    gopsctl: { entryPoints: ["ssh2"], external: ["cpu-features", "./crypto/build/Release/sshcrypto.node"], assets: { "package.json": join(work, "package.json"), ...cliAssets() }, loader: true },
  };
  // {name, version} of package.json, for --version (cli/main.ts).
  const pkgAsset = join(work, "package.json");
  writeFileSync(pkgAsset, JSON.stringify({ name: pkg.name, version }));
  const node = join(work, "node");
  copyFileSync(process.execPath, node);
  // node's symbols and debug sections (~12 MB): an executable needs none of them.
  run("strip", ["--strip-all", node]);
  for (const [name, b] of Object.entries(bundles)) {
    const dir = join(work, name);
    const bundle = join(dir, `main.cjs`);
    await build({ ...common, entryPoints: b.entryPoints, external: b.external ?? [], plugins: b.plugins ?? [], outfile: bundle, write: true });
    // A hashbang is valid at the start of a file only: the SEA wraps the script in a function.
    writeFileSync(bundle, readFileSync(bundle, "latin1").replace(/^#!.*\n/, ""), "latin1");
    let main = bundle;
    let assets = b.assets;
    if (b.loader) {
      main = join(root, "scripts/sea-loader.cjs");
      assets = { ...assets, "ssh2.cjs": bundle };
    }
    const blob = join(dir, `${name}.blob`);
    const config = join(dir, `sea.json`);
    writeFileSync(config, JSON.stringify({ main, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true, useSnapshot: false, assets }));
    run(process.execPath, ["--experimental-sea-config", config]);
    const exe = join(out, `${name}-linux-x64`);
    copyFileSync(node, exe);
    run(process.execPath, [join(root, "node_modules/postject/dist/cli.js"), exe, "NODE_SEA_BLOB", blob, "--sentinel-fuse", SEA_FUSE]);
    chmodSync(exe, 0o755);
    log(`${basename(exe)}: node ${process.version} + ${b.loader ? `dist/cli (${Object.keys(assets).length} assets, trained code caches) + ${b.entryPoints[0]}` : b.entryPoints[0]} bundled, code cache`);
  }
}

/** dist/cli's bundle as SEA assets, named by their paths under dist/cli/ (what cli/bin.ts loads, with its caches). */
function cliAssets() {
  const cli = join(root, "dist/cli");
  const assets = { "main.cjs": join(cli, "main.cjs") };
  if (existsSync(join(cli, "main.cjs.v8cache"))) assets["main.cjs.v8cache"] = join(cli, "main.cjs.v8cache");
  for (const f of readdirSync(join(cli, "chunks"))) if (/\.cjs(\.v8cache)?$/.test(f)) assets[`chunks/${f}`] = join(cli, "chunks", f);
  return assets;
}

/** The native packages present in node_modules, each with the installed packages it depends on. */
function nativePackages() {
  const found = new Set();
  const add = (name) => {
    const dir = join(root, "node_modules", name);
    if (found.has(name) || !existsSync(join(dir, "package.json"))) return;
    found.add(name);
    const p = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    for (const dep of Object.keys({ ...p.dependencies, ...p.optionalDependencies })) add(dep);
  };
  for (const name of NATIVE_PACKAGES) {
    add(name);
    log(found.has(name) ? `native package ${name}: found, copied beside gopsd` : `native package ${name}: not in node_modules; gopsd will use its nsenter relay`);
  }
  return [...found];
}

/** gopsd's files under `dest`: usr/lib/gopsd/gopsd, its native packages, and a link to it in `linkDir`. */
function installGopsd(dest, linkDir) {
  const lib = join(dest, "usr/lib/gopsd");
  mkdirSync(lib, { recursive: true });
  copyFileSync(join(out, "gopsd-linux-x64"), join(lib, "gopsd"));
  chmodSync(join(lib, "gopsd"), 0o755);
  for (const name of natives) {
    // What the loader needs: code, package.json, the linux-x64 binaries; no sources, headers, docs, types or other
    // platforms' binaries.
    cpSync(join(root, "node_modules", name), join(lib, "node_modules", name), {
      recursive: true,
      filter: (src) => /^LICEN[CS]E/i.test(basename(src)) || (!NATIVE_TRIM.test(src) && !OTHER_PLATFORMS.test(src) && !isScript(src)),
    });
  }
  // Data and libraries, none of it run as a program: files 0644 (a shared object needs no execute bit to load).
  // Prebuilt addons are stripped of their symbol tables (they ship with them; nothing needs them to load).
  if (natives.length > 0) {
    for (const e of readdirSync(join(lib, "node_modules"), { withFileTypes: true, recursive: true })) {
      if (!e.isFile()) continue;
      const file = join(e.parentPath ?? e.path, e.name);
      if (e.name.endsWith(".node")) run("strip", ["--strip-unneeded", file]);
      chmodSync(file, 0o644);
    }
  }
  mkdirSync(join(dest, linkDir), { recursive: true });
  symlinkSync(relative(join(dest, linkDir), join(lib, "gopsd")), join(dest, linkDir, "gopsd"));
}

function isScript(file) {
  if (!statSync(file).isFile()) return false;
  const fd = openSync(file, "r");
  try {
    const head = Buffer.alloc(2);
    return readSync(fd, head, 0, 2, 0) === 2 && head.toString("latin1") === "#!";
  } finally {
    closeSync(fd);
  }
}

/** The safe default configuration of the .deb and the image: a unix socket, no port. */
function defaultConfig(where) {
  return `# gopsd configuration (${where}). Every key: /usr/share/doc/gopsd/examples/gopsd.yaml, or gopsd --help.
#
# The default is safe: gopsd serves a unix socket (mode 0600: root and gopsd's own user can use it) and opens no
# port. Reach it from another machine over SSH: in gopsctl's fleet file, ssh: { host: ..., forward: unix:/run/gopsd/gopsd.sock }.
# To serve the network, set listen to host:port with tls and auth (a non-loopback address needs both; see the
# example), then restart gopsd.
listen: unix:/run/gopsd/gopsd.sock

# One JSON line per call (${where === "gopsd package" ? "to the journal: journalctl -u gopsd" : "to the container's log"}), never a token or key.
audit:
  stdout: true
`;
}

function debPackage() {
  const name = `gopsd_${version}_amd64`;
  const dir = join(work, "deb", name);
  installGopsd(dir, "usr/sbin");
  // The unit: ExecStart on the packaged path, the shebang's settings as Environment=, install steps as packaged.
  const unitSource = readFileSync(join(root, "deploy/gopsd.service"), "utf8");
  if (!/^ExecStart=\/usr\/local\/bin\/gopsd /m.test(unitSource) || !/^# Install:\n(#.*\n)*?#\n/m.test(unitSource)) {
    fail("release: deploy/gopsd.service has no 'ExecStart=/usr/local/bin/gopsd ' line or '# Install:' paragraph to rewrite");
  }
  const unit = unitSource
    .replace(
      /^# Install:\n(#.*\n)*?#\n/m,
      "# Installed by the gopsd package (the gopsd user and group, /etc/gopsd/gopsd.yaml): edit the config, then\n#   systemctl enable --now gopsd\n#\n",
    )
    .replace(
      /^ExecStart=\/usr\/local\/bin\/gopsd (.*)$/m,
      `ExecStart=/usr/sbin/gopsd $1\n# The settings of the npm bin's shebang, for the single executable.\n${Object.entries(GOPSD_RUNTIME_ENV).map(([k, v]) => `Environment=${k}=${v}`).join("\n")}`,
    );
  writeTree(dir, {
    "lib/systemd/system/gopsd.service": unit,
    "etc/gopsd/gopsd.yaml": defaultConfig("gopsd package"),
    "usr/share/doc/gopsd/copyright": debCopyright(),
    "usr/share/doc/gopsd/examples/gopsd.yaml": readFileSync(join(root, "examples/gopsd.yaml"), "utf8"),
    "usr/share/doc/gopsd/README.md": readFileSync(join(root, "README.md"), "utf8"),
    // The single executable is not stripped after the blob is in (strip would drop it), and holds V8's code cache.
    "usr/share/lintian/overrides/gopsd": [
      "# A Node.js single executable application: node, stripped before the application was injected as an ELF note.",
      "gopsd: unstripped-binary-or-object [usr/lib/gopsd/gopsd]",
      "gopsd: embedded-library * [usr/lib/gopsd/gopsd]",
      "gopsd: no-manual-page [usr/sbin/gopsd]",
      "# Node.js's official x64 build, which the executable is, is not position-independent.",
      "gopsd: hardening-no-pie [usr/lib/gopsd/gopsd]",
      "",
    ].join("\n"),
  });
  writeGz(join(dir, "usr/share/doc/gopsd/changelog.gz"), `gopsd (${version}) unstable; urgency=medium\n\n  * Release ${version}; see the project's git history.\n\n -- gopsctl maintainers <gopsctl@users.noreply.github.com>  ${new Date(epoch * 1000).toUTCString().replace(/GMT$/, "+0000")}\n`);
  const installedKb = Math.ceil(duBytes(dir) / 1024);
  writeTree(join(dir, "DEBIAN"), {
    control: [
      "Package: gopsd",
      `Version: ${version}`,
      "Architecture: amd64",
      "Maintainer: gopsctl maintainers <gopsctl@users.noreply.github.com>",
      `Installed-Size: ${installedKb}`,
      // Node 20 binary: GLIBC_2.28 and GLIBCXX_3.4.21 (GCC 5) at most; adduser for the system user. The relay into
      // containers' network namespaces uses util-linux (nsenter) and bash, which are Essential.
      "Depends: libc6 (>= 2.28), libstdc++6 (>= 5), libgcc-s1, adduser",
      "Section: admin",
      "Priority: optional",
      "Homepage: https://github.com/gopsctl/gopsctl",
      "Description: authenticated remote diagnostics for Go processes (gops agents)",
      " gopsd serves the gops agents and net/http/pprof endpoints of the Go programs on",
      " this host over gRPC, with TLS, token authentication and an audit log. Use it",
      " with the gopsctl CLI. The default configuration serves a unix socket only.",
      "",
    ].join("\n"),
    conffiles: "/etc/gopsd/gopsd.yaml\n",
    // No unit is enabled or started: the admin does that after configuring gopsd.
    postinst: `#!/bin/sh
set -e
if [ "$1" = configure ]; then
  # The unit's User= and Group=: a system user with no home and no shell.
  if ! getent passwd gopsd >/dev/null; then
    adduser --system --group --no-create-home --home /nonexistent --quiet gopsd
  fi
  # Tell systemd about the (new or changed) unit; it is not enabled or started: systemctl enable --now gopsd.
  if [ -d /run/systemd/system ]; then
    systemctl --system daemon-reload >/dev/null || true
  fi
fi
`,
    postrm: `#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then
  systemctl --system daemon-reload >/dev/null || true
fi
if [ "$1" = purge ]; then
  rm -rf /var/log/gopsd
fi
`,
  });
  chmodSync(join(dir, "DEBIAN/postinst"), 0o755);
  chmodSync(join(dir, "DEBIAN/postrm"), 0o755);
  touchTree(dir);
  const deb = join(out, `${name}.deb`);
  // gzip: xz makes it ~30% smaller (22 MB) for ~5x the CPU time (over a minute here).
  run("dpkg-deb", ["--root-owner-group", "-Zgzip", "-z9", "--build", dir, deb], { env: { ...process.env, SOURCE_DATE_EPOCH: String(epoch) } });
  log(`${basename(deb)}: built`);
}

function debCopyright() {
  return `Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: gopsctl
Source: https://github.com/gopsctl/gopsctl

Files: *
Copyright: 2026 gopsctl authors
License: Apache-2.0

Files: usr/lib/gopsd/gopsd
Copyright: 2026 gopsctl authors; Node.js contributors and the authors of its bundled dependencies; the authors of the
 npm packages bundled into gopsd (see the package-lock.json of the gopsctl source)
License: Apache-2.0 and MIT and others
 gopsd is a Node.js ${process.version} single executable application: the node binary (MIT; its bundled
 libraries under their own licenses, see https://github.com/nodejs/node/blob/main/LICENSE) with gopsd's
 JavaScript bundle (Apache-2.0 and the MIT, ISC and Apache-2.0 licenses of the npm packages in it).

License: Apache-2.0
 On Debian systems, the complete text of the Apache License, Version 2.0 is in
 /usr/share/common-licenses/Apache-2.0.
`;
}

function ociImage() {
  const extracted = join(work, "debian-root");
  const image = join(work, "image-root");
  // The packages' files, extracted (not installed: no maintainer scripts run, nothing else is needed).
  run("mmdebstrap", ["--quiet", "--variant=extract", `--include=${IMAGE_PACKAGES.join(",")}`, DEBIAN_SUITE, extracted]);
  // Only what gopsd and its relay load: the ELF closure of gopsd and the tools, in a merged-/usr layout.
  const libDirs = ["lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu"];
  const files = new Map(); // path in the image (under usr/) -> file in the extracted root
  const need = (elf) => {
    const deps = run("readelf", ["--dynamic", "--wide", elf]).stdout.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g);
    for (const [, soname] of deps) {
      if (files.has(`usr/lib/x86_64-linux-gnu/${soname}`)) continue;
      const dir = libDirs.find((d) => existsSync(join(extracted, d, soname)));
      if (dir === undefined) fail(`release: ${soname} (needed by ${relative(root, elf)}) is in none of ${IMAGE_PACKAGES.join(", ")}`);
      const file = realFile(extracted, join(dir, soname));
      files.set(`usr/lib/x86_64-linux-gnu/${soname}`, file);
      need(file);
    }
  };
  need(join(out, "gopsd-linux-x64"));
  for (const tool of IMAGE_TOOLS) {
    const file = realFile(extracted, tool.slice(1));
    files.set(`usr/bin/${basename(tool)}`, file);
    need(file);
  }
  mkdirSync(image, { recursive: true });
  for (const [to, from] of files) {
    mkdirSync(dirname(join(image, to)), { recursive: true });
    copyFileSync(from, join(image, to));
    chmodSync(join(image, to), statSync(from).mode & 0o7777);
  }
  // Merged /usr: /bin, /lib, /lib64 (the ELF interpreter's /lib64/ld-linux-x86-64.so.2) and /sbin are links.
  mkdirSync(join(image, "usr/lib64"), { recursive: true });
  symlinkSync("../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", join(image, "usr/lib64/ld-linux-x86-64.so.2"));
  mkdirSync(join(image, "usr/sbin"), { recursive: true });
  for (const d of ["bin", "lib", "lib64", "sbin"]) symlinkSync(`usr/${d}`, join(image, d));
  installGopsd(image, "usr/bin");
  // CA certificates as update-ca-certificates would bundle them (the package's maintainer script did not run).
  const mozilla = join(extracted, "usr/share/ca-certificates/mozilla");
  const bundle = readdirSync(mozilla)
    .filter((f) => f.endsWith(".crt"))
    .sort()
    .map((f) => readFileSync(join(mozilla, f), "utf8").trimEnd() + "\n")
    .join("");
  // The license notices of the Debian packages the files came from (GPL for bash, coreutils and util-linux).
  const docs = {};
  for (const p of readdirSync(join(extracted, "usr/share/doc"))) {
    const c = join(extracted, "usr/share/doc", p, "copyright");
    if (existsSync(c)) docs[`usr/share/doc/${p}/copyright`] = readFileSync(c);
  }
  writeTree(image, {
    "etc/ssl/certs/ca-certificates.crt": bundle,
    "etc/passwd": "root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
    "etc/group": "root:x:0:\nnogroup:x:65534:\n",
    "etc/gopsd/gopsd.yaml": defaultConfig("gopsd image"),
    "usr/share/doc/gopsd/copyright": debCopyright(),
    "usr/share/doc/gopsd/examples/gopsd.yaml": readFileSync(join(root, "examples/gopsd.yaml"), "utf8"),
    ...docs,
  });
  for (const d of ["proc", "sys", "dev", "root", "run/gopsd", "tmp", "host"]) mkdirSync(join(image, d), { recursive: true });
  chmodSync(join(image, "tmp"), 0o1777);
  chmodSync(join(image, "root"), 0o700);
  touchTree(image);

  // One layer by umoci (no daemon, no registry), then the image's configuration.
  const layout = join(work, "oci");
  const tag = IMAGE_REF.split(":").pop();
  run("umoci", ["init", "--layout", layout]);
  run("umoci", ["new", "--image", `${layout}:${tag}`]);
  // unpack (of the empty image) + repack: umoci 0.4.7's `insert` writes a layer whose tar stream ends early.
  const unpacked = join(work, "oci-bundle");
  run("umoci", ["unpack", "--image", `${layout}:${tag}`, unpacked]);
  run("cp", ["-a", `${image}/.`, join(unpacked, "rootfs")]);
  run("umoci", ["repack", "--image", `${layout}:${tag}`, "--history.created_by", `gopsctl scripts/release.mjs (files of Debian ${DEBIAN_SUITE} packages: ${IMAGE_PACKAGES.join(" ")})`, unpacked]);
  const created = new Date(epoch * 1000).toISOString();
  run("umoci", [
    "config",
    "--image",
    `${layout}:${tag}`,
    "--created",
    created,
    "--author",
    "gopsctl",
    "--architecture",
    "amd64",
    "--os",
    "linux",
    "--config.entrypoint",
    "/usr/bin/gopsd",
    "--config.cmd",
    "--config",
    "--config.cmd",
    "/etc/gopsd/gopsd.yaml",
    "--config.env",
    "PATH=/usr/sbin:/usr/bin",
    ...Object.entries(GOPSD_RUNTIME_ENV).flatMap(([k, v]) => ["--config.env", `${k}=${v}`]),
    "--config.user",
    "0:0",
    "--config.workingdir",
    "/",
    "--config.label",
    `org.opencontainers.image.version=${version}`,
    "--config.label",
    "org.opencontainers.image.title=gopsd",
    "--config.label",
    "org.opencontainers.image.licenses=Apache-2.0",
    "--config.stopsignal",
    "SIGTERM",
  ]);
  run("umoci", ["gc", "--layout", layout]);
  // The image's name: the full reference for podman and skopeo (org.opencontainers.image.ref.name) and docker load
  // (io.containerd.image.name), in place of umoci's tag.
  const indexPath = join(layout, "index.json");
  const index = JSON.parse(readFileSync(indexPath, "utf8"));
  if (index.manifests.length !== 1) fail(`release: the OCI layout has ${index.manifests.length} manifests, not 1`);
  index.manifests[0].annotations = { "org.opencontainers.image.ref.name": IMAGE_REF, "io.containerd.image.name": IMAGE_REF };
  writeFileSync(indexPath, JSON.stringify(index));
  touchTree(layout);
  const archive = join(out, `gopsd-${version}-oci.tar`);
  run("tar", ["--sort=name", `--mtime=@${epoch}`, "--owner=0", "--group=0", "--numeric-owner", "-C", layout, "-cf", archive, "oci-layout", "index.json", "blobs"]);
  log(`${basename(archive)}: ${IMAGE_REF}, ${files.size} files from Debian packages + gopsd${natives.length > 0 ? ` + ${natives.join(", ")}` : ""}`);
}

function npmPack() {
  // dist/ is built (npm run release built it): no prepare run again.
  const r = run("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", out]);
  const [{ filename, entryCount }] = JSON.parse(r.stdout);
  log(`${filename}: npm pack, ${entryCount} files`);
}

function sums() {
  const lines = readdirSync(out)
    .filter((f) => f !== "SHA256SUMS")
    .sort()
    .map((f) => `${createHash("sha256").update(readFileSync(join(out, f))).digest("hex")}  ${f}\n`);
  writeFileSync(join(out, "SHA256SUMS"), lines.join(""));
}

// ---------------------------------------------------------------------------------------------------------------

/** A path inside `base` with its symlinks followed inside `base` (an extracted root's absolute links too). */
function realFile(base, rel) {
  let p = join(base, rel);
  for (let hops = 0; lstatSync(p).isSymbolicLink(); hops++) {
    if (hops > 16) fail(`release: too many links at ${rel}`);
    const target = readlinkSync(p);
    p = target.startsWith("/") ? join(base, target) : join(dirname(p), target);
  }
  return p;
}

function writeTree(dir, files) {
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), content);
  }
}

function writeGz(path, text) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, gzipSync(text, { level: 9 }));
}

/** Every file's and directory's time set to the commit's (reproducible archives), modes as written. */
function touchTree(dir) {
  run("find", [dir, "-exec", "touch", "--no-dereference", `--date=@${epoch}`, "{}", "+"]);
}

function duBytes(dir) {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) n += statSync(join(e.parentPath ?? e.path, e.name)).size;
  return n;
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, encoding: "utf8", maxBuffer: 64 << 20, env: opts.env ?? process.env });
  if (!opts.allowFail && (r.error !== undefined || r.status !== 0)) {
    fail(`release: ${cmd} ${args.join(" ")} failed (${r.error?.message ?? `exit ${r.status}`}):\n${`${r.stdout ?? ""}${r.stderr ?? ""}`.trim().split("\n").slice(-20).join("\n")}`);
  }
  return r;
}

function log(line) {
  console.log(`release: ${line}`);
}

function fail(message) {
  console.error(message);
  process.exit(1);
}
