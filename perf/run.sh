#!/usr/bin/env bash
# Runs the microbenchmarks natively and under `runsc do` in one run and
# prints each one's time and the sandbox/native ratio.
#   perf/run.sh [--build-dir=build] [--platform=ptrace] [benchmark filter]
set -euo pipefail
cd "$(dirname "$0")/.."
build=build
platform=ptrace
filter=.
for a in "$@"; do
  case "$a" in
    --build-dir=*) build=${a#*=} ;;
    --platform=*) platform=${a#*=} ;;
    *) filter=$a ;;
  esac
done
bench=$build/perf/syscall_bench
runsc=$build/runsc/runsc
[[ -x $bench && -x $runsc ]] || { echo "build first: scripts/build.sh" >&2; exit 1; }

# "name time" pairs from Google Benchmark's console output (times in ns).
measure() {
  "$@" --benchmark_filter="$filter" --benchmark_min_time=1 2>/dev/null |
    awk '$1 ~ /^BM_/ && $3 == "ns" { print $1, $2 }'
}

native=$(measure "$bench")
sandboxed=$(measure "$runsc" do --platform="$platform" -- "$(realpath "$bench")")

printf "%-22s %12s %12s %8s\n" benchmark "native ns" "$platform ns" ratio
join <(sort <<<"$native") <(sort <<<"$sandboxed") |
  awk '{ printf "%-22s %12.0f %12.0f %7.1fx\n", $1, $2, $3, $3 / $2 }'
