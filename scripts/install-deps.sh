#!/usr/bin/env bash
# Installs the system packages FieldSync needs on Debian 12, if any is missing.
# Safe to run again: a no-op when everything is there. Needs root or sudo.
set -euo pipefail
PACKAGES=(libgeos-dev zlib1g-dev libsqlite3-dev pkg-config postgresql-15 postgresql-15-postgis-3 postgresql-contrib libpq-dev libssl-dev python3)
# --test adds what only the tests need: GDAL's ogrinfo checks that GeoJSON answers open as a layer;
# python3-venv and curl for scripts/schemathesis (a virtualenv of pinned PyPI packages, a real server).
if [ "${1:-}" = "--test" ]; then PACKAGES+=(gdal-bin python3-venv curl); fi
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
# Debian's postgresql-common would create and start a default cluster: not needed.
$SUDO mkdir -p /etc/postgresql-common
if [ ! -f /etc/postgresql-common/createcluster.conf ] || ! grep -q '^create_main_cluster = false' /etc/postgresql-common/createcluster.conf; then
  echo 'create_main_cluster = false' | $SUDO tee -a /etc/postgresql-common/createcluster.conf >/dev/null
fi
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
command -v swift >/dev/null || { echo "install-deps: Swift 6.1 or newer is needed on PATH (https://swift.org/install)" >&2; exit 1; }
