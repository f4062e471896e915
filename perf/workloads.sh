#!/usr/bin/env bash
# Wall times of whole programs natively and under `runsc do` (so the
# sandboxed time includes the sandbox's start-up), and the ratio of the
# medians. Native and sandboxed runs alternate so both see the same load.
# Called by perf/run.sh from the top of the tree.
#   perf/workloads.sh RUNSC PLATFORM RUNS
set -euo pipefail
runsc=$1 platform=$2 runs=$3

out=$(mktemp -d /tmp/runsc-perf.XXXXXX)
# gcc writes its output to /tmp: the host's natively, the sandbox's own
# tmpfs sandboxed. The source is read from the tree, which the sandbox sees
# read-only.
hello=/tmp/runsc-perf-hello.$$
trap 'rm -rf "$out" "$hello"' EXIT
pipeline='for i in $(seq 1 200); do echo $i; done | sort -n | tail -1'

labels=("/bin/true" "python3 -c pass" "gcc -O2 hello.c -o /tmp/x"
        "bash: seq 1 200 | sort -n | tail -1")
# Sets `cmd` to the command of workload $1 (an index into labels). The
# system's programs by full path: a python3 found on PATH may be a wrapper
# script (pyenv's shim forks some 40 processes before python starts).
set_cmd() {
  case $1 in
    0) cmd=(/bin/true) ;;
    1) cmd=(/usr/bin/python3 -c pass) ;;
    2) cmd=(/usr/bin/gcc -O2 "$PWD/perf/hello.c" -o "$hello") ;;
    3) cmd=(/bin/bash -c "$pipeline") ;;
  esac
}

# Prints the wall time of "$@" in microseconds, or "failed". Its stdout is
# kept in $out/$side.stdout to compare the two sides.
timed() {
  local side=$1 t0 t1
  shift
  t0=${EPOCHREALTIME//[.,]/}
  if ! "$@" >"$out/$side.stdout" 2>"$out/$side.stderr"; then
    echo failed
    return
  fi
  t1=${EPOCHREALTIME//[.,]/}
  echo $((t1 - t0))
}

# "median min max" in ms of the numbers on stdin, or "failed" if any is.
summary() {
  sort -n | awk '
    $1 == "failed" { failed = 1 }
    { t[NR] = $1 / 1000 }
    END {
      if (failed || NR == 0) { print "failed"; exit }
      m = NR % 2 ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2
      printf "%.1f %.1f %.1f\n", m, t[1], t[NR]
    }'
}

printf "%-36s %22s %22s %7s\n" workload "native ms" "$platform ms" ratio
for i in "${!labels[@]}"; do
  set_cmd "$i"
  native=() sandboxed=()
  for ((r = 0; r < runs; r++)); do
    native+=("$(timed native "${cmd[@]}")")
    # The timeout (which costs the sandboxed side a little) keeps a hung
    # sandbox from hanging the report.
    sandboxed+=("$(timed sandboxed timeout -k 5 300 \
                   "$runsc" do --platform="$platform" -- "${cmd[@]}")")
  done
  read -r n nmin nmax < <(printf "%s\n" "${native[@]}" | summary)
  read -r s smin smax < <(printf "%s\n" "${sandboxed[@]}" | summary)
  note=""
  cmp -s "$out/native.stdout" "$out/sandboxed.stdout" ||
    note=" (output differs)"
  if [[ $n == failed || $s == failed ]]; then
    printf "%-36s %22s %22s %7s%s\n" "${labels[$i]}" \
      "$n" "$s" - "$note"
    if [[ $s == failed ]]; then tail -3 "$out/sandboxed.stderr" >&2; fi
  else
    ratio=$(awk -v n="$n" -v s="$s" 'BEGIN { print (n > 0 ? s / n : 0) }')
    printf "%-36s %22s %22s %6.1fx%s\n" "${labels[$i]}" \
      "$n ($nmin-$nmax)" "$s ($smin-$smax)" "$ratio" "$note"
  fi
done
