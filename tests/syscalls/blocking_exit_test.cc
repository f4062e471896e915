// Threads blocked in read, write, futex, wait4, nanosleep, poll and
// sigtimedwait while another thread calls exit_group, execve or fork, or
// signals them: Linux ends them all (exit, exec), leaves them blocked and
// working (fork), or interrupts each with EINTR (a handler without
// SA_RESTART). The sandbox must do the same and never hang.
#include <fcntl.h>
#include <linux/futex.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test_util.h"

namespace syscall_test {
namespace {

enum class Call { kRead, kWrite, kFutex, kWait4, kNanosleep, kPoll, kSigwait };
constexpr Call kAllCalls[] = {Call::kRead,      Call::kWrite, Call::kFutex,
                              Call::kWait4,     Call::kNanosleep,
                              Call::kPoll,      Call::kSigwait};

// One thread per kind of call, each blocked in it. The calls wait on
// things the test controls, so it can release each one (Release) or leave
// them to be ended by exit_group or execve.
class Blockers {
 public:
  // `sleep` is the nanosleep's length.
  explicit Blockers(timespec sleep) : sleep_(sleep) {
    EXPECT_THAT(pipe(read_pipe_), SyscallSucceeds());
    EXPECT_THAT(pipe(write_pipe_), SyscallSucceeds());
    EXPECT_THAT(pipe(poll_pipe_), SyscallSucceeds());
    EXPECT_THAT(pipe(child_pipe_), SyscallSucceeds());
    // A full pipe, so that a write blocks.
    fcntl(write_pipe_[1], F_SETFL, O_NONBLOCK);
    char chunk[4096] = {};
    while (write(write_pipe_[1], chunk, sizeof chunk) > 0) filled_ += 4096;
    fcntl(write_pipe_[1], F_SETFL, 0);
    // A child that exits when told (or when we are gone: EOF).
    child_ = fork();
    if (child_ == 0) {
      close(child_pipe_[1]);
      char c;
      _exit(read(child_pipe_[0], &c, 1) == 1 ? 3 : 4);
    }
    for (Call c : kAllCalls) {
      auto& s = slots_.emplace_back(std::make_unique<Slot>());
      s->call = c;
      s->thread = std::thread([this, slot = s.get()] { Run(*slot); });
    }
    for (auto& s : slots_)
      while (!s->started.load()) sched_yield();
    for (int i = 0; i < 100; ++i) sched_yield();
  }
  ~Blockers() {
    for (auto& s : slots_)
      if (s->thread.joinable()) s->thread.join();
    for (int* p : {read_pipe_, write_pipe_, poll_pipe_, child_pipe_}) {
      close(p[0]);
      close(p[1]);
    }
    if (child_ > 0) waitpid(child_, nullptr, 0);
  }

  // Makes the call of `c` complete normally.
  void Release(Call c) {
    switch (c) {
      case Call::kRead:
        EXPECT_EQ(write(read_pipe_[1], "r", 1), 1);
        break;
      case Call::kWrite: {
        char chunk[4096];
        for (size_t n = 0; n < filled_ + 1;) {
          ssize_t r = read(write_pipe_[0], chunk, sizeof chunk);
          ASSERT_GT(r, 0);
          n += r;
        }
        break;
      }
      case Call::kFutex:
        word_.store(1);
        syscall(SYS_futex, &word_, FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
        break;
      case Call::kWait4:
        EXPECT_EQ(write(child_pipe_[1], "x", 1), 1);
        break;
      case Call::kNanosleep:
        break;  // ends by itself
      case Call::kPoll:
        EXPECT_EQ(write(poll_pipe_[1], "p", 1), 1);
        break;
      case Call::kSigwait:
        syscall(SYS_tgkill, getpid(), SlotOf(c).tid.load(), SIGUSR2);
        break;
    }
  }

  // What the call of `c` returned, once it has (-errno on failure).
  long Join(Call c) {
    Slot& s = SlotOf(c);
    s.thread.join();
    return s.result;
  }

  // Sends `sig` to the thread of `c` until its call has returned: a signal
  // that comes just before the call would not interrupt it.
  void InterruptUntilDone(Call c, int sig) {
    Slot& s = SlotOf(c);
    while (!s.done.load()) {
      syscall(SYS_tgkill, getpid(), s.tid.load(), sig);
      sched_yield();
    }
  }

  size_t filled() const { return filled_; }
  pid_t child() const { return child_; }

 private:
  struct Slot {
    Call call;
    std::thread thread;
    std::atomic<pid_t> tid{0};
    std::atomic<bool> started{false}, done{false};
    long result = 0;
  };
  Slot& SlotOf(Call c) {
    for (auto& s : slots_)
      if (s->call == c) return *s;
    abort();
  }

  void Run(Slot& s) {
    s.tid = static_cast<pid_t>(syscall(SYS_gettid));
    sigset_t usr2;
    sigemptyset(&usr2);
    sigaddset(&usr2, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &usr2, nullptr);  // for sigtimedwait only
    s.started = true;
    long r = 0;
    char buf[8];
    switch (s.call) {
      case Call::kRead:
        r = read(read_pipe_[0], buf, 1);
        break;
      case Call::kWrite:
        r = write(write_pipe_[1], "w", 1);
        break;
      case Call::kFutex:
        r = syscall(SYS_futex, &word_, FUTEX_WAIT_PRIVATE, 0, nullptr,
                    nullptr, 0);
        break;
      case Call::kWait4: {
        int status = 0;
        r = wait4(child_, &status, 0, nullptr);
        if (r == child_) {
          child_ = -1;  // reaped
          r = WEXITSTATUS(status);
        }
        break;
      }
      case Call::kNanosleep:
        r = syscall(SYS_nanosleep, &sleep_, nullptr);
        break;
      case Call::kPoll: {
        pollfd p{poll_pipe_[0], POLLIN, 0};
        r = poll(&p, 1, -1);
        break;
      }
      case Call::kSigwait: {
        siginfo_t info;
        r = sigwaitinfo(&usr2, &info);
        break;
      }
    }
    s.result = r < 0 ? -errno : r;
    s.done = true;
  }

  timespec sleep_;
  int read_pipe_[2], write_pipe_[2], poll_pipe_[2], child_pipe_[2];
  size_t filled_ = 0;
  pid_t child_ = -1;
  std::atomic<uint32_t> word_{0};
  std::vector<std::unique_ptr<Slot>> slots_;
};

constexpr timespec kLong{3600, 0};

TEST(BlockingExit, ExitGroupEndsEveryBlockedCall) {
  EXPECT_EQ(InChild([] {
              Blockers b(kLong);
              syscall(SYS_exit_group, 7);
              return 1;
            }),
            7);
}

TEST(BlockingExit, ExecveEndsEveryBlockedCall) {
  EXPECT_EQ(InChild([] {
              Blockers b(kLong);
              char self[] = "/proc/self/exe";
              char filter[] = "--gtest_filter=-*";
              char* argv[] = {self, filter, nullptr};
              char* envp[] = {nullptr};
              dup2(open("/dev/null", O_WRONLY), 1);  // the new gtest's banner
              execve(self, argv, envp);
              return 1;
            }),
            0);
}

void Ignore(int) {}

TEST(BlockingExit, SignalInterruptsEveryBlockedCall) {
  struct sigaction sa = {}, old;
  sa.sa_handler = Ignore;  // no SA_RESTART
  ASSERT_THAT(sigaction(SIGUSR1, &sa, &old), SyscallSucceeds());
  {
    Blockers b(kLong);
    for (Call c : kAllCalls) {
      b.InterruptUntilDone(c, SIGUSR1);
      EXPECT_EQ(b.Join(c), -EINTR) << static_cast<int>(c);
    }
  }
  ASSERT_THAT(sigaction(SIGUSR1, &old, nullptr), SyscallSucceeds());
}

// Fork copies only the forking thread: the blocked calls carry on in the
// parent and complete normally when released.
TEST(BlockingExit, ForkLeavesBlockedCallsWorking) {
  Blockers b(timespec{0, 50'000'000});
  const pid_t pid = fork();
  if (pid == 0) _exit(0);
  ASSERT_GT(pid, 0);
  int status;
  ASSERT_THAT(waitpid(pid, &status, 0), SyscallSucceedsWithValue(pid));
  EXPECT_EQ(status, 0);
  for (Call c : kAllCalls) b.Release(c);
  EXPECT_EQ(b.Join(Call::kRead), 1);
  EXPECT_EQ(b.Join(Call::kWrite), 1);
  EXPECT_EQ(b.Join(Call::kFutex), 0);
  EXPECT_EQ(b.Join(Call::kWait4), 3);
  EXPECT_EQ(b.Join(Call::kNanosleep), 0);
  EXPECT_EQ(b.Join(Call::kPoll), 1);
  EXPECT_EQ(b.Join(Call::kSigwait), SIGUSR2);
}

}  // namespace
}  // namespace syscall_test
