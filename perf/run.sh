#!/usr/bin/env bash
# Measures everything natively and under `runsc do` in one run and prints
# each time and the sandbox/native ratio: every microbenchmark binary
# (perf/microbench.sh), then whole programs' wall times (perf/workloads.sh).
#   perf/run.sh [--build-dir=build] [--platform=systrap] [--quick]
#               [--micro-only | --workloads-only] [benchmark filter]
# Default: each microbenchmark runs for 1 s, 3 times, and reports the
# median; each workload runs 5 times each way, median. --quick: 0.2 s once,
# and 3 runs of each workload.
set -euo pipefail
cd "$(dirname "$0")/.."
build=build
platform=systrap
filter=.
min_time=1 reps=3 runs=5
micro=1 workloads=1
for a in "$@"; do
  case "$a" in
    --build-dir=*) build=${a#*=} ;;
    --platform=*) platform=${a#*=} ;;
    --quick) min_time=0.2 reps=1 runs=3 ;;
    --micro-only) workloads=0 ;;
    --workloads-only) micro=0 ;;
    -*) echo "unknown option $a" >&2; exit 2 ;;
    *) filter=$a ;;
  esac
done
benches=(syscall_bench process_bench fs_bench mm_bench)
runsc=$build/runsc/runsc
for b in runsc/runsc "${benches[@]/#/perf/}"; do
  [[ -x $build/$b ]] ||
    { echo "build first: scripts/build.sh ($build/$b)" >&2; exit 1; }
done

# fs_bench's large file, on the host's disk (the sandbox reads it through
# the gofer), made once.
export RUNSC_PERF_BIGFILE=/var/tmp/runsc-perf-1g
if [[ ! -f $RUNSC_PERF_BIGFILE ]]; then
  dd if=/dev/urandom of=$RUNSC_PERF_BIGFILE.tmp bs=1M count=1024 status=none
  mv $RUNSC_PERF_BIGFILE.tmp $RUNSC_PERF_BIGFILE
fi
# Into the page cache first: whichever side ran first would otherwise read
# the disk (native, 1 MiB took 8 ms cold against 0.3 ms warm).
cat $RUNSC_PERF_BIGFILE >/dev/null

echo "# $(date -u '+%F %H:%M UTC'), $(nproc) CPUs, load average:" \
     "$(cut -d' ' -f1-3 /proc/loadavg)"
if ((micro)); then
  printf "%-26s %12s %12s %8s\n" benchmark native "$platform" ratio
  for b in "${benches[@]}"; do
    perf/microbench.sh "$runsc" "$platform" "$build/perf/$b" "$filter" \
      "$min_time" "$reps"
  done
fi
if ((workloads)); then
  ((micro)) && echo
  perf/workloads.sh "$runsc" "$platform" "$runs"
  echo
  perf/memory.sh "$runsc" "$platform"
fi
echo "# done; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
