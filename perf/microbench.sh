#!/usr/bin/env bash
# Runs one Google Benchmark binary natively, then under `runsc do`, and
# prints one row per benchmark: native time, sandboxed time, ratio. Called
# by perf/run.sh.
#   perf/microbench.sh RUNSC PLATFORM BINARY FILTER MIN_TIME REPETITIONS
# With more than one repetition each time is the median of the repetitions.
set -euo pipefail
runsc=$1 platform=$2 bench=$(realpath "$3") filter=$4 min_time=$5 reps=$6
log=$(mktemp /tmp/runsc-perf-log.XXXXXX)
trap 'rm -f "$log"' EXIT

# "name time_ns" lines from the CSV report (wall time, the real_time
# column). A benchmark that reported an error gets "error" instead.
measure() {
  local flags=(--benchmark_filter="$filter" --benchmark_min_time="$min_time"
               --benchmark_format=csv)
  ((reps > 1)) && flags+=(--benchmark_repetitions="$reps"
                          --benchmark_report_aggregates_only=true)
  # A hung sandbox must not hang the report: give each binary 15 minutes.
  if ! timeout -k 10 900 "$@" "${flags[@]}" 2>"$log" | parse; then
    echo "$(basename "$bench"): failed: $*" >&2
    tail -5 "$log" >&2
  fi
}

# Keeps the median rows (or the only rows, with one repetition) and gives
# each a short name: BM_X/iterations:40/real_time_median -> X.
parse() {
  awk -F, -v reps="$reps" '
    NR == 1 || $1 !~ /^"/ { next }
    { name = $1; gsub(/"/, "", name) }
    reps > 1 && name !~ /_median$/ { next }
    {
      sub(/_median$/, "", name)
      gsub(/\/(real_time|iterations:[0-9]+)/, "", name)
      sub(/^BM_/, "", name)
      scale["ns"] = 1; scale["us"] = 1e3; scale["ms"] = 1e6; scale["s"] = 1e9
      if ($9 == "true") print name, "error"
      else print name, $3 * scale[$5]
    }'
}

native=$(measure "$bench")
sandboxed=$(measure "$runsc" do --platform="$platform" -- "$bench")

# One row per benchmark, in the binary's order, times in a readable unit.
awk '
  function t(ns) {
    if (ns == "") return "missing"
    if (ns == "error") return ns
    if (ns >= 1e6) return sprintf("%.2f ms", ns / 1e6)
    if (ns >= 1e3) return sprintf("%.1f us", ns / 1e3)
    return sprintf("%.0f ns", ns)
  }
  NR == FNR { sandboxed[$1] = $2; next }
  NF == 0 { next }
  {
    s = sandboxed[$1]
    ratio = "-"
    if ($2 != "error" && s != "" && s != "error")
      ratio = sprintf("%.1fx", s / $2)
    printf "%-26s %12s %12s %8s\n", $1, t($2), t(s), ratio
  }' <(echo "$sandboxed") <(echo "$native")
