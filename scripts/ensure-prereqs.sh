#!/usr/bin/env bash
# Checks what npm test needs, and stops with ONE line naming what is missing:
# - root: the tests start processes as uid 65534, and create cgroups and network namespaces;
# - the cgroup v1 memory and pids hierarchies (/sys/fs/cgroup/memory, /sys/fs/cgroup/pids): the hostile tests run
#   gopsd in memory cgroups, the container tests put processes in pids cgroups;
# - the Debian packages: golang-go (/usr/bin/go, go1.19 or newer), openssh-server (/usr/sbin/sshd), openssh-client
#   (ssh-keygen), openssl (the CLI the security tests make certificates with), iproute2, tmux (the terminal the top
#   test drives), chromium (/usr/bin/chromium, for the flame graph browser test) fonts-liberation, and protobuf-compiler, protobuf-compiler-grpc, python3-grpcio and python3-protobuf
#   (the independent Python client of the API test), prometheus (/usr/bin/prometheus and promtool: the
#   metrics exporter's end-to-end test scrapes gopsd with it). As root it installs the missing ones with apt-get.
set -euo pipefail

if (( EUID != 0 )); then
  echo "npm test must run as root (the tests start processes as uid 65534 and create cgroups and network namespaces); run it with sudo" >&2
  exit 1
fi

# cgroup v1 hierarchies the tests create cgroups in ("cgroupfs"; cgroup2fs is the unified v2 hierarchy).
missing_hierarchies=()
for controller in memory pids; do
  [[ $(stat -fc %T "/sys/fs/cgroup/$controller" 2>/dev/null) == cgroupfs && -w /sys/fs/cgroup/$controller ]] || missing_hierarchies+=("$controller")
done
if (( ${#missing_hierarchies[@]} > 0 )); then
  echo "npm test needs the cgroup v1 ${missing_hierarchies[*]} hierarchies, writable, at /sys/fs/cgroup/{memory,pids} (the hostile and container tests create cgroups there); this machine has not: $(stat -fc %T /sys/fs/cgroup 2>/dev/null || echo 'no /sys/fs/cgroup') at /sys/fs/cgroup" >&2
  exit 1
fi

go_ok() {
  [[ -x /usr/bin/go ]] || return 1
  local version
  version=$(/usr/bin/go env GOVERSION 2>/dev/null) || return 1
  [[ $version =~ ^go1\.([0-9]+) ]] || return 1
  (( BASH_REMATCH[1] >= 19 ))
}

missing_packages() {
  local missing=()
  go_ok || missing+=(golang-go)
  [[ -x /usr/sbin/sshd ]] || missing+=(openssh-server)
  command -v ssh-keygen >/dev/null 2>&1 || missing+=(openssh-client)
  command -v openssl >/dev/null 2>&1 || missing+=(openssl)
  # ip brings up loopback in the network namespace of the cross-namespace agent test.
  command -v ip >/dev/null 2>&1 || missing+=(iproute2)
  [[ -x /usr/bin/chromium ]] || missing+=(chromium)
  # gopsctl top is driven in a real terminal by the top end-to-end test.
  command -v tmux >/dev/null 2>&1 || missing+=(tmux)
  # Only recommended by chromium, which is installed without recommends: the flame graph needs a font to draw.
  dpkg -s fonts-liberation >/dev/null 2>&1 || missing+=(fonts-liberation)
  # The independent gRPC client of integration/python-client.e2e.test.ts: Debian's Python gRPC stack, and protoc with
  # the gRPC Python plugin that generate its stubs.
  [[ -x /usr/bin/protoc ]] || missing+=(protobuf-compiler)
  [[ -x /usr/bin/grpc_python_plugin ]] || missing+=(protobuf-compiler-grpc)
  /usr/bin/python3 -c 'import grpc' >/dev/null 2>&1 || missing+=(python3-grpcio)
  /usr/bin/python3 -c 'import google.protobuf' >/dev/null 2>&1 || missing+=(python3-protobuf)
  # A real Prometheus scrapes gopsd's metrics port in integration/metrics.e2e.test.ts (started there on loopback).
  [[ -x /usr/bin/prometheus && -x /usr/bin/promtool ]] || missing+=(prometheus)
  echo "${missing[*]}"
}

missing=$(missing_packages)
[[ -z $missing ]] && exit 0

echo "ensure-prereqs: installing $missing" >&2
# apt's own output goes to a log; a failure is one line that names the packages and the log.
log=$(mktemp /tmp/gopsctl-ensure-prereqs-XXXXXX.log)
# shellcheck disable=SC2086 # one word per package
if ! { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing; } >"$log" 2>&1; then
  echo "ensure-prereqs: could not install $missing with apt-get (see $log): $(grep -E '^(E|Err):' "$log" | head -1)" >&2
  exit 1
fi
rm -f "$log"

missing=$(missing_packages)
if [[ -n $missing ]]; then
  echo "ensure-prereqs: still missing after apt-get install: $missing (golang-go must provide go1.19 or newer at /usr/bin/go)" >&2
  exit 1
fi
