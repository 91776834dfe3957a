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

# tests/cli/s3.sh runs a local S3, s3rver from npm: Debian's node and npm
# when there is no node yet (a node of another origin is kept)
command -v node >/dev/null || pkgs+=(nodejs)
command -v npm >/dev/null || pkgs+=(npm)

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo=sudo
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}" >&2
  [ -z "$sudo" ] || command -v sudo >/dev/null ||
    { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# s3rver (a pinned version) under /opt/trailsight-node, where tests/cli/s3.sh
# and tests/cli/sqs.sh look for it (TS_S3RVER overrides); never into the
# repository. The SQS queue of tests/cli/sqs.sh is its own stand-in
# (tests/cli/sqsd.py, python3): npm's sqslite has no visibility timeouts,
# ignores WaitTimeSeconds and gives a whole batch one receipt handle
s3rver_version=3.7.1
node_prefix=${TS_NODE_PREFIX:-/opt/trailsight-node}
if ! [ -x "$node_prefix/node_modules/.bin/s3rver" ] ||
   [ "$(node -p "require('$node_prefix/node_modules/s3rver/package.json').version" 2>/dev/null)" != "$s3rver_version" ]; then
  echo "install-deps: installing s3rver $s3rver_version (npm) into $node_prefix" >&2
  $sudo mkdir -p "$node_prefix"
  $sudo npm install --prefix "$node_prefix" --no-audit --no-fund --loglevel=error \
    "s3rver@$s3rver_version" >/dev/null
fi
