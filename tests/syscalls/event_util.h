// Helpers shared by the event-notification tests (eventfd, timerfd,
// signalfd, epoll, pidfd): waiting for a thread to block, and a blocking
// call run on a thread.
#ifndef TESTS_SYSCALLS_EVENT_UTIL_H_
#define TESTS_SYSCALLS_EVENT_UTIL_H_

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <functional>
#include <string>
#include <thread>

#include "test_util.h"

namespace syscall_test {

// The state letter of thread `tid` of this process in /proc (R, S, ...).
inline char ThreadState(pid_t tid) {
  const std::string path = "/proc/self/task/" + std::to_string(tid) + "/stat";
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return '?';
  char buf[512];
  const ssize_t n = ::read(fd.get(), buf, sizeof buf - 1);
  if (n <= 0) return '?';
  buf[n] = 0;
  const char* paren = strrchr(buf, ')');
  return paren && paren[1] == ' ' ? paren[2] : '?';
}

// A call made on its own thread, which can be waited for to block (its
// state S in /proc after it started the call) and then joined.
class BlockedCall {
 public:
  explicit BlockedCall(std::function<long()> call)
      : thread_([this, call] {
          tid_ = static_cast<pid_t>(syscall(SYS_gettid));
          started_ = true;
          result_ = call();
          errno_ = errno;
          done_ = true;
        }) {}
  ~BlockedCall() {
    if (thread_.joinable()) thread_.join();
  }
  // Spins (yielding) until the thread sleeps in its call. The state can
  // read S only once it is in the call or sleeping for another reason
  // (none here: it makes no other blocking call after `started_`).
  void WaitBlocked() {
    while (!started_) sched_yield();
    while (!done_ && ThreadState(tid_) != 'S') sched_yield();
  }
  // Signals the thread until its call returns (a signal that came before
  // the call started is handled and the next one interrupts it).
  void InterruptWith(int sig) {
    while (!started_) sched_yield();
    while (!done_) {
      pthread_kill(thread_.native_handle(), sig);
      sched_yield();
    }
  }
  bool done() const { return done_; }
  long Join() {
    thread_.join();
    return result_;
  }
  int error() const { return errno_; }
  pid_t tid() const { return tid_; }

 private:
  std::atomic<pid_t> tid_{0};
  std::atomic<bool> started_{false};
  std::atomic<bool> done_{false};
  long result_ = 0;
  int errno_ = 0;
  std::thread thread_;
};

// Installs a handler for `sig` (with `flags`) for the scope.
class ScopedSignalHandler {
 public:
  ScopedSignalHandler(int sig, int flags = 0) : sig_(sig) {
    struct sigaction sa = {};
    sa.sa_handler = [](int) {};
    sa.sa_flags = flags;
    sigaction(sig, &sa, &old_);
  }
  ~ScopedSignalHandler() { sigaction(sig_, &old_, nullptr); }

 private:
  int sig_;
  struct sigaction old_;
};

// Runs `call` (which blocks) on a thread, signals it with `sig` (caught
// by a handler with `flags`) until it returns, and expects EINTR.
inline void ExpectInterrupted(std::function<long()> call, int sig,
                              int flags = 0) {
  ScopedSignalHandler handler(sig, flags);
  BlockedCall blocked(std::move(call));
  blocked.WaitBlocked();
  blocked.InterruptWith(sig);
  EXPECT_EQ(blocked.Join(), -1);
  EXPECT_EQ(blocked.error(), EINTR) << ErrnoName(blocked.error());
}

// The value of `key` (e.g. "eventfd-count:") in /proc/self/fdinfo/<fd>,
// without the leading blanks; "" if absent.
inline std::string FdinfoField(int fd, const std::string& key) {
  const std::string text =
      ReadFileContents(("/proc/self/fdinfo/" + std::to_string(fd)).c_str());
  size_t at = text.find("\n" + key);
  if (at == std::string::npos) return "";
  at += key.size() + 1;
  while (at < text.size() && (text[at] == ' ' || text[at] == '\t')) ++at;
  return text.substr(at, text.find('\n', at) - at);
}

}  // namespace syscall_test

#endif  // TESTS_SYSCALLS_EVENT_UTIL_H_
