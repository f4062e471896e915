#!/usr/bin/env bash
# The host memory one idle sandbox costs: the resident set of its sentry
# (`runsc boot`) and its gofer while the app sleeps, and of the stub
# processes that run the app. Called by perf/run.sh.
#   perf/memory.sh RUNSC PLATFORM
set -euo pipefail
runsc=$1 platform=$2

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
# The sentry's view of the memory file (RssShmem): the app's own pages
# that the sentry touched (loading the program, copying syscall data),
# which the stubs map too. Shown apart: it grows with the app, not with
# the sandbox.
shmem_kb() { awk '/^RssShmem:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

"$runsc" do --platform="$platform" -- /bin/sleep 3 &
do_pid=$!
sleep 1.5
sentry=0 sentry_app=0 gofer=0 stubs=0
for kid in $(cat "/proc/$do_pid/task/$do_pid/children"); do
  case "$(tr '\0' ' ' <"/proc/$kid/cmdline")" in
    *" boot "*)
      sentry=$(rss_kb "$kid")
      sentry_app=$(shmem_kb "$kid")
      # Everything else in the sandbox's pid namespace: stubs and helpers.
      for p in $(pgrep -P "$kid" || true); do
        stubs=$((stubs + $(rss_kb "$p")))
        for q in $(pgrep -P "$p" || true); do
          stubs=$((stubs + $(rss_kb "$q")))
        done
      done ;;
    *" gofer "*) gofer=$(rss_kb "$kid") ;;
  esac
done
wait "$do_pid"
mb() { awk -v kb="$1" 'BEGIN { printf "%.1f", kb / 1024 }'; }
printf "%-36s %10s\n" "idle sandbox (sleep), RSS" "MB"
printf "%-36s %10s\n" "  sentry" "$(mb "$sentry")"
printf "%-36s %10s\n" "    of it, app memory (memory file)" "$(mb "$sentry_app")"
printf "%-36s %10s\n" "  gofer" "$(mb "$gofer")"
printf "%-36s %10s\n" "  sentry + gofer" "$(mb $((sentry + gofer)))"
printf "%-36s %10s\n" "  sentry + gofer, without app memory" \
  "$(mb $((sentry - sentry_app + gofer)))"
printf "%-36s %10s\n" "  stub processes (app)" "$(mb "$stubs")"
