#!/usr/bin/env bash
# Turns perf/report.sh's measurements into the report: OUT/report.md (a
# table of medians and ratios against native) and OUT/report.png (a bar
# chart of the ratios, gnuplot).
#   perf/report_render.sh DATA OUT
# DATA holds: micro and work ("config benchmark ns|failed" per round),
# meta ("key=value" lines), errors (one line per failure).
#   perf/report_render.sh --splice REPORT DOC
# replaces what lies between DOC's "<!-- report.sh: begin -->" and
# "<!-- report.sh: end -->" lines with REPORT (its title dropped, the
# chart's path made relative to DOC).
set -euo pipefail

if [[ $1 == --splice ]]; then
  report=$2 doc=$3
  rel=$(realpath --relative-to="$(dirname "$doc")" "$(dirname "$report")")
  awk -v report="$report" -v rel="$rel" '
    /^<!-- report.sh: begin -->$/ {
      print
      while ((getline line < report) > 0) {
        if (line ~ /^# /) continue
        sub(/\]\(report.png\)/, "](" rel "/report.png)", line)
        sub(/^## /, "### ", line)
        print line
      }
      skip = 1
      next
    }
    /^<!-- report.sh: end -->$/ { skip = 0 }
    !skip' "$doc" >"$doc.new"
  mv "$doc.new" "$doc"
  exit 0
fi

data=$1 out=$2
meta() { sed -n "s/^$1=//p" "$data/meta"; }
read -r -a configs <<<"$(meta configs)"

# Medians: "kind benchmark config median" (median "failed" if any round
# failed), benchmarks in the order they first appear.
medians() {
  awk '!($2 in first) { first[$2] = NR } { print first[$2], $2, $1, $3 }' \
    "$data/$1" | sort -k1,1n -k3,3 -k4,4g |
    awk -v kind="$1" '
      function flush() {
        if (key == "") return
        med = m % 2 ? v[(m + 1) / 2] : (v[m / 2] + v[m / 2 + 1]) / 2
        print kind, b, c, (bad || m == 0 ? "failed" : med)
      }
      $2 " " $3 != key { flush(); key = $2 " " $3; b = $2; c = $3; m = bad = 0 }
      { if ($4 == "failed") bad = 1; else v[++m] = $4 }
      END { flush() }'
}
{ medians micro; medians work; } >"$data/medians"

# Labels: the issue's names for the benchmarks, what each one measures.
labels='
Getppid	getppid, syscall(2) (not patchable)
GetppidLibc	getppid, glibc wrapper
ClockGettime	clock_gettime, raw syscall
ClockGettimeVdso	clock_gettime (vDSO)
GettimeofdayVdso	gettimeofday (vDSO)
ReadDevZero4k	read 4 KiB of /dev/zero
OpenClose	open+close
StatFiveDeep	stat, 5 components
OpenRead4kClose	open+read 4 KiB+close
SequentialRead1M	read 1 MiB of a host file
Pwrite4k	write 4 KiB (pwrite, tmpfs file)
CreateWriteUnlink	create+write 1 KiB+unlink
ForkExitWait	fork+exit+wait
VforkExecTrue	vfork+exec /bin/true+wait
PthreadCreateJoin	thread create+join
FutexRoundTrip	futex ping-pong, 2 threads
PipePingPong	pipe ping-pong, 2 processes
SignalRoundTrip	signal delivery round trip
Touched256MiB/ForkExitWait	fork+exit+wait, 256 MiB touched
MmapTouchMunmap1M	mmap+touch+munmap 1 MiB
PageFaultStorm4M	page-fault storm, 1024 faults
true	`/bin/true` (start-up)
python	`python3 -c pass`
gcc	`gcc -O2 hello.c`
make	`make -j2`, 20 files
sqlite	sqlite3, 1000 inserts
tar	`tar xzf`, TARBALL archive
bash	bash: `seq 1 200 \| sort -n \| tail -1`
git	`git status`, 10k files'
labels=${labels//TARBALL/$(meta tarball)}
names() {
  case $1 in
    native) echo native ;;
    runc) echo runc ;;
    ptrace) echo "ptrace (ours)" ;;
    systrap) echo "systrap (ours)" ;;
    systrap-patch) echo "systrap, patching (ours)" ;;
    gvisor) echo "gVisor (Debian), ptrace" ;;
  esac
}

# The table: "label<TAB>cell..." rows via awk, and report.dat for gnuplot
# (label and one ratio per non-native configuration, "?" when missing).
table() {
  LABELS=$labels awk -v configs="${configs[*]}" \
      -v na="$(meta na | cut -d' ' -f1)" -v kind="$1" -v dat="$2" '
    function t(ns) {
      if (ns >= 1e9) return sprintf("%.2f s", ns / 1e9)
      if (ns >= 1e6) return sprintf("%.1f ms", ns / 1e6)
      if (ns >= 1e3) return sprintf("%.1f us", ns / 1e3)
      return sprintf("%.0f ns", ns)
    }
    BEGIN {
      nc = split(configs, cs, " ")
      split(na, nas, "\n"); for (i in nas) isna[nas[i]] = 1
      nl = split(ENVIRON["LABELS"], ls, "\n")
      for (i = 1; i <= nl; i++) if (split(ls[i], f, "\t") == 2) label[f[1]] = f[2]
    }
    { split($0, f, " "); if (f[1] != kind) next
      if (!(f[2] in seen)) { seen[f[2]] = 1; order[++nb] = f[2] }
      med[f[2], f[3]] = f[4] }
    END {
      for (i = 1; i <= nb; i++) {
        b = order[i]; l = (b in label) ? label[b] : b
        n = med[b, "native"]
        row = "| " l; d = "\"" l "\""
        gsub(/[`\\]/, "", d)
        for (j = 1; j <= nc; j++) {
          c = cs[j]; v = med[b, c]
          if (c in isna) cell = "n/a"
          else if (v == "") cell = "missing"
          else if (v == "failed") cell = "failed"
          else if (c == "native" || n == "" || n == "failed" || n == 0)
            cell = t(v)
          else cell = sprintf("%s (**%.1fx**)", t(v), v / n)
          row = row " | " cell
          if (c == "native" || c in isna) continue
          d = d " " ((v != "" && v != "failed" && n != "" && n != "failed" &&
                      n > 0) ? sprintf("%.3f", v / n) : "?")
        }
        print row " |"
        print d >> dat
      }
    }' "$data/medians"
}

dat=$data/report.dat
header="\"benchmark\"" bars=0
cols="| benchmark |" sep="|---|"
for c in "${configs[@]}"; do
  cols+=" $(names "$c") |" sep+="---:|"
  [[ $c == native ]] || meta na | grep -q "^$c " ||
    { header+=" \"$(names "$c")\""; ((++bars)); }
done
echo "$header" >"$dat"

read -r l0 l1 l2 <<<"$(meta load)"
{
  echo "# Performance report"
  echo
  echo "Made by \`perf/report.sh$(meta args)\`"
  echo "on $(meta date) (to $(meta end)), commit $(meta commit); Linux"
  echo "$(meta host). $(meta rounds) round(s), each microbenchmark run for"
  echo "$(meta min_time) s a round, each workload once a round;"
  echo "every figure is the median of the rounds, each ratio (in bold) the"
  echo "time against native's in the same run: lower is better, 1x is native."
  echo
  echo "**Load average: $l0 at the start, $l1 after the microbenchmarks, $l2"
  echo "at the end.** The VM (2 vCPUs) was shared with other engineers' builds"
  echo "and test runs while this ran, so absolute times are slow and noisy;"
  echo "compare the ratios of one run, not times across runs."
  echo
  echo "## Microbenchmarks (time per operation, wall clock)"
  echo
  echo "$cols"
  echo "$sep"
  table micro "$dat"
  echo
  echo "## Workloads (wall time of the whole command, sandbox start-up included)"
  echo
  echo "$cols"
  echo "$sep"
  table work "$dat"
  echo
  echo "![ratios against native, log scale](report.png)"
  echo
  echo "## How it ran"
  echo
  echo "- Every command runs in a session of its own (\`setsid\`): the kernel"
  echo "  here schedules sessions as groups (autogroup), and runc starts its"
  echo "  containers in sessions of their own: all sides get the same share."
  echo "- native: the binaries as they are; writes go to a tmpfs (/dev/shm)."
  echo "- runc: Debian's runc, \`runc run\` of a bundle whose root is an empty"
  echo "  directory with the host's /usr and /etc (and the tree and the"
  echo "  inputs) bound read-only and a tmpfs /tmp; its start-up is in the"
  echo "  workloads' times."
  echo "- ptrace, systrap: ours, \`build/runsc/runsc do --platform=P\`"
  echo "  (systrap without syscall patching, its default)."
  echo "- gVisor (Debian): \`/usr/bin/runsc --platform=ptrace --network=none"
  echo "  --ignore-cgroups do\`, the \`runsc\` package (gVisor of 2022-12-19)."
  while read -r c reason; do
    [[ -n $c ]] && echo "- **$(names "$c"): n/a**: $reason"
  done <<<"$(meta na)"
  if [[ -s $data/errors ]]; then
    echo
    echo "Failures and differences in this run:"
    echo
    sort -u "$data/errors" | sed 's/^/- /'
  fi
} >"$out/report.md"

# The chart: one group of bars per benchmark, one bar per configuration.
gnuplot <<EOF
set terminal pngcairo size 1800,800 font ",10" noenhanced
set output "$out/report.png"
set title "runsc vs native: time / native time, log scale ($(meta date), load $l0-$l2)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.9 border -1
set datafile missing "?"
set logscale y
set yrange [0.1:*]
set grid ytics
set ylabel "time / native time"
set xtics rotate by 40 right nomirror font ",9"
set key top left
set bmargin 14
set lmargin 22
set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2 lw 2
plot for [i=2:$((bars + 1))] "$dat" using i:xtic(1) title columnheader(i)
EOF
