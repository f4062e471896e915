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

# A git repository of 10k small files on the host's disk (made once): the
# sandbox reads it through the gofer, and git status stats every file.
repo=/var/tmp/runsc-perf-repo
if [[ ! -d $repo/.git ]]; then
  rm -rf "$repo" && mkdir -p "$repo"
  (cd "$repo" && for d in $(seq 0 99); do
     mkdir "$d" && for f in $(seq 0 99); do echo "$d $f" >"$d/$f"; done
   done && git init -q && git add . &&
   git -c user.email=perf@runsc -c user.name=perf commit -qm files)
fi
# A tarball of /usr/share/doc (made once) to unpack: natively onto the
# host's disk, sandboxed into the overlay's memory.
tarball=/var/tmp/runsc-perf-doc.tgz
[[ -f $tarball ]] || tar czf "$tarball" -C /usr/share doc 2>/dev/null
untar="rm -rf /var/tmp/runsc-perf-untar && mkdir /var/tmp/runsc-perf-untar && tar xzf $tarball -C /var/tmp/runsc-perf-untar && find /var/tmp/runsc-perf-untar | wc -l && rm -rf /var/tmp/runsc-perf-untar"

labels=("/bin/true" "python3 -c pass" "gcc -O2 hello.c -o /tmp/x"
        "bash: seq 1 200 | sort -n | tail -1"
        "git status (10k files)" "tar xzf /usr/share/doc")
# Sets `cmd` to the command of workload $1 (an index into labels). The
# system's programs by full path: a python3 found on PATH may be a wrapper
# script (pyenv's shim forks some 40 processes before python starts).
set_cmd() {
  case $1 in
    0) cmd=(/bin/true) ;;
    1) cmd=(/usr/bin/python3 -c pass) ;;
    2) cmd=(/usr/bin/gcc -O2 "$PWD/perf/hello.c" -o "$hello") ;;
    3) cmd=(/bin/bash -c "$pipeline") ;;
    4) cmd=(/usr/bin/git -C "$repo" status --porcelain) ;;
    5) cmd=(/bin/sh -c "$untar") ;;
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
