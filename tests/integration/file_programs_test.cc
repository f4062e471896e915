// Real programs that work the file system hard, under `runsc do`: the root
// is the gofer-served host tree under the overlay, so everything they
// write stays in the sandbox.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "tests/util/run_command.h"

namespace {

using ::testing::HasSubstr;
using testing_util::RunCommand;
using testing_util::RunSandboxed;

void RequireProgram(const char* path) {
  if (access(path, X_OK) != 0) GTEST_SKIP() << path << " is not installed";
}

TEST(FileProgramsTest, GitInitAddCommit) {
  RequireProgram("/usr/bin/git");
  auto r = RunSandboxed(
      {"/bin/sh", "-c",
       "set -e; mkdir /var/tmp/repo && cd /var/tmp/repo && git init -q; "
       "git config user.email t@runsc; git config user.name t; "
       "cp -r /usr/share/doc/git/contrib .; echo hello > a; "
       "git add . && git commit -qm first; "
       "echo more >> a; git mv a b; git commit -qam second; "
       "git log --oneline | wc -l; git status --porcelain | wc -l; "
       "git fsck --no-progress 2>&1 | wc -l"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "2\n0\n0\n");
  EXPECT_NE(access("/var/tmp/repo", F_OK), 0);  // nothing reached the host
}

TEST(FileProgramsTest, TarCreatesAndExtractsUsrShareDoc) {
  RequireProgram("/usr/bin/tar");
  auto r = RunSandboxed(
      {"/bin/sh", "-c",
       "set -e; cd /var/tmp; tar czf doc.tgz -C /usr/share doc; "
       "mkdir x; tar xzf doc.tgz -C x; "
       "diff -r --no-dereference /usr/share/doc x/doc && echo same; "
       "find x/doc | wc -l"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto native = RunCommand({"/bin/sh", "-c", "find /usr/share/doc | wc -l"});
  EXPECT_EQ(r.out, "same\n" + native.out);
}

TEST(FileProgramsTest, FindOverTheWholeRoot) {
  RequireProgram("/usr/bin/find");
  // -xdev keeps to the root's own file system, as natively: /proc, /dev
  // and /tmp are other mounts.
  auto r = RunSandboxed({"/bin/sh", "-c", "find / -xdev | wc -l"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto native = RunCommand(
      {"/bin/sh", "-c", "find / -xdev -not -path '/tmp/*' | wc -l"});
  // The same tree, give or take what changed on the host meanwhile.
  const long got = std::stol(r.out), want = std::stol(native.out);
  EXPECT_GT(got, want * 99 / 100);
  EXPECT_LT(got, want * 101 / 100);
}

TEST(FileProgramsTest, DpkgListsThePackagesAsNatively) {
  RequireProgram("/usr/bin/dpkg");
  auto r = RunSandboxed({"/usr/bin/dpkg", "-l"});
  auto native = RunCommand({"/usr/bin/dpkg", "-l"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, native.out);
}

TEST(FileProgramsTest, PythonCompileall) {
  RequireProgram("/usr/bin/python3");
  auto r = RunSandboxed(
      {"/bin/sh", "-c",
       "set -e; cp -r /usr/lib/python3.11/json /var/tmp/json; "
       "/usr/bin/python3 -m compileall -q /var/tmp/json; "
       "ls /var/tmp/json/__pycache__ | wc -l; "
       "cd /var/tmp && /usr/bin/python3 -c 'import json; print(json.dumps([1]))'"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto native = RunCommand(
      {"/bin/sh", "-c", "ls /usr/lib/python3.11/json/*.py | wc -l"});
  EXPECT_EQ(r.out, native.out + "[1]\n");
}

// sqlite3 with its default rollback journal: 10k rows in one transaction
// in /tmp (tmpfs) and in the overlay (/var/tmp), then a second sqlite3
// reading while a python3 connection holds the database: RESERVED lets it
// read the old rows, EXCLUSIVE makes it "database is locked" (fcntl
// record locks between processes), then it sees the new row.
TEST(FileProgramsTest, Sqlite3TenThousandRows) {
  RequireProgram("/usr/bin/sqlite3");
  RequireProgram("/usr/bin/python3");
  const std::string script = R"SH(set -e
for db in /tmp/t.db /var/tmp/t.db; do
  sqlite3 "$db" "create table t(id integer primary key, v text);
    begin;
    with recursive c(x) as (select 1 union all select x + 1 from c where x < 10000)
      insert into t(v) select 'row ' || x from c;
    commit;"
  sqlite3 "$db" "select count(*), sum(id), max(v) from t; pragma integrity_check;"
  /usr/bin/python3 - "$db" <<'PY'
import sqlite3, subprocess, sys
db = sys.argv[1]
def reader():
    r = subprocess.run(["sqlite3", db, "select count(*) from t"],
                       capture_output=True, text=True)
    out = (r.stdout + r.stderr).strip()
    return "locked" if "database is locked" in out else out
c = sqlite3.connect(db, isolation_level=None)
c.execute("begin immediate")
c.execute("insert into t(v) values ('one more')")
print("reserved:", reader())
c.execute("commit")
c.execute("begin exclusive")
print("exclusive:", reader())
c.execute("commit")
print("after:", reader())
PY
done
)SH";
  auto r = RunSandboxed({"/bin/bash", "-c", script});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const std::string each =
      "10000|50005000|row 9999\nok\nreserved: 10000\nexclusive: locked\n"
      "after: 10001\n";
  EXPECT_EQ(r.out, each + each);
  EXPECT_NE(access("/var/tmp/t.db", F_OK), 0);  // nothing reached the host
}

// A read lock on a file of the lower layer holds after another process
// opens it for writing (copy-up keeps the file's identity): its write
// lock waits for the reader's unlock.
TEST(FileProgramsTest, RecordLocksSurviveCopyUp) {
  RequireProgram("/usr/bin/python3");
  auto r = RunSandboxed({"/usr/bin/python3", "-c", R"PY(
import fcntl, os, subprocess
f = open("/etc/os-release", "rb")
fcntl.lockf(f, fcntl.LOCK_SH)
writer = """
import fcntl
f = open("/etc/os-release", "r+b")
try:
    fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    print("locked")
except BlockingIOError:
    print("busy")
"""
print(subprocess.run(["/usr/bin/python3", "-c", writer], capture_output=True,
                     text=True).stdout, end="")
fcntl.lockf(f, fcntl.LOCK_UN)
print(subprocess.run(["/usr/bin/python3", "-c", writer], capture_output=True,
                     text=True).stdout, end="")
)PY"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "busy\nlocked\n");
}

TEST(FileProgramsTest, VimEditsAFileInEtc) {
  RequireProgram("/usr/bin/vim");
  auto r = RunSandboxed({"/bin/sh", "-c",
                         "vim -es -c '1s/^root:/ROOT:/' -c wq /etc/passwd && "
                         "head -c 5 /etc/passwd"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "ROOT:");
  std::ifstream host("/etc/passwd");
  std::string first;
  std::getline(host, first);
  EXPECT_TRUE(first.starts_with("root:")) << first;
}

// ls -l asks every file for its SELinux label and ACL (lgetxattr,
// getxattr): an error other than ENODATA or EOPNOTSUPP is printed for
// each file.
TEST(FileProgramsTest, LsLongListsQuietly) {
  RequireProgram("/bin/ls");
  auto r = RunSandboxed(
      {"/bin/ls", "-la", "/", "/etc", "/dev", "/tmp", "/var/tmp", "/usr/bin"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_THAT(r.out, HasSubstr("passwd"));
  // getfattr/setfattr (the attr package), where installed.
  if (access("/usr/bin/setfattr", X_OK) == 0 &&
      access("/usr/bin/getfattr", X_OK) == 0) {
    auto a = RunSandboxed(
        {"/bin/sh", "-c",
         "cd /var/tmp && touch f && setfattr -n user.k -v hello f && "
         "getfattr -n user.k --only-values f && echo && "
         "setfattr -x user.k f && getfattr -d f | wc -l"});
    EXPECT_EQ(a.exit_code, 0) << a.err;
    EXPECT_EQ(a.out, "hello\n0\n");
  }
}

// Python's os.*xattr on the overlay: a file of the host tree shows its
// user.* attributes (from the gofer); setting one copies the file up with
// them, and the host file never changes.
TEST(FileProgramsTest, PythonXattrsOnTheOverlay) {
  RequireProgram("/usr/bin/python3");
  char tmpl[] = "/var/tmp/runsc_xattr_XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl, file = dir + "/f";
  {
    std::ofstream f(file);
    f << "host data";
  }
  if (setxattr(file.c_str(), "user.host", "h", 1, 0) != 0) {
    unlink(file.c_str());
    rmdir(dir.c_str());
    GTEST_SKIP() << "no user xattrs in /var/tmp";
  }
  const std::string script =
      "import os, sys\n"
      "f = sys.argv[1]\n"
      "print(sorted(os.listxattr(f)), os.getxattr(f, 'user.host'))\n"
      "os.setxattr(f, 'user.new', b'n')\n"
      "print(sorted(os.listxattr(f)), open(f).read())\n"
      "os.removexattr(f, 'user.host')\n"
      "print(sorted(os.listxattr(f)))\n"
      "try:\n"
      "    os.setxattr('/proc/self/status', 'user.x', b'1')\n"
      "except OSError as e:\n"
      "    print(e.strerror)\n";
  auto r = RunSandboxed({"/usr/bin/python3", "-c", script, file});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "['user.host'] b'h'\n"
            "['user.host', 'user.new'] host data\n"
            "['user.new']\n"
            "Operation not supported\n");
  char v[8];
  EXPECT_EQ(getxattr(file.c_str(), "user.host", v, sizeof v), 1);
  EXPECT_LT(getxattr(file.c_str(), "user.new", v, sizeof v), 0);
  unlink(file.c_str());
  rmdir(dir.c_str());
}

}  // namespace
