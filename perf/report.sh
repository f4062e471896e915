#!/usr/bin/env bash
# The performance report: every benchmark natively, under runc, under our
# runsc with the ptrace and the systrap platform, and under Debian's gVisor
# (its `runsc` package) when it is installed, side by side in one run.
# Writes OUT/report.md (medians, ratios against native, load, date, git
# commit) and OUT/report.png (a bar chart of the ratios); the full mode
# with the default OUT (perf/results) also copies the report into
# docs/perf.md.
#   perf/report.sh [--quick] [--build-dir=build] [--out=DIR]
#                  [--configs=native,runc,ptrace,systrap,gvisor]
#                  [--rounds=N] [--min-time=S] [--inputs=DIR]
# Configurations (--configs, in this order of columns): native; runc;
# ptrace and systrap (ours, build/runsc/runsc, systrap without syscall
# patching, its default); systrap-patch (ours, --systrap-patch=true; not
# in the default list); gvisor (/usr/bin/runsc --platform=ptrace).
# Full: 3 interleaved rounds; in each, every microbenchmark binary runs
# once per configuration (0.5 s per benchmark) and every workload once per
# configuration; each figure is the median of the rounds. --quick: one
# round of 0.1 s, written to perf/results/quick (not committed).
# --inputs=DIR keeps the workloads' inputs (perf/report_inputs.sh, a few
# minutes on a loaded VM) in DIR for the next run instead of a temporary
# directory.
# Needs gnuplot for the chart (scripts/install-deps.sh --perf); runc and
# Debian's runsc are optional columns (n/a, with the reason, without them).
set -euo pipefail
cd "$(dirname "$0")/.."
tree=$PWD
args="$*"
build=build out="" rounds=3 min_time=0.5 quick=0 inputs=""
configs=native,runc,ptrace,systrap,gvisor
for a in "$@"; do
  case "$a" in
    --quick) quick=1 rounds=1 min_time=0.1 ;;
    --build-dir=*) build=${a#*=} ;;
    --out=*) out=${a#*=} ;;
    --configs=*) configs=${a#*=} ;;
    --rounds=*) rounds=${a#*=} ;;
    --min-time=*) min_time=${a#*=} ;;
    --inputs=*) inputs=${a#*=} ;;
    *) echo "usage: see the top of $0" >&2; exit 2 ;;
  esac
done
IFS=, read -r -a configs <<<"$configs"
# A quick run does not overwrite the full report (which is committed).
if [[ -z $out ]]; then
  out=perf/results
  ((!quick)) || out=perf/results/quick
fi
benches=(syscall_bench process_bench fs_bench mm_bench)
# Ours, by absolute path: never a runsc found on PATH, which may be
# Debian's gVisor (/usr/bin/runsc).
bdir=$(realpath "$build")
runsc=$(realpath -e "$bdir/runsc/runsc") ||
  { echo "build first: scripts/build.sh" >&2; exit 1; }
gvisor=/usr/bin/runsc
[[ $runsc != "$gvisor" ]] || { echo "$runsc is not ours" >&2; exit 1; }
for b in "${benches[@]}"; do
  [[ -x $build/perf/$b ]] ||
    { echo "build first: ninja -C $build ${benches[*]}" >&2; exit 1; }
done
command -v gnuplot >/dev/null ||
  { echo "no gnuplot: scripts/install-deps.sh --perf" >&2; exit 1; }

work=$(mktemp -d /var/tmp/runsc-report.XXXXXX)
# Natively the workloads write to a tmpfs, as they do in runc's container
# (a tmpfs /tmp) and in the sandboxes (their /tmp is in memory).
shm=$(mktemp -d /dev/shm/runsc-report.XXXXXX)
trap 'rm -rf "$work" "$shm"' EXIT
if [[ -z $inputs ]]; then
  inputs=$work/inputs
elif [[ -d $inputs ]]; then
  inputs=$(realpath "$inputs")
fi
if [[ ! -f $inputs/done ]]; then
  # Never delete a directory it did not make: an unfinished one is an error.
  if [[ -d $inputs && -n $(ls -A "$inputs") ]]; then
    echo "$inputs: not empty and not made by perf/report_inputs.sh" >&2
    exit 1
  fi
  echo "# making the workloads' inputs in $inputs"
  mkdir -p "$inputs" && inputs=$(realpath "$inputs")
  perf/report_inputs.sh "$inputs" && touch "$inputs/done"
fi
data=$work/data
mkdir "$data"

# --- the configurations -------------------------------------------------
# Why a configuration cannot run, when it cannot ($why[config]).
declare -A why=()

# runc: a bundle whose root is an empty directory with the host's /usr and
# /etc (and the tree, the build and the inputs, at their own paths) bound
# read-only, a
# tmpfs /tmp, and the usual /proc and /dev; its state under $work.
bundle=$work/bundle
runc_state=$work/runc-state
runc_n=0
setup_runc() {
  command -v runc >/dev/null || { why[runc]="runc is not installed"; return; }
  local root=$bundle/rootfs
  mkdir -p "$root"/{usr,etc,tmp,proc,dev,sys} "$root$tree" "$root$inputs" \
    "$root$bdir"
  for l in bin lib lib64 sbin; do ln -s "usr/$l" "$root/$l"; done
  (cd "$bundle" && runc spec)
  jq --arg tree "$tree" --arg inputs "$inputs" --arg bdir "$bdir" \
     --arg path "$PATH" '
    .process.terminal = false | .root.readonly = true |
    .process.cwd = $tree |
    .process.env = ["PATH=" + $path, "HOME=/root", "RUNSC_PERF_SCRATCH=/tmp",
                    "RUNSC_PERF_BIGFILE=" + $inputs + "/bigfile"] |
    .process.rlimits = [] |
    .mounts += [
      {destination: "/usr", type: "bind", source: "/usr",
       options: ["rbind", "ro"]},
      {destination: "/etc", type: "bind", source: "/etc",
       options: ["rbind", "ro"]},
      {destination: $tree, type: "bind", source: $tree,
       options: ["rbind", "ro"]},
      {destination: $bdir, type: "bind", source: $bdir,
       options: ["rbind", "ro"]},
      {destination: $inputs, type: "bind", source: $inputs,
       options: ["rbind", "ro"]},
      {destination: "/tmp", type: "tmpfs", source: "tmpfs",
       options: ["nosuid", "nodev", "mode=1777"]}]' \
    "$bundle/config.json" >"$bundle/config.tmpl"
  launch runc /bin/true
  if ! "${argv[@]}" >"$work/probe.out" 2>&1; then
    why[runc]="\`runc run\` failed here: $(tail -1 "$work/probe.out")"
  fi
}

setup_gvisor() {
  if [[ ! -x $gvisor ]] || ! dpkg -S "$gvisor" 2>/dev/null | grep -q '^runsc:'
  then
    why[gvisor]="Debian's runsc package is not installed"
    return
  fi
  launch gvisor /bin/true
  if ! "${argv[@]}" >"$work/probe.out" 2>&1; then
    why[gvisor]="\`runsc do\` failed here: $(tail -1 "$work/probe.out")"
  fi
}

# Sets argv to the command line that runs "$@" in configuration $1 (for
# runc, after writing the bundle's config, outside any timing) and scratch
# to the directory that command writes to.
launch() {
  local c=$1
  shift
  scratch=/tmp
  case $c in
    native) argv=("$@") scratch=$shm ;;
    runc)
      /usr/bin/python3 -c 'import json, sys
c = json.load(sys.stdin); c["process"]["args"] = sys.argv[1:]
json.dump(c, sys.stdout)' "$@" <"$bundle/config.tmpl" >"$bundle/config.json"
      argv=(runc --root "$runc_state" run --bundle "$bundle"
            "report-$$-$((++runc_n))") ;;
    ptrace) argv=("$runsc" "do" --platform=ptrace -- "$@") ;;
    systrap)
      argv=("$runsc" "do" --platform=systrap --systrap-patch=false -- "$@") ;;
    systrap-patch)
      argv=("$runsc" "do" --platform=systrap --systrap-patch=true -- "$@") ;;
    gvisor)
      argv=("$gvisor" --platform=ptrace --network=none --ignore-cgroups "do"
            -- "$@") ;;
    *) echo "unknown configuration $c" >&2; exit 2 ;;
  esac
}

for c in "${configs[@]}"; do
  case $c in
    runc) setup_runc ;;
    gvisor) setup_gvisor ;;
    *) launch "$c" /bin/true ;;  # rejects an unknown name now
  esac
done
run_configs=()
for c in "${configs[@]}"; do [[ -v why[$c] ]] || run_configs+=("$c"); done

load() { cut -d' ' -f1 /proc/loadavg; }
start_date=$(date -u '+%F %H:%M UTC') load_start=$(load)
echo "# $start_date, $(nproc) CPUs, load average $load_start;" \
     "configurations: ${run_configs[*]}"

# --- microbenchmarks ----------------------------------------------------
# Every command runs in a session of its own (setsid): with the kernel's
# autogroup scheduling (on here) a session is a CPU-share group, and runc
# starts its container in a session of its own, so a native run left in
# this script's session (with whatever else it runs) would get a smaller
# share of a loaded VM than runc's (measured at load 15, with
# a build in this session: getppid 16-20 us of wall time natively, 4.4 us
# under setsid; runc's at 0.3-0.4x native before this).
# "name ns" per benchmark of a Google Benchmark CSV report (wall time, the
# real_time column); "name failed" for one that reported an error.
parse_csv() {
  awk -F, 'NR > 1 && $1 ~ /^"/ {
    n = $1; gsub(/"/, "", n); gsub(/\/(real_time|iterations:[0-9]+)/, "", n)
    sub(/^BM_/, "", n)
    s["ns"] = 1; s["us"] = 1e3; s["ms"] = 1e6; s["s"] = 1e9
    print n, ($9 == "true" ? "failed" : $3 * s[$5]) }'
}

for ((r = 1; r <= rounds; r++)); do
  for b in "${benches[@]}"; do
    echo "# round $r/$rounds: $b (load $(load))"
    # The configurations take turns, so a change of load hits all alike.
    for c in "${run_configs[@]}"; do
      launch "$c" "$bdir/perf/$b" --benchmark_format=csv \
        --benchmark_min_time="$min_time"
      # A hung sandbox must not hang the report: 15 minutes per binary.
      if ! RUNSC_PERF_SCRATCH=$scratch RUNSC_PERF_BIGFILE=$inputs/bigfile \
           setsid -w timeout -k 10 900 "${argv[@]}" 2>"$work/err" | parse_csv |
           sed "s/^/$c /" >>"$data/micro"; then
        echo "$c: $b failed: $(tail -1 "$work/err")" | tee -a "$data/errors"
      fi
    done
  done
done
load_micro=$(load)

# --- workloads ----------------------------------------------------------
workloads=(true python gcc make sqlite tar bash git)
pipeline='for i in $(seq 1 200); do echo $i; done | sort -n | tail -1'
# Sets cmd to workload $1's command, writing to $scratch. Programs by full
# path: a python3 on PATH may be a wrapper (pyenv's shim forks ~40
# processes first).
set_cmd() {
  local s=$scratch
  case $1 in
    true) cmd=(/bin/true) ;;
    python) cmd=(/usr/bin/python3 -c pass) ;;
    gcc) cmd=(/usr/bin/gcc -O2 "$tree/perf/hello.c" -o "$s/hello") ;;
    make) cmd=(/bin/sh -c "mkdir $s/make && make -s -j2 -f \
$inputs/make/Makefile OUT=$s/make && $s/make/prog") ;;
    sqlite) cmd=(/bin/sh -c "/usr/bin/sqlite3 $s/db <$inputs/insert.sql") ;;
    tar) cmd=(/bin/sh -c "mkdir $s/untar && tar xzf $inputs/data.tgz -C \
$s/untar && find $s/untar | wc -l") ;;
    bash) cmd=(/bin/bash -c "$pipeline") ;;
    git) cmd=(/usr/bin/git -C "$inputs/repo" status --porcelain) ;;
  esac
}

for ((r = 1; r <= rounds; r++)); do
  echo "# round $r/$rounds: workloads (load $(load))"
  for w in "${workloads[@]}"; do
    for c in "${run_configs[@]}"; do
      launch "$c" true  # sets scratch
      set_cmd "$w"
      launch "$c" "${cmd[@]}"
      o=$work/out.$c.$w
      t0=${EPOCHREALTIME//[.,]/}
      # The timeout (~1 ms) keeps a hung sandbox from hanging the report.
      if setsid -w timeout -k 5 600 "${argv[@]}" >"$o" 2>"$work/err"; then
        t1=${EPOCHREALTIME//[.,]/}
        echo "$c $w $(((t1 - t0) * 1000))" >>"$data/work"
      else
        echo "$c $w failed" >>"$data/work"
        echo "$c: $w failed: $(tail -1 "$work/err")" | tee -a "$data/errors"
      fi
      rm -rf "${shm:?}"/*  # the native side's output, untimed
    done
  done
done
# Workloads whose output differs from the native one's (last round).
for w in "${workloads[@]}"; do
  for c in "${run_configs[@]}"; do
    [[ $c == native ]] && continue
    grep -q "^$c $w failed" "$data/work" && continue
    cmp -s "$work/out.native.$w" "$work/out.$c.$w" ||
      echo "$c: $w: output differs from native" >>"$data/errors"
  done
done

# --- the report ---------------------------------------------------------
mkdir -p "$out"
{
  echo "mode=$( ((quick)) && echo quick || echo full)"
  echo "args=${args:+ $args}"
  echo "rounds=$rounds"
  echo "min_time=$min_time"
  echo "date=$start_date"
  echo "end=$(date -u '+%H:%M UTC')"
  echo "load=$load_start $load_micro $(load)"
  echo "commit=$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . ||
                                               echo ' (with uncommitted changes)')"
  echo "host=$(uname -r), $(nproc) CPUs"
  echo "tarball=$(du -m "$inputs/data.tgz" | cut -f1) MB"
  for c in "${configs[@]}"; do
    [[ -v why[$c] ]] && echo "na=$c ${why[$c]}"
  done
  echo "configs=${configs[*]}"
} >"$data/meta"
touch "$data/errors" "$data/micro" "$data/work"
perf/report_render.sh "$data" "$out"
echo "# wrote $out/report.md and $out/report.png"
if [[ $out == perf/results ]]; then
  perf/report_render.sh --splice "$out/report.md" docs/perf.md
  echo "# copied the report into docs/perf.md"
fi
