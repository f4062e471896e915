// epoll_wait blocking: woken by an event, interrupted by a signal (never
// restarted), epoll_pwait's mask, the epoll fd closed by another thread,
// a fork meanwhile, exit_group while threads block (in epoll_wait and in
// eventfd, timerfd and signalfd reads); fork sharing the instance.
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>

#include <cstdint>
#include <vector>

#include "cpu_spin.h"
#include "epoll_util.h"

namespace syscall_test {
namespace {

TEST(Epoll, SharedAcrossFork) {
  FileDescriptor ep = NewEpoll();
  Pipe p = MakePipe();
  ASSERT_THAT(Ctl(ep.get(), EPOLL_CTL_ADD, p.r.get(), EPOLLIN | EPOLLET, 9),
              SyscallSucceeds());
  const int code = InChild([&] {
    if (write(p.w.get(), "x", 1) != 1) return 1;
    epoll_event ev;
    if (epoll_wait(ep.get(), &ev, 1, -1) != 1 || ev.data.u64 != 9) return 2;
    return 0;
  });
  EXPECT_EQ(code, 0);
  // The child took the edge from the shared instance.
  EXPECT_EQ(Wait(ep.get()).size(), 0u);
}

TEST(Epoll, BlockingWaitWoken) {
  FileDescriptor ep = NewEpoll();
  FileDescriptor efd(eventfd(0, EFD_CLOEXEC));
  ASSERT_THAT(Ctl(ep.get(), EPOLL_CTL_ADD, efd.get(), EPOLLIN, 3), SyscallSucceeds());
  BlockedCall waiter([&] {
    epoll_event ev;
    return epoll_wait(ep.get(), &ev, 1, -1) == 1 ? static_cast<long>(ev.data.u64) : -1;
  });
  waiter.WaitBlocked();
  uint64_t one = 1;
  ASSERT_THAT(write(efd.get(), &one, 8), SyscallSucceedsWithValue(8));
  EXPECT_EQ(waiter.Join(), 3);
}

TEST(Epoll, BlockingWaitInterrupted) {
  FileDescriptor ep = NewEpoll();
  ExpectInterrupted(
      [&] {
        epoll_event ev;
        return static_cast<long>(epoll_wait(ep.get(), &ev, 1, -1));
      },
      SIGUSR1, SA_RESTART);  // epoll_wait is never restarted
}

TEST(Epoll, PwaitMask) {
  // SIGUSR1 blocked by epoll_pwait's mask: it stays pending and the wait
  // times out; unblocked by it: the wait is interrupted.
  ScopedBlock block({SIGUSR1});
  ScopedSignalHandler handler(SIGUSR1);
  FileDescriptor ep = NewEpoll();
  ASSERT_THAT(kill(getpid(), SIGUSR1), SyscallSucceeds());
  epoll_event ev;
  sigset_t blocked;
  sigemptyset(&blocked);
  sigaddset(&blocked, SIGUSR1);
  EXPECT_THAT(epoll_pwait(ep.get(), &ev, 1, 1, &blocked), SyscallSucceedsWithValue(0));
  sigset_t none;
  sigemptyset(&none);
  EXPECT_THAT(epoll_pwait(ep.get(), &ev, 1, -1, &none), SyscallFailsWithErrno(EINTR));
}

// A wait goes on after the epoll fd is closed by another thread.
TEST(Epoll, CloseWhileBlocked) {
  const int ep = epoll_create1(EPOLL_CLOEXEC);
  ASSERT_GE(ep, 0);
  FileDescriptor efd(eventfd(0, EFD_CLOEXEC));
  ASSERT_THAT(Ctl(ep, EPOLL_CTL_ADD, efd.get(), EPOLLIN, 4), SyscallSucceeds());
  BlockedCall waiter([&] {
    epoll_event ev;
    return epoll_wait(ep, &ev, 1, -1) == 1 ? static_cast<long>(ev.data.u64) : -1;
  });
  waiter.WaitBlocked();
  ASSERT_THAT(close(ep), SyscallSucceeds());
  uint64_t one = 1;
  ASSERT_THAT(write(efd.get(), &one, 8), SyscallSucceedsWithValue(8));
  EXPECT_EQ(waiter.Join(), 4);
}

TEST(Epoll, ForkWhileBlocked) {
  FileDescriptor ep = NewEpoll();
  Pipe p = MakePipe();
  ASSERT_THAT(Ctl(ep.get(), EPOLL_CTL_ADD, p.r.get(), EPOLLIN, 8), SyscallSucceeds());
  BlockedCall waiter([&] {
    epoll_event ev;
    return epoll_wait(ep.get(), &ev, 1, -1) == 1 ? static_cast<long>(ev.data.u64) : -1;
  });
  waiter.WaitBlocked();
  const int code = InChild([&] { return write(p.w.get(), "x", 1) == 1 ? 0 : 1; });
  EXPECT_EQ(code, 0);
  EXPECT_EQ(waiter.Join(), 8);
}

// exit_group while threads block in epoll_wait and in reads of eventfd,
// timerfd and signalfd: the process ends with its status.
TEST(Epoll, ExitWhileBlocked) {
  const int code = InChild([] {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, nullptr);
    const int ep = epoll_create1(EPOLL_CLOEXEC);
    const int efd = eventfd(0, EFD_CLOEXEC);
    const int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
    const int sfd = signalfd(-1, &set, SFD_CLOEXEC);
    if (ep < 0 || efd < 0 || tfd < 0 || sfd < 0) return 1;
    Ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN);
    std::vector<BlockedCall*> calls = {
        new BlockedCall([&] {
          epoll_event ev;
          return static_cast<long>(epoll_wait(ep, &ev, 1, -1));
        }),
        new BlockedCall([&] {
          uint64_t v;
          return static_cast<long>(read(efd, &v, 8));
        }),
        new BlockedCall([&] {
          uint64_t v;
          return static_cast<long>(read(tfd, &v, 8));
        }),
        new BlockedCall([&] {
          signalfd_siginfo si;
          return static_cast<long>(read(sfd, &si, sizeof si));
        }),
    };
    for (BlockedCall* c : calls) c->WaitBlocked();
    syscall(SYS_exit_group, 17);
    return 2;  // not reached
  });
  EXPECT_EQ(code, 17);
}

}  // namespace
}  // namespace syscall_test
