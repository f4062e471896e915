#!/usr/bin/env bash
# Compares the platforms in one run: a benchmark binary natively, under
# ptrace, under systrap without and with syscall patching. The four runs
# are interleaved ROUNDS times (the shared VM's load drifts from minute to
# minute) and each time is the median of the rounds.
#   perf/platforms.sh [--build-dir=build] [--rounds=5] [--min-time=0.5]
#                     [--bench=syscall_bench] [FILTER]
# FILTER defaults to the getppid benchmarks: BM_Getppid (syscall(2), a
# site systrap cannot patch) and BM_GetppidLibc (glibc's wrapper, which it
# patches).
set -euo pipefail
cd "$(dirname "$0")/.."
build=build rounds=5 min_time=0.5 bench=syscall_bench filter='Getppid'
for a in "$@"; do
  case "$a" in
    --build-dir=*) build=${a#*=} ;;
    --rounds=*) rounds=${a#*=} ;;
    --min-time=*) min_time=${a#*=} ;;
    --bench=*) bench=${a#*=} ;;
    -*) echo "unknown option $a" >&2; exit 2 ;;
    *) filter=$a ;;
  esac
done
runsc=$build/runsc/runsc binary=$build/perf/$bench
[[ -x $runsc && -x $binary ]] ||
  { echo "build first: ninja -C $build runsc $bench" >&2; exit 1; }
out=$(mktemp -d /tmp/runsc-platforms.XXXXXX)
trap 'rm -rf "$out"' EXIT

configs=(native ptrace systrap-nopatch systrap)
cmd() {
  case $1 in
    native) ;;
    ptrace) echo "$runsc do --platform=ptrace --" ;;
    systrap-nopatch) echo "$runsc do --platform=systrap --systrap-patch=false --" ;;
    systrap) echo "$runsc do --platform=systrap --systrap-patch=true --" ;;
  esac
}

echo "# $(date -u '+%F %H:%M UTC'), $(nproc) CPUs, load average:" \
     "$(cut -d' ' -f1-3 /proc/loadavg)"
for ((r = 0; r < rounds; r++)); do
  for c in "${configs[@]}"; do
    # "name ns" per benchmark (real time), appended per round.
    # shellcheck disable=SC2046
    timeout -k 10 600 $(cmd "$c") "$binary" --benchmark_filter="$filter" \
      --benchmark_min_time="$min_time" --benchmark_format=csv 2>/dev/null |
      awk -F, 'NR > 1 && $1 ~ /^"/ {
                 n = $1; gsub(/"/, "", n); sub(/^BM_/, "", n)
                 s["ns"] = 1; s["us"] = 1e3; s["ms"] = 1e6
                 print n, $3 * s[$5] }' >> "$out/$c" ||
      echo "# $c: round $r failed" >&2
  done
done

# Median per benchmark and configuration; ratios against native.
for c in "${configs[@]}"; do
  sort -k1,1 -k2,2g "$out/$c" |
    awk -v c="$c" '{ v[$1, ++n[$1]] = $2 }
      END { for (b in n) print b, c, v[b, int((n[b] + 1) / 2)] }'
done | awk '
  { t[$1, $2] = $3; names[$1] = 1 }
  function f(ns) {
    if (ns >= 1e3) return sprintf("%.2f us", ns / 1e3)
    return sprintf("%.0f ns", ns)
  }
  END {
    printf "%-16s %10s %18s %18s %18s\n", "benchmark", "native", "ptrace",
           "systrap-nopatch", "systrap"
    for (b in names) {
      n = t[b, "native"]
      printf "%-16s %10s", b, f(n)
      split("ptrace systrap-nopatch systrap", cs, " ")
      for (i = 1; i <= 3; i++) {
        v = t[b, cs[i]]
        printf " %18s", (v == "" ? "missing" : f(v) sprintf(" %5.1fx", v / n))
      }
      printf "\n"
    }
  }'
echo "# $rounds rounds of ${min_time}s; done at $(date -u '+%H:%M UTC')," \
     "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
