// Helpers of the fcntl record lock tests: struct flock requests, a forked
// child that reports what another process sees, and a wait for a child to
// sleep in F_SETLKW (its /proc state, never a sleep).
#ifndef TESTS_SYSCALLS_FCNTL_LOCK_UTIL_H_
#define TESTS_SYSCALLS_FCNTL_LOCK_UTIL_H_

#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <string>

#include "splice_util.h"
#include "temp_dir.h"
#include "test_util.h"

namespace syscall_test {

// A fixture with a file "data" in a fresh directory under /tmp.
class LockFileTest : public ::testing::Test {
 protected:
  void SetUp() override { MakeFile(path_, "data"); }
  FileDescriptor Open(int flags = O_RDWR) {
    return OpenOrFail(path_.c_str(), flags);
  }

  TempDir dir_;
  std::string path_ = dir_ / "f";
};

inline struct flock Flock(short type, off_t start, off_t len,
                          short whence = SEEK_SET) {
  struct flock fl {};
  fl.l_type = type;
  fl.l_whence = whence;
  fl.l_start = start;
  fl.l_len = len;
  return fl;
}

// fcntl(fd, cmd, &fl) with fl built from the rest: 0 or -1 with errno.
inline int Lock(int fd, int cmd, short type, off_t start, off_t len,
                short whence = SEEK_SET) {
  struct flock fl = Flock(type, start, len, whence);
  return fcntl(fd, cmd, &fl);
}

// The locks of other owners on fd's file, as F_GETLK (or F_OFD_GETLK)
// finds them from `start` on: "W0-39 R60-EOF", each marked "@pid" unless
// its l_pid is `pid`. Stops at 16 locks.
inline std::string LocksFrom(int fd, int cmd, pid_t pid, off_t start = 0) {
  std::string out;
  for (int i = 0; i < 16; ++i) {
    struct flock fl = Flock(F_WRLCK, start, 0);
    if (fcntl(fd, cmd, &fl) != 0) return out + "error " + ErrnoName(errno);
    if (fl.l_type == F_UNLCK) break;
    if (!out.empty()) out += " ";
    out += fl.l_type == F_RDLCK ? "R" : fl.l_type == F_WRLCK ? "W" : "?";
    out += std::to_string(fl.l_start) + "-";
    out += fl.l_len == 0 ? "EOF" : std::to_string(fl.l_start + fl.l_len - 1);
    if (fl.l_whence != SEEK_SET)
      out += "(whence " + std::to_string(fl.l_whence) + ")";
    if (fl.l_pid != pid) out += "@" + std::to_string(fl.l_pid);
    if (fl.l_len == 0) break;
    start = fl.l_start + fl.l_len;
  }
  return out;
}

// Runs `body` in a forked child and returns what it wrote to the fd it is
// given (its report), or "exit N"/"signal N" if it ended otherwise than
// with 0.
inline std::string ReportFromChild(const std::function<std::string()>& body) {
  Pipe p = MakePipe();
  const pid_t pid = fork();
  if (pid == 0) {
    const std::string s = body();
    const bool ok =
        write(p.w.get(), s.data(), s.size()) == static_cast<ssize_t>(s.size());
    _exit(ok ? 0 : 1);
  }
  p.w.reset();
  const std::string out = ReadToEnd(p.r.get());
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return "waitpid: " + ErrnoName(errno);
  if (WIFSIGNALED(status)) return "signal " + std::to_string(WTERMSIG(status));
  if (WEXITSTATUS(status) != 0)
    return "exit " + std::to_string(WEXITSTATUS(status));
  return out;
}

// What another process sees of the POSIX and OFD locks on fd's file,
// with `pid` (the caller, by default) unmarked.
inline std::string LocksSeenByChild(int fd, pid_t pid = getpid()) {
  return ReportFromChild([&] { return LocksFrom(fd, F_GETLK, pid); });
}

// errno of fcntl(fd, cmd, request) in a forked child (0 on success).
inline int ErrnoInChild(int fd, int cmd, short type, off_t start, off_t len) {
  const std::string r = ReportFromChild([&] {
    return std::to_string(Lock(fd, cmd, type, start, len) == 0 ? 0 : errno);
  });
  return r.empty() ? -1 : std::stoi(r);
}

// State letter of process `pid` (or its thread `tid`) in /proc ('?' if
// gone).
inline char ProcState(pid_t pid, pid_t tid = 0) {
  const std::string path =
      "/proc/" + std::to_string(pid) +
      (tid ? "/task/" + std::to_string(tid) : std::string()) + "/stat";
  FileDescriptor fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return '?';
  char buf[512];
  const ssize_t n = read(fd.get(), buf, sizeof(buf) - 1);
  if (n <= 0) return '?';
  const std::string s(buf, static_cast<size_t>(n));
  const size_t paren = s.rfind(')');
  return paren == std::string::npos || paren + 2 >= s.size() ? '?'
                                                             : s[paren + 2];
}

// Waits until `pid` (or its thread `tid`) sleeps (state S): a child that
// said it is about to call F_SETLKW and then sleeps is blocked there.
// False if it ended.
inline bool AwaitSleeping(pid_t pid, pid_t tid = 0) {
  for (;;) {
    const char s = ProcState(pid, tid);
    if (s == 'S') return true;
    if (s == 'Z' || s == '?' || s == 'X') return false;
    sched_yield();
  }
}

// A forked child that runs `body(to_parent, from_parent)` and exits with
// its value; the parent talks to it one byte at a time.
class LockChild {
 public:
  explicit LockChild(const std::function<int(int, int)>& body) {
    Pipe up = MakePipe(), down = MakePipe();
    pid_ = fork();
    if (pid_ == 0) _exit(body(up.w.get(), down.r.get()));
    from_child_ = std::move(up.r);
    to_child_ = std::move(down.w);
  }
  ~LockChild() {
    if (pid_ > 0 && !reaped_) {
      kill(pid_, SIGKILL);
      Wait();
    }
  }
  pid_t pid() const { return pid_; }
  // The next byte the child sent ('\0' at its end).
  char Hear() {
    char c = 0;
    return read(from_child_.get(), &c, 1) == 1 ? c : '\0';
  }
  void Tell(char c = 'g') { ASSERT_EQ(write(to_child_.get(), &c, 1), 1); }
  // Its exit code, 128 + N if signal N killed it.
  int Wait() {
    int status = 0;
    if (waitpid(pid_, &status, 0) != pid_) return -1;
    reaped_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  // In the child: one byte to the parent, one from it.
  static bool Send(int fd, char c = 'r') { return write(fd, &c, 1) == 1; }
  static char Receive(int fd) {
    char c = 0;
    return read(fd, &c, 1) == 1 ? c : '\0';
  }

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  FileDescriptor from_child_, to_child_;
};

}  // namespace syscall_test

#endif  // TESTS_SYSCALLS_FCNTL_LOCK_UTIL_H_
