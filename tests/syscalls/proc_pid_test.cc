// /proc/<pid>: this process and its children as Linux shows them (stat,
// status, statm, cmdline, environ, comm, maps, smaps, fd/, fdinfo/, exe,
// cwd, root, mounts, mountinfo, limits, task/, oom_score_adj, cgroup,
// ns/), with Linux's modes and owners.
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

std::string Proc(int pid, const std::string& file) {
  return "/proc/" + std::to_string(pid) + "/" + file;
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string item; std::getline(in, item, sep);) out.push_back(item);
  return out;
}

// The fields of /proc/<pid>/stat after "(comm)", numbered as in proc(5):
// out[3] is field 3 (state).
std::vector<std::string> StatFields(const std::string& stat,
                                    std::string* comm) {
  const size_t open = stat.find('(');
  const size_t close = stat.rfind(')');
  std::vector<std::string> out = {"", stat.substr(0, open - 1), ""};
  if (comm) *comm = stat.substr(open + 1, close - open - 1);
  std::istringstream in(stat.substr(close + 2));
  for (std::string f; in >> f;) out.push_back(f);
  return out;
}

// "Key:\tvalue" of a status file.
std::string StatusField(const std::string& status, const std::string& key) {
  for (const std::string& line : Split(status, '\n')) {
    if (line.rfind(key + ":\t", 0) == 0) return line.substr(key.size() + 2);
  }
  return "<none>";
}

std::string Readlink(const std::string& path) {
  char buf[4096] = {};
  const ssize_t n = readlink(path.c_str(), buf, sizeof(buf) - 1);
  EXPECT_GE(n, 0) << path;
  return n < 0 ? "" : std::string(buf, n);
}

// A child that waits until told to go (a byte on its pipe, or EOF).
class Child {
 public:
  Child() {
    int go[2];
    EXPECT_EQ(pipe2(go, O_CLOEXEC), 0);
    pid_ = fork();
    if (pid_ == 0) {
      close(go[1]);
      char c;
      (void)!read(go[0], &c, 1);
      _exit(7);
    }
    close(go[0]);
    go_ = go[1];
  }
  ~Child() {
    Release();
    Reap();
  }
  int pid() const { return pid_; }
  void Release() {
    if (go_ >= 0) close(go_);
    go_ = -1;
  }
  int Reap() {
    int status = -1;
    if (pid_ > 0) waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }

 private:
  int pid_ = -1;
  int go_ = -1;
};

TEST(ProcPidTest, StatOfSelf) {
  std::string comm;
  const std::vector<std::string> f =
      StatFields(ReadFileContents("/proc/self/stat"), &comm);
  ASSERT_EQ(f.size(), 53u);  // 52 fields, numbered from 1
  EXPECT_EQ(f[1], std::to_string(getpid()));
  char name[16] = {};
  ASSERT_THAT(prctl(PR_GET_NAME, name), SyscallSucceeds());
  EXPECT_EQ(comm, name);
  EXPECT_EQ(f[3], "R");  // it is reading its own stat
  EXPECT_EQ(f[4], std::to_string(getppid()));
  EXPECT_EQ(f[5], std::to_string(getpgrp()));
  EXPECT_EQ(f[6], std::to_string(getsid(0)));
  EXPECT_EQ(f[19], std::to_string(getpriority(PRIO_PROCESS, 0)));  // nice
  EXPECT_EQ(f[20], "1");  // threads
  EXPECT_EQ(f[38], "17");  // exit_signal: SIGCHLD, a fork child
  rlimit rss;
  ASSERT_THAT(getrlimit(RLIMIT_RSS, &rss), SyscallSucceeds());
  EXPECT_EQ(f[25], std::to_string(rss.rlim_cur));
  EXPECT_GT(std::stoull(f[23]), 0u);  // vsize
  EXPECT_GT(std::stoull(f[24]), 0u);  // rss
  // Addresses this process may see: its stack and its arguments.
  const uint64_t start_stack = std::stoull(f[28]);
  int local;
  EXPECT_GT(start_stack, reinterpret_cast<uint64_t>(&local));
  EXPECT_LT(std::stoull(f[48]), std::stoull(f[49]));  // arg_start < arg_end
  EXPECT_LE(std::stoull(f[49]), std::stoull(f[50]));  // arg_end <= env_start
  EXPECT_LT(std::stoull(f[50]), std::stoull(f[51]));  // env_start < env_end
}

TEST(ProcPidTest, StatusOfSelf) {
  const std::string s = ReadFileContents("/proc/self/status");
  char name[16] = {};
  ASSERT_THAT(prctl(PR_GET_NAME, name), SyscallSucceeds());
  EXPECT_EQ(StatusField(s, "Name"), name);
  EXPECT_EQ(StatusField(s, "State"), "R (running)");
  EXPECT_EQ(StatusField(s, "Tgid"), std::to_string(getpid()));
  EXPECT_EQ(StatusField(s, "Pid"), std::to_string(getpid()));
  EXPECT_EQ(StatusField(s, "PPid"), std::to_string(getppid()));
  EXPECT_EQ(StatusField(s, "NSpid"), std::to_string(getpid()));
  auto ids = [](unsigned a, unsigned b, unsigned c, unsigned d) {
    return std::to_string(a) + "\t" + std::to_string(b) + "\t" +
           std::to_string(c) + "\t" + std::to_string(d);
  };
  uid_t ru, eu, su;
  gid_t rg, eg, sg;
  getresuid(&ru, &eu, &su);
  getresgid(&rg, &eg, &sg);
  EXPECT_EQ(StatusField(s, "Uid"), ids(ru, eu, su, eu));
  EXPECT_EQ(StatusField(s, "Gid"), ids(rg, eg, sg, eg));
  const mode_t mask = umask(027);
  umask(mask);
  char want[8];
  snprintf(want, sizeof(want), "%04o", mask);
  EXPECT_EQ(StatusField(s, "Umask"), want);
  EXPECT_EQ(StatusField(s, "Threads"), "1");
  EXPECT_THAT(StatusField(s, "VmRSS"), MatchesRegex(" *[1-9][0-9]* kB"));
  EXPECT_THAT(StatusField(s, "VmSize"), MatchesRegex(" *[1-9][0-9]* kB"));
  EXPECT_THAT(StatusField(s, "SigBlk"), MatchesRegex("[0-9a-f]{16}"));
  EXPECT_THAT(StatusField(s, "CapEff"), MatchesRegex("[0-9a-f]{16}"));
  EXPECT_EQ(StatusField(s, "CapEff") == "0000000000000000", geteuid() != 0);
}

TEST(ProcPidTest, StatusShowsSignalDispositionsAndMask) {
  struct sigaction ign {}, old_usr1{}, old_usr2{};
  ign.sa_handler = SIG_IGN;
  ASSERT_THAT(sigaction(SIGUSR1, &ign, &old_usr1), SyscallSucceeds());
  struct sigaction catcher {};
  catcher.sa_handler = [](int) {};
  ASSERT_THAT(sigaction(SIGUSR2, &catcher, &old_usr2), SyscallSucceeds());
  sigset_t block, old_mask;
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  ASSERT_THAT(sigprocmask(SIG_BLOCK, &block, &old_mask), SyscallSucceeds());
  const std::string s = ReadFileContents("/proc/self/status");
  sigprocmask(SIG_SETMASK, &old_mask, nullptr);
  sigaction(SIGUSR1, &old_usr1, nullptr);
  sigaction(SIGUSR2, &old_usr2, nullptr);
  auto has = [](const std::string& hex, int sig) {
    return (std::stoull(hex, nullptr, 16) >> (sig - 1)) & 1;
  };
  EXPECT_TRUE(has(StatusField(s, "SigIgn"), SIGUSR1));
  EXPECT_TRUE(has(StatusField(s, "SigCgt"), SIGUSR2));
  EXPECT_FALSE(has(StatusField(s, "SigCgt"), SIGUSR1));
  EXPECT_TRUE(has(StatusField(s, "SigBlk"), SIGTERM));
}

TEST(ProcPidTest, Statm) {
  const std::vector<std::string> f =
      Split(ReadFileContents("/proc/self/statm"), ' ');
  ASSERT_EQ(f.size(), 7u);
  const unsigned long long size = std::stoull(f[0]), rss = std::stoull(f[1]);
  EXPECT_GT(size, 0u);
  EXPECT_GT(rss, 0u);
  EXPECT_LE(rss, size);
  // The same numbers as stat's vsize (bytes) and rss (pages).
  const std::vector<std::string> stat =
      StatFields(ReadFileContents("/proc/self/stat"), nullptr);
  EXPECT_EQ(std::stoull(stat[23]) / PageSize(), size);
}

TEST(ProcPidTest, CmdlineAndEnviron) {
  // The test binary was started by ctest or runsc with its path as argv[0]
  // and no arguments but gtest's.
  const std::string cmdline = ReadFileContents("/proc/self/cmdline");
  ASSERT_FALSE(cmdline.empty());
  EXPECT_EQ(cmdline.back(), '\0');
  const std::vector<std::string> args = Split(cmdline, '\0');
  ASSERT_GE(args.size(), 1u);
  EXPECT_THAT(args[0], HasSubstr("syscalls_proc_pid"));
  // environ is the initial environment: what main got, PATH among it.
  const std::string environ = ReadFileContents("/proc/self/environ");
  if (getenv("PATH")) {
    EXPECT_THAT(environ, HasSubstr(std::string("PATH=") + getenv("PATH") +
                                   std::string(1, '\0')));
  }
}

TEST(ProcPidTest, CmdlineOfAnExecedChild) {
  int ready[2];
  ASSERT_THAT(pipe2(ready, O_CLOEXEC), SyscallSucceeds());
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // The write end closes at exec: EOF tells the parent it happened.
    close(ready[0]);
    execl("/bin/sleep", "sleep", "1000", "x y", nullptr);
    _exit(127);
  }
  close(ready[1]);
  char c;
  ASSERT_THAT(read(ready[0], &c, 1), SyscallSucceedsWithValue(0));
  close(ready[0]);
  EXPECT_EQ(ReadFileContents(Proc(pid, "cmdline").c_str()),
            std::string("sleep\0001000\0x y\0", 15));
  EXPECT_EQ(ReadFileContents(Proc(pid, "comm").c_str()), "sleep\n");
  EXPECT_EQ(Readlink(Proc(pid, "exe")), "/usr/bin/sleep");
  kill(pid, SIGKILL);
  int status;
  ASSERT_THAT(waitpid(pid, &status, 0), SyscallSucceeds());
}

TEST(ProcPidTest, ChildStatStateAndZombie) {
  Child child;
  const std::string path = Proc(child.pid(), "stat");
  // It sleeps in read(2) (or has not got there yet): S or R, never T or Z.
  std::vector<std::string> f = StatFields(ReadFileContents(path.c_str()), nullptr);
  ASSERT_EQ(f.size(), 53u);
  EXPECT_EQ(f[1], std::to_string(child.pid()));
  EXPECT_TRUE(f[3] == "S" || f[3] == "R") << f[3];
  EXPECT_EQ(f[4], std::to_string(getpid()));
  // Released, it exits; a zombie until reaped.
  child.Release();
  siginfo_t info;
  ASSERT_THAT(waitid(P_PID, child.pid(), &info, WEXITED | WNOWAIT),
              SyscallSucceeds());
  f = StatFields(ReadFileContents(path.c_str()), nullptr);
  EXPECT_EQ(f[3], "Z");
  EXPECT_EQ(StatusField(ReadFileContents(Proc(child.pid(), "status").c_str()),
                        "State"),
            "Z (zombie)");
  const int pid = child.pid();
  EXPECT_EQ(WEXITSTATUS(child.Reap()), 7);
  struct stat st;
  EXPECT_THAT(stat(Proc(pid, "").c_str(), &st), SyscallFailsWithErrno(ENOENT));
}

TEST(ProcPidTest, CommIsWritableByTheProcessOnly) {
  char old[16] = {};
  ASSERT_THAT(prctl(PR_GET_NAME, old), SyscallSucceeds());
  {
    FileDescriptor fd(open("/proc/self/comm", O_WRONLY));
    ASSERT_GE(fd.get(), 0);
    ASSERT_THAT(write(fd.get(), "renamed-by-proc-x", 17),
                SyscallSucceedsWithValue(17));
  }
  char name[16] = {};
  ASSERT_THAT(prctl(PR_GET_NAME, name), SyscallSucceeds());
  EXPECT_STREQ(name, "renamed-by-proc");  // 15 bytes kept
  EXPECT_EQ(ReadFileContents("/proc/self/comm"), "renamed-by-proc\n");
  ASSERT_THAT(prctl(PR_SET_NAME, old), SyscallSucceeds());
  // Another process's comm: EINVAL at write time (root may open it).
  Child child;
  FileDescriptor fd(open(Proc(child.pid(), "comm").c_str(), O_WRONLY));
  ASSERT_GE(fd.get(), 0);
  EXPECT_THAT(write(fd.get(), "x", 1), SyscallFailsWithErrno(EINVAL));
}

TEST(ProcPidTest, ThreadsInTask) {
  const std::string self_task = "/proc/self/task/" +
                                std::to_string(syscall(SYS_gettid)) + "/comm";
  struct Shared {
    int ready[2], done[2];
    long tid = 0;
  } sh;
  ASSERT_THAT(pipe(sh.ready), SyscallSucceeds());
  ASSERT_THAT(pipe(sh.done), SyscallSucceeds());
  pthread_t thread;
  ASSERT_EQ(pthread_create(
                &thread, nullptr,
                [](void* arg) -> void* {
                  auto* s = static_cast<Shared*>(arg);
                  prctl(PR_SET_NAME, "proc-worker");
                  s->tid = syscall(SYS_gettid);
                  char c = 1;
                  (void)!write(s->ready[1], &c, 1);
                  (void)!read(s->done[0], &c, 1);
                  return nullptr;
                },
                &sh),
            0);
  char c;
  ASSERT_THAT(read(sh.ready[0], &c, 1), SyscallSucceedsWithValue(1));
  const std::string task = "/proc/self/task/" + std::to_string(sh.tid);
  EXPECT_EQ(ReadFileContents((task + "/comm").c_str()), "proc-worker\n");
  std::string comm;
  std::vector<std::string> f =
      StatFields(ReadFileContents((task + "/stat").c_str()), &comm);
  ASSERT_EQ(f.size(), 53u);
  EXPECT_EQ(f[1], std::to_string(sh.tid));
  EXPECT_EQ(comm, "proc-worker");
  EXPECT_EQ(StatusField(ReadFileContents((task + "/status").c_str()), "Tgid"),
            std::to_string(getpid()));
  EXPECT_EQ(StatusField(ReadFileContents("/proc/self/status"), "Threads"), "2");
  // /proc/<tid> of a thread can be looked up, though not listed.
  struct stat st;
  EXPECT_THAT(stat(("/proc/" + std::to_string(sh.tid)).c_str(), &st),
              SyscallSucceeds());
  EXPECT_FALSE(ReadFileContents(self_task.c_str()).empty());
  c = 0;
  ASSERT_THAT(write(sh.done[1], &c, 1), SyscallSucceedsWithValue(1));
  pthread_join(thread, nullptr);
  for (int fd : {sh.ready[0], sh.ready[1], sh.done[0], sh.done[1]}) close(fd);
}

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
