#!/usr/bin/env bash
# Checks the Debian packages the tests need: golang-go (/usr/bin/go, go1.19 or newer),
# openssh-server (/usr/sbin/sshd), openssh-client (ssh-keygen), openssl (the CLI the security tests make
# certificates with), tmux (the terminal the top test drives), chromium (/usr/bin/chromium, for the flame graph browser test),
# protobuf-compiler, protobuf-compiler-grpc, python3-grpcio and python3-protobuf (the independent Python client of the API test). As root it installs the
# missing ones; otherwise it names them with the install command and exits 1.
set -euo pipefail

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
  echo "${missing[*]}"
}

missing=$(missing_packages)
[[ -z $missing ]] && exit 0

if (( EUID != 0 )); then
  echo "missing test prerequisites: $missing; install them with: sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing" >&2
  exit 1
fi

echo "ensure-prereqs: installing $missing" >&2
apt-get update
# shellcheck disable=SC2086 # one word per package
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing

missing=$(missing_packages)
if [[ -n $missing ]]; then
  echo "ensure-prereqs: still missing after apt-get install: $missing (golang-go must provide go1.19 or newer at /usr/bin/go)" >&2
  exit 1
fi
