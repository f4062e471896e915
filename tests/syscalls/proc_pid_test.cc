// /proc/<pid>: this process, its threads and its children as Linux shows
// them: stat, status, statm, cmdline, environ, comm, task/.
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

}  // namespace
