#!/usr/bin/env bash
# Makes the inputs of perf/report.sh's workloads in DIR, which the
# sandboxes and runc's container see read-only at the same path:
#   make/      20 C files and a Makefile that builds them into $(OUT)
#   data.tgz   a ~20 MB gzipped tar of headers from /usr/include
#   insert.sql a table and 1000 INSERTs, each its own transaction
#   repo/      a git repository of 10k small files, its index fresh
#   bigfile    64 MiB of random bytes (fs_bench's sequential read)
#   perf/report_inputs.sh DIR
set -euo pipefail
dir=$1

mkdir "$dir/make"
# Nineteen units of ten small functions each, and main.c calling them.
for ((i = 1; i < 20; i++)); do
  {
    echo "#include <string.h>"
    for ((f = 0; f < 10; f++)); do
      echo "static unsigned f$f(const char *s, unsigned h) {"
      echo "  for (size_t i = 0; i < strlen(s); i++) h = h * 31 + s[i] + $f;"
      echo "  return h ^ (h >> $((f % 13 + 1)));"
      echo "}"
    done
    echo "unsigned unit$i(const char *s) {"
    echo "  unsigned h = $i;"
    for ((f = 0; f < 10; f++)); do echo "  h = f$f(s, h);"; done
    echo "  return h;"
    echo "}"
  } >"$dir/make/unit$i.c"
done
{
  echo "#include <stdio.h>"
  for ((i = 1; i < 20; i++)); do echo "unsigned unit$i(const char *s);"; done
  echo "int main(void) {"
  echo "  unsigned h = 0;"
  for ((i = 1; i < 20; i++)); do echo "  h += unit$i(\"report\");"; done
  echo "  printf(\"%u\\n\", h);"
  echo "  return 0;"
  echo "}"
} >"$dir/make/main.c"
cat >"$dir/make/Makefile" <<'EOF'
# make -j2 -f DIR/Makefile OUT=BUILDDIR: compiles the 20 files of DIR.
SRC := $(dir $(lastword $(MAKEFILE_LIST)))
OUT ?= out
OBJS := $(patsubst $(SRC)%.c,$(OUT)/%.o,$(wildcard $(SRC)*.c))
$(OUT)/prog: $(OBJS)
	gcc -o $@ $^
$(OUT)/%.o: $(SRC)%.c
	gcc -O2 -c $< -o $@
EOF

# Headers in a fixed order until 100 MiB of them: ~20 MB gzipped.
find /usr/include -type f -printf '%s %P\n' | LC_ALL=C sort -k2 |
  awk -v max=$((100 << 20)) '{ total += $1 }  # reads all: no SIGPIPE
                             total <= max { print "include/" $2 }' \
  >"$dir/data.list"
tar czf "$dir/data.tgz" -C /usr -T "$dir/data.list"
rm "$dir/data.list"

{
  echo "CREATE TABLE t (i INTEGER PRIMARY KEY, s TEXT);"
  for ((i = 0; i < 1000; i++)); do
    echo "INSERT INTO t (s) VALUES ('row $i of the insert loop');"
  done
  echo "SELECT count(*), sum(i) FROM t;"
} >"$dir/insert.sql"

mkdir "$dir/repo"
(cd "$dir/repo" && for d in $(seq 0 99); do
   mkdir "$d" && for f in $(seq 0 99); do echo "$d $f" >"$d/$f"; done
 done && git init -q && git add . &&
 git -c user.email=perf@runsc -c user.name=perf commit -qm files &&
 git status --porcelain >/dev/null)

dd if=/dev/urandom of="$dir/bigfile" bs=1M count=64 status=none
