#!/usr/bin/env bash
# The Debian packages `npm run release` and its test (scripts/release.test.ts) need beyond the test prerequisites:
# binutils (strip, readelf), mmdebstrap (the image's Debian files), umoci (the OCI layout), lintian, systemd
# (systemd-analyze verify), util-linux (unshare, nsenter), iproute2 (ip), openssl. dpkg-deb comes with dpkg.
# As root it installs the missing ones; otherwise it names them with the install command and exits 1.
set -euo pipefail

missing_packages() {
  local missing=()
  command -v strip >/dev/null 2>&1 && command -v readelf >/dev/null 2>&1 || missing+=(binutils)
  command -v mmdebstrap >/dev/null 2>&1 || missing+=(mmdebstrap)
  command -v umoci >/dev/null 2>&1 || missing+=(umoci)
  command -v lintian >/dev/null 2>&1 || missing+=(lintian)
  command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)
  command -v unshare >/dev/null 2>&1 && command -v nsenter >/dev/null 2>&1 || missing+=(util-linux)
  command -v ip >/dev/null 2>&1 || missing+=(iproute2)
  command -v openssl >/dev/null 2>&1 || missing+=(openssl)
  echo "${missing[*]}"
}

missing=$(missing_packages)
[[ -z $missing ]] && exit 0

if (( EUID != 0 )); then
  echo "missing release prerequisites: $missing; install them with: sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing" >&2
  exit 1
fi

echo "release-prereqs: installing $missing" >&2
apt-get update
# shellcheck disable=SC2086 # one word per package
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing

missing=$(missing_packages)
if [[ -n $missing ]]; then
  echo "release-prereqs: still missing after apt-get install: $missing" >&2
  exit 1
fi
