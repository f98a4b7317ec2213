#!/usr/bin/env bash
# Checks the Debian packages the tests need: golang-go (/usr/bin/go, go1.19 or newer),
# openssh-server (/usr/sbin/sshd), openssh-client (ssh-keygen), openssl (the CLI the security tests make
# certificates with), tmux (the terminal the top test drives), chromium (/usr/bin/chromium, for the flame graph browser test) and
# prometheus (/usr/bin/prometheus and promtool: the metrics exporter's end-to-end test scrapes gopsd with it). As root it installs the
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
  # A real Prometheus scrapes gopsd's metrics port in integration/metrics.e2e.test.ts (started there on loopback).
  [[ -x /usr/bin/prometheus && -x /usr/bin/promtool ]] || missing+=(prometheus)
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
