#!/usr/bin/env bash
# Builds and runs every test: unit tests, syscall conformance tests (each
# natively and inside the sandbox) and integration tests. Extra arguments go
# to ctest (e.g. -L sandbox, -R busybox).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
cd build
ctest --output-on-failure -j "$(nproc)" --timeout 600 "$@"
