#!/usr/bin/env bash
# install-deps.sh - installs the Debian packages trailsight needs to build,
# test and benchmark, skipping those already there. Idempotent.
#   tools/install-deps.sh          build + test dependencies
#   tools/install-deps.sh --bench  also what the benchmarks use
set -euo pipefail

pkgs=(build-essential cmake pkg-config libjsmn-dev zlib1g-dev libdeflate-dev libgsl-dev
      libhiredis-dev libcurl4-openssl-dev libexpat1-dev redis-server redis-tools jq gzip python3
      clang libclang-rt-14-dev chromium python3-html5lib python3-jsonschema fonts-dejavu-core
      prometheus-alertmanager curl python3-yaml systemd util-linux)
if [ "${1:-}" = "--bench" ]; then
  pkgs+=(hyperfine gnuplot-nox time bc)
fi

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
