#!/usr/bin/env bash
# Installs the build dependencies (Debian 12 packages) and builds everything
# into build/. Safe to run again: both steps are incremental.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build
