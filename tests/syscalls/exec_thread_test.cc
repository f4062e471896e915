// execve(2) from a multi-threaded process (the other threads die, a
// non-leader takes over the pid), vfork + exec, and execveat(2)'s fd,
// dirfd and flags.
#include <pthread.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "exec_util.h"
#include "temp_dir.h"

namespace syscall_test {
namespace {

std::string Str(long v) { return std::to_string(v); }

// After the exec'd child was waited for: nothing else is left to wait for
// (the old threads were no children, and the process exited once).
void ExpectNoMoreChildren() {
  EXPECT_THAT(waitpid(-1, nullptr, WNOHANG | __WALL),
              SyscallFailsWithErrno(ECHILD));
}

// The tids of the old image the probe looked for, and what it found.
std::map<std::string, std::string> OldTids(const ExecOutcome& o) {
  std::map<std::string, std::string> out;
  for (auto& [key, value] : o.report)
    if (key.size() > 3 && key.starts_with("tid")) out[key.substr(3)] = value;
  return out;
}

int g_block[2];  // never written: threads wait on it forever

TEST(ExecThreadTest, ExecFromLeaderEndsTheOtherThreads) {
  ExecOutcome o = ForkAndExec([] {
    int tids[2];
    if (pipe(tids) != 0 || pipe(g_block) != 0) return errno;
    std::string list;
    for (int i = 0; i < 3; ++i) {
      pthread_t t;
      if (pthread_create(
              &t, nullptr,
              [](void* fd) -> void* {
                const int tid = syscall(SYS_gettid);
                write(static_cast<int>(reinterpret_cast<intptr_t>(fd)), &tid,
                      4);
                char c;
                read(g_block[0], &c, 1);
                return nullptr;
              },
              reinterpret_cast<void*>(intptr_t{tids[1]})) != 0)
        return EAGAIN;
      int tid;
      if (read(tids[0], &tid, 4) != 4) return EIO;
      list += (list.empty() ? "" : ",") + Str(tid);
    }
    return Execve("/proc/self/exe", CStrings({"exec_test"}),
                  ProbeEnv({"EXEC_TEST_TIDS=" + list}));
  });
  ASSERT_TRUE(o.ran()) << ErrnoName(o.exec_errno);
  EXPECT_TRUE(WIFEXITED(o.status) && WEXITSTATUS(o.status) == 0) << o.status;
  EXPECT_EQ(o["tid"], o["pid"]);
  auto old = OldTids(o);
  EXPECT_EQ(old.size(), 3u);
  for (auto& [tid, err] : old) EXPECT_EQ(err, Str(ESRCH)) << "thread " << tid;
  ExpectNoMoreChildren();
}

struct ExecThreadArgs {
  const char* exe;
  pthread_t leader;
  bool join_leader;
};

// Execs from a non-leader thread (after the leader exited, if asked).
void* ExecFromThread(void* arg) {
  auto* a = static_cast<ExecThreadArgs*>(arg);
  if (a->join_leader) pthread_join(a->leader, nullptr);
  const std::string tids = Str(syscall(SYS_gettid)) + "," + Str(getpid());
  // Not /proc/self/exe: with the leader gone it has no exe link (ENOENT).
  const int err = Execve(a->exe, CStrings({"exec_test"}),
                         ProbeEnv({"EXEC_TEST_TIDS=" + tids}));
  dprintf(kReportFd, "exec_errno=%d\n", err);
  _exit(127);
}

void ExecFromNonLeader(bool leader_exits_first) {
  const pid_t parent = getpid();
  const std::string exe = SelfExe();
  ExecOutcome o = ForkAndExec([&] {
    static ExecThreadArgs args;
    args = {exe.c_str(), pthread_self(), leader_exits_first};
    pthread_t t;
    if (pthread_create(&t, nullptr, ExecFromThread, &args) != 0) return EAGAIN;
    // Only this thread ends (no unwinding through gtest); the kernel clears
    // its tid word, which pthread_join in the other thread waits for.
    if (leader_exits_first) syscall(SYS_exit, 0);
    pthread_join(t, nullptr);  // never returns: the exec ends this thread
    return EDEADLK;
  });
  ASSERT_TRUE(o.ran()) << ErrnoName(o.exec_errno);
  EXPECT_TRUE(WIFEXITED(o.status) && WEXITSTATUS(o.status) == 0) << o.status;
  // The exec'ing thread took over the leader's id.
  EXPECT_EQ(o["tid"], o["pid"]);
  EXPECT_EQ(o["ppid"], Str(parent));
  auto old = OldTids(o);
  ASSERT_EQ(old.size(), 2u);
  for (auto& [tid, err] : old)
    EXPECT_EQ(err, tid == o["pid"] ? "0" : Str(ESRCH)) << "thread " << tid;
  ExpectNoMoreChildren();
}

TEST(ExecThreadTest, ExecFromOtherThreadTakesOverThePid) {
  ExecFromNonLeader(false);
}

TEST(ExecThreadTest, ExecAfterTheLeaderExited) { ExecFromNonLeader(true); }

// Two threads exec at once: one wins, the other dies with the old image
// (Linux's de_thread: the loser's exec fails, it was killed anyway).
TEST(ExecThreadTest, TwoThreadsExecAtOnce) {
  const std::string exe = SelfExe();
  ExecOutcome o = ForkAndExec([&] {
    static pthread_barrier_t barrier;
    static const char* path;
    path = exe.c_str();
    pthread_barrier_init(&barrier, nullptr, 2);
    auto run = [](void*) -> void* {
      pthread_barrier_wait(&barrier);
      const int err = Execve(path, CStrings({"exec_test"}), ProbeEnv());
      dprintf(kReportFd, "exec_errno=%d\n", err);
      _exit(127);
    };
    pthread_t t;
    if (pthread_create(&t, nullptr, run, nullptr) != 0) return EAGAIN;
    run(nullptr);
    return 0;
  });
  ASSERT_TRUE(o.ran()) << ErrnoName(o.exec_errno);
  EXPECT_EQ(o.exec_errno, 0);  // the loser never came back from execve
  EXPECT_TRUE(WIFEXITED(o.status) && WEXITSTATUS(o.status) == 0) << o.status;
  EXPECT_EQ(o["tid"], o["pid"]);
  ExpectNoMoreChildren();
}

TEST(ExecThreadTest, VforkParentResumesWhenTheChildExecs) {
  int report[2], go[2];
  ASSERT_THAT(pipe2(report, O_CLOEXEC), SyscallSucceeds());
  ASSERT_THAT(pipe(go), SyscallSucceeds());
  ASSERT_THAT(fcntl(go[1], F_SETFD, FD_CLOEXEC), SyscallSucceeds());
  CStrings argv({"exec_test"});
  CStrings envp = ProbeEnv({"EXEC_TEST_WAIT_FD=" + Str(go[0])});
  const pid_t pid = vfork();
  if (pid == 0) {
    dup2(report[1], kReportFd);
    execve("/proc/self/exe", argv.get(), envp.get());
    _exit(127);
  }
  ASSERT_THAT(pid, SyscallSucceeds());
  close(report[1]);
  close(go[0]);
  // We run while the exec'd child still waits for us.
  EXPECT_THAT(waitpid(pid, nullptr, WNOHANG), SyscallSucceedsWithValue(0));
  ASSERT_THAT(write(go[1], "x", 1), SyscallSucceedsWithValue(1));
  close(go[1]);
  const std::string text = ReadToEnd(report[0]);
  close(report[0]);
  int status;
  ASSERT_THAT(waitpid(pid, &status, 0), SyscallSucceedsWithValue(pid));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_NE(text.find("waited=1\n"), std::string::npos) << text;
}

class ExecveatTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(CopySelf(prog_)); }

  static int Execveat(int dirfd, const std::string& path, int flags) {
    syscall(SYS_execveat, dirfd, path.c_str(), CStrings({"execveat"}).get(),
            ProbeEnv().get(), flags);
    return errno;
  }
  ExecOutcome Run(int dirfd, const std::string& path, int flags) {
    return ForkAndExec([&] { return Execveat(dirfd, path, flags); });
  }

  TempDir dir_;
  const std::string prog_ = dir_ / "prog";
};

TEST_F(ExecveatTest, EmptyPathRunsTheFd) {
  for (int how : {O_RDONLY, O_PATH}) {
    SCOPED_TRACE(how);
    FileDescriptor fd(open(prog_.c_str(), how));
    ASSERT_GE(fd.get(), 0);
    ExecOutcome o = Run(fd.get(), "", AT_EMPTY_PATH);
    ASSERT_TRUE(o.ran()) << ErrnoName(o.exec_errno);
    EXPECT_EQ(o["exe"], prog_);
    EXPECT_EQ(o["execfn"], "/dev/fd/" + Str(fd.get()));
    EXPECT_EQ(o["argv0"], "execveat");
    // Linux >= 6.14 names the task after the file, not "/dev/fd/N".
    EXPECT_EQ(o["comm"], "prog");
  }
}

TEST_F(ExecveatTest, RelativePathFromDirfd) {
  FileDescriptor dirfd(open(dir_.path().c_str(), O_RDONLY | O_DIRECTORY));
  ASSERT_GE(dirfd.get(), 0);
  ExecOutcome o = Run(dirfd.get(), "prog", 0);
  ASSERT_TRUE(o.ran()) << ErrnoName(o.exec_errno);
  EXPECT_EQ(o["exe"], prog_);
  EXPECT_EQ(o["execfn"], "/dev/fd/" + Str(dirfd.get()) + "/prog");
  EXPECT_EQ(o["comm"], "prog");
  // An absolute path ignores dirfd, even one that is no directory.
  FileDescriptor file(open(kRegularFile, O_RDONLY));
  o = Run(file.get(), prog_, 0);
  ASSERT_TRUE(o.ran()) << ErrnoName(o.exec_errno);
  EXPECT_EQ(o["execfn"], prog_);
  // AT_FDCWD: relative to the cwd, and passed on as it was given.
  o = ForkAndExec([&] {
    if (chdir(dir_.path().c_str()) != 0) return errno;
    return Execveat(AT_FDCWD, "prog", 0);
  });
  ASSERT_TRUE(o.ran()) << ErrnoName(o.exec_errno);
  EXPECT_EQ(o["execfn"], "prog");
}

TEST_F(ExecveatTest, Errors) {
  FileDescriptor dirfd(open(dir_.path().c_str(), O_RDONLY | O_DIRECTORY));
  FileDescriptor file(open(kRegularFile, O_RDONLY));
  FileDescriptor closed(dup(0));
  const int closed_fd = closed.get();
  closed.reset();
  ASSERT_THAT(symlink(prog_.c_str(), (dir_ / "link").c_str()),
              SyscallSucceeds());
  auto err = [&](int dirfd, const std::string& path, int flags) {
    return ExecErrno([&] { return Execveat(dirfd, path, flags); });
  };
  EXPECT_EQ(err(closed_fd, "prog", 0), EBADF);
  EXPECT_EQ(err(closed_fd, "", AT_EMPTY_PATH), EBADF);
  EXPECT_EQ(err(file.get(), "prog", 0), ENOTDIR);
  EXPECT_EQ(err(dirfd.get(), "prog", 0x1), EINVAL);
  EXPECT_EQ(err(dirfd.get(), "", 0), ENOENT);
  EXPECT_EQ(err(dirfd.get(), "", AT_EMPTY_PATH), EACCES);  // a directory
  EXPECT_EQ(err(file.get(), "", AT_EMPTY_PATH), EACCES);   // not executable
  EXPECT_EQ(err(dirfd.get(), "link", AT_SYMLINK_NOFOLLOW), ELOOP);
  ExecOutcome o = Run(dirfd.get(), "link", 0);
  EXPECT_TRUE(o.ran()) << ErrnoName(o.exec_errno);
}

}  // namespace
}  // namespace syscall_test
