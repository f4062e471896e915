// /proc/<pid>'s other files: maps, smaps, fd/, fdinfo/, exe, cwd, root,
// mounts, mountinfo, limits, oom_score_adj, cgroup, ns/, with Linux's
// modes and owners.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "proc_util.h"
#include "test_util.h"

namespace {


using syscall_test::FileDescriptor;
using syscall_test::PageSize;
using syscall_test::ReadFileContents;
using syscall_test::SyscallFailsWithErrno;
using syscall_test::SyscallSucceeds;
using syscall_test::SyscallSucceedsWithValue;
using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

using proc_test::Child;
using proc_test::Proc;
using proc_test::Readlink;
using proc_test::Split;
using proc_test::StatFields;
using proc_test::StatusField;

TEST(ProcPidTest, MapsAndSmaps) {
  const std::string maps = ReadFileContents("/proc/self/maps");
  const std::regex line(
      "([0-9a-f]+)-([0-9a-f]+) [r-][w-][x-][ps] [0-9a-f]{8} "
      "[0-9a-f]{2}:[0-9a-f]{2} [0-9]+(( +)(.*))?");
  bool stack = false, exe = false;
  const std::string self = Readlink("/proc/self/exe");
  int local = 0;
  const auto here = reinterpret_cast<uintptr_t>(&local);
  for (const std::string& l : Split(maps, '\n')) {
    std::smatch m;
    ASSERT_TRUE(std::regex_match(l, m, line)) << l;
    // m[4]: the padding, m[5]: the name.
    if (m[5].matched && m[5].length() > 0) {
      // Linux pads the line to 72 columns, then a space: names start at
      // column 73 (later after a long header).
      const size_t header = m.position(4) + 1;  // with its space
      EXPECT_EQ(static_cast<size_t>(m.position(5)),
                std::max<size_t>(73, header + 1))
          << l;
    }
    if (m[5] == "[stack]") {
      stack = true;
      EXPECT_GE(here, std::stoull(m[1], nullptr, 16));
      EXPECT_LT(here, std::stoull(m[2], nullptr, 16));
    }
    if (m[5] == self) exe = true;
  }
  EXPECT_TRUE(stack);
  EXPECT_TRUE(exe) << self;
  const std::string smaps = ReadFileContents("/proc/self/smaps");
  EXPECT_THAT(smaps, ContainsRegex("\nSize: +[0-9]+ kB\n"));
  EXPECT_THAT(smaps, ContainsRegex("\nRss: +[0-9]+ kB\n"));
  EXPECT_THAT(smaps, ContainsRegex("\nVmFlags:( [a-z][a-z])+ \n"));
}

TEST(ProcPidTest, FdAndFdinfo) {
  FileDescriptor fd(open("/proc/self/stat", O_RDONLY | O_CLOEXEC));
  ASSERT_GE(fd.get(), 0);
  ASSERT_THAT(lseek(fd.get(), 5, SEEK_SET), SyscallSucceedsWithValue(5));
  const std::string n = std::to_string(fd.get());
  EXPECT_EQ(Readlink("/proc/self/fd/" + n),
            "/proc/" + std::to_string(getpid()) + "/stat");
  const std::string info = ReadFileContents(("/proc/self/fdinfo/" + n).c_str());
  EXPECT_THAT(info, ::testing::StartsWith("pos:\t5\nflags:\t"));
  EXPECT_THAT(info, ContainsRegex("\nmnt_id:\t[0-9]+\n"));
  EXPECT_THAT(info, ContainsRegex("\nino:\t[0-9]+\n"));
  unsigned flags = 0;
  ASSERT_EQ(sscanf(info.c_str(), "pos:\t%*d\nflags:\t%o", &flags), 1);
  EXPECT_EQ(flags & O_CLOEXEC, static_cast<unsigned>(O_CLOEXEC));
  EXPECT_EQ(flags & O_ACCMODE, static_cast<unsigned>(O_RDONLY));
  struct stat st;
  ASSERT_THAT(stat("/proc/self/fd", &st), SyscallSucceeds());
  EXPECT_EQ(st.st_mode, S_IFDIR | 0500u);
  ASSERT_THAT(stat("/proc/self/fdinfo", &st), SyscallSucceeds());
  EXPECT_EQ(st.st_mode, S_IFDIR | 0555u);
  ASSERT_THAT(lstat(("/proc/self/fd/" + n).c_str(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_mode, S_IFLNK | 0500u);  // lr-x------
}

TEST(ProcPidTest, LinksAndOwnership) {
  char cwd[4096];
  ASSERT_NE(getcwd(cwd, sizeof(cwd)), nullptr);
  EXPECT_EQ(Readlink("/proc/self/cwd"), cwd);
  EXPECT_EQ(Readlink("/proc/self/root"), "/");
  struct stat st;
  ASSERT_THAT(stat("/proc/self", &st), SyscallSucceeds());
  EXPECT_EQ(st.st_mode, S_IFDIR | 0555u);
  EXPECT_EQ(st.st_uid, geteuid());
  EXPECT_EQ(st.st_gid, getegid());
  ASSERT_THAT(stat("/proc/self/environ", &st), SyscallSucceeds());
  EXPECT_EQ(st.st_mode, S_IFREG | 0400u);
  ASSERT_THAT(stat("/proc/self/comm", &st), SyscallSucceeds());
  EXPECT_EQ(st.st_mode, S_IFREG | 0644u);
  ASSERT_THAT(stat("/proc/self/ns", &st), SyscallSucceeds());
  EXPECT_EQ(st.st_mode, S_IFDIR | 0511u);
  for (const char* ns : {"uts", "ipc", "mnt", "pid", "net", "user", "cgroup"}) {
    EXPECT_THAT(Readlink(std::string("/proc/self/ns/") + ns),
                MatchesRegex(std::string(ns) + ":\\[[0-9]+\\]"));
  }
  EXPECT_THAT(ReadFileContents("/proc/self/cgroup"),
              ContainsRegex("(^|\n)0::/[^\n]*\n$"));
}

TEST(ProcPidTest, UnshareUtsChangesTheNsLink) {
  if (geteuid() != 0) GTEST_SKIP() << "unshare needs CAP_SYS_ADMIN";
  const std::string before = Readlink("/proc/self/ns/uts");
  int p[2];
  ASSERT_THAT(pipe(p), SyscallSucceeds());
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (unshare(CLONE_NEWUTS) != 0) _exit(1);
    char buf[64] = {};
    ssize_t n = readlink("/proc/self/ns/uts", buf, sizeof(buf) - 1);
    _exit(n > 0 && std::string(buf) != before ? 0 : 2);
  }
  int status;
  ASSERT_THAT(waitpid(pid, &status, 0), SyscallSucceeds());
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  close(p[0]);
  close(p[1]);
}

TEST(ProcPidTest, Limits) {
  const std::vector<std::string> lines =
      Split(ReadFileContents("/proc/self/limits"), '\n');
  ASSERT_EQ(lines.size(), 17u);
  EXPECT_EQ(lines[0],
            "Limit                     Soft Limit           Hard Limit           "
            "Units     ");
  rlimit nofile;
  ASSERT_THAT(getrlimit(RLIMIT_NOFILE, &nofile), SyscallSucceeds());
  char want[128];
  snprintf(want, sizeof(want), "%-25s %-20llu %-20llu %-10s", "Max open files",
           static_cast<unsigned long long>(nofile.rlim_cur),
           static_cast<unsigned long long>(nofile.rlim_max), "files");
  EXPECT_EQ(lines[8], want);
  // A change shows at once.
  rlimit core = {0, 0}, old_core;
  ASSERT_THAT(getrlimit(RLIMIT_CORE, &old_core), SyscallSucceeds());
  core.rlim_max = old_core.rlim_max;
  ASSERT_THAT(setrlimit(RLIMIT_CORE, &core), SyscallSucceeds());
  EXPECT_THAT(ReadFileContents("/proc/self/limits"),
              ContainsRegex("\nMax core file size +0 "));
  ASSERT_THAT(setrlimit(RLIMIT_CORE, &old_core), SyscallSucceeds());
}

TEST(ProcPidTest, OomScoreAdj) {
  const std::string old = ReadFileContents("/proc/self/oom_score_adj");
  ASSERT_FALSE(old.empty());
  auto write_adj = [](const char* v) -> long {
    FileDescriptor fd(open("/proc/self/oom_score_adj", O_WRONLY));
    if (fd.get() < 0) return -1;
    return write(fd.get(), v, strlen(v));
  };
  EXPECT_THAT(write_adj("500\n"), SyscallSucceedsWithValue(4));
  EXPECT_EQ(ReadFileContents("/proc/self/oom_score_adj"), "500\n");
  EXPECT_THAT(write_adj("1001"), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(write_adj("abc"), SyscallFailsWithErrno(EINVAL));
  // Inherited by a child.
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    _exit(ReadFileContents("/proc/self/oom_score_adj") == "500\n" ? 0 : 1);
  }
  int status;
  ASSERT_THAT(waitpid(pid, &status, 0), SyscallSucceeds());
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  if (geteuid() == 0) {
    EXPECT_THAT(write_adj(old.c_str()), SyscallSucceeds());
  } else {
    // Below the minimum (the value it started with) needs CAP_SYS_RESOURCE.
    EXPECT_THAT(write_adj("-1"), SyscallFailsWithErrno(EACCES));
  }
}

TEST(ProcPidTest, MountsAndMountinfo) {
  const std::string mounts = ReadFileContents("/proc/self/mounts");
  EXPECT_THAT(mounts, ContainsRegex("(^|\n)[^ ]+ / [^ ]+ [^ ]+ 0 0\n"));
  EXPECT_THAT(mounts, ContainsRegex("(^|\n)proc /proc proc [^ ]+ 0 0\n"));
  EXPECT_EQ(ReadFileContents("/proc/mounts"), mounts);
  const std::regex info(
      "[0-9]+ [0-9]+ [0-9]+:[0-9]+ [^ ]+ [^ ]+ [^ ]+( [^ ]+:[^ ]+)* - [^ ]+ "
      "[^ ]+ [^ ]+");
  bool proc = false;
  for (const std::string& l :
       Split(ReadFileContents("/proc/self/mountinfo"), '\n')) {
    EXPECT_TRUE(std::regex_match(l, info)) << l;
    if (l.find(" /proc ") != std::string::npos &&
        l.find(" - proc ") != std::string::npos)
      proc = true;
  }
  EXPECT_TRUE(proc);
}

TEST(ProcPidTest, ChildFilesGoneAfterReap) {
  Child child;
  const std::string status = Proc(child.pid(), "status");
  FileDescriptor fd(open(status.c_str(), O_RDONLY));
  ASSERT_GE(fd.get(), 0);
  child.Release();
  child.Reap();
  // An open file of a reaped process: seeking makes the text again, and
  // reading then fails with ESRCH, as Linux.
  lseek(fd.get(), 0, SEEK_SET);
  char buf[64];
  EXPECT_THAT(read(fd.get(), buf, sizeof(buf)), SyscallFailsWithErrno(ESRCH));
}

}  // namespace
