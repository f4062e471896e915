#!/usr/bin/env bash
# Installs the Debian 12 packages the project builds and tests with.
# Idempotent: does nothing (and needs no network) when all are present.
#   scripts/install-deps.sh [--perf]
# --perf adds what perf/report.sh uses (not needed to build or test, so not
# in CI): gnuplot for its chart, runc and Debian's gVisor (`runsc`, which
# installs /usr/bin/runsc: never ours, which is build/runsc/runsc) for its
# comparison columns, jq, sqlite3.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config clang-format
  libabsl-dev libseccomp-dev libprotobuf-dev protobuf-compiler
  nlohmann-json3-dev libcli11-dev libbenchmark-dev libgtest-dev libgmock-dev
  busybox-static python3 libpython3.11-testsuite make gcc procps
)
for a in "$@"; do
  case "$a" in
    --perf) packages+=(gnuplot-nox runc runsc jq sqlite3 git) ;;
    *) echo "usage: $0 [--perf]" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then
    echo "install-deps: must run as root to install packages" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
