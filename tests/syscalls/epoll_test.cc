// epoll: create/create1 flags, epoll_ctl's errors in Linux's order (EBADF,
// EPERM for regular files, EINVAL, EEXIST, ENOENT, ELOOP, EPOLLEXCLUSIVE's
// rules), EPOLLWAKEUP without CAP_BLOCK_SUSPEND; epoll_wait/pwait/pwait2
// argument errors and timeouts; level and edge triggering, EPOLLONESHOT,
// data, maxevents; pipes, eventfd, timerfd, signalfd, inotify and
// nested instances; a registered fd closed (its description kept or
// gone). Blocking waits are in epoll_wait_test.cc.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>

#include <cstdint>
#include <vector>

#include "cpu_spin.h"
#include "epoll_util.h"

namespace syscall_test {
namespace {

TEST(Epoll, Create) {
  EXPECT_THAT(epoll_create(0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(epoll_create(-1), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(epoll_create1(1), SyscallFailsWithErrno(EINVAL));
  FileDescriptor old(epoll_create(1));
  ASSERT_GE(old.get(), 0);
  EXPECT_THAT(fcntl(old.get(), F_GETFD), SyscallSucceedsWithValue(0));
  EXPECT_THAT(fcntl(old.get(), F_GETFL), SyscallSucceedsWithValue(O_RDWR));
  FileDescriptor ep = NewEpoll();
  EXPECT_THAT(fcntl(ep.get(), F_GETFD), SyscallSucceedsWithValue(FD_CLOEXEC));
  char link[64] = {};
  const std::string proc = "/proc/self/fd/" + std::to_string(ep.get());
  ASSERT_THAT(readlink(proc.c_str(), link, sizeof link - 1), SyscallSucceeds());
  EXPECT_STREQ(link, "anon_inode:[eventpoll]");
  char buf[16];
  EXPECT_THAT(read(ep.get(), buf, sizeof buf), SyscallFailsWithErrno(EINVAL));
}

TEST(Epoll, CtlErrors) {
  FileDescriptor ep = NewEpoll();
  Pipe p = MakePipe();
  EXPECT_THAT(Ctl(-1, EPOLL_CTL_ADD, p.r.get(), EPOLLIN),
              SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(Ctl(ep.get(), EPOLL_CTL_ADD, -1, EPOLLIN),
              SyscallFailsWithErrno(EBADF));
  EXPECT_THAT(epoll_ctl(ep.get(), EPOLL_CTL_ADD, p.r.get(), BadAddress<epoll_event>()),
              SyscallFailsWithErrno(EFAULT));
  // DEL reads no event.
  EXPECT_THAT(epoll_ctl(ep.get(), EPOLL_CTL_DEL, p.r.get(), BadAddress<epoll_event>()),
              SyscallFailsWithErrno(ENOENT));
  // Regular files have no poll: EPERM (before the epoll fd is looked at).
  FileDescriptor file = OpenOrFail(kRegularFile, O_RDONLY | O_CLOEXEC);
  EXPECT_THAT(Ctl(ep.get(), EPOLL_CTL_ADD, file.get(), EPOLLIN),
              SyscallFailsWithErrno(EPERM));
  EXPECT_THAT(Ctl(p.w.get(), EPOLL_CTL_ADD, file.get(), EPOLLIN),
              SyscallFailsWithErrno(EPERM));
  EXPECT_THAT(Ctl(p.w.get(), EPOLL_CTL_ADD, p.r.get(), EPOLLIN),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(Ctl(ep.get(), EPOLL_CTL_ADD, ep.get(), EPOLLIN),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(Ctl(ep.get(), 99, p.r.get(), EPOLLIN), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(Ctl(ep.get(), EPOLL_CTL_MOD, p.r.get(), EPOLLIN),
              SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(Ctl(ep.get(), EPOLL_CTL_DEL, p.r.get(), EPOLLIN),
              SyscallFailsWithErrno(ENOENT));
  ASSERT_THAT(Ctl(ep.get(), EPOLL_CTL_ADD, p.r.get(), EPOLLIN), SyscallSucceeds());
  EXPECT_THAT(Ctl(ep.get(), EPOLL_CTL_ADD, p.r.get(), EPOLLIN),
              SyscallFailsWithErrno(EEXIST));
  // The same description through another fd is another registration.
  FileDescriptor dup_r(dup(p.r.get()));
  EXPECT_THAT(Ctl(ep.get(), EPOLL_CTL_ADD, dup_r.get(), EPOLLIN), SyscallSucceeds());
  EXPECT_THAT(Ctl(ep.get(), EPOLL_CTL_MOD, p.r.get(), EPOLLOUT), SyscallSucceeds());
  EXPECT_THAT(Ctl(ep.get(), EPOLL_CTL_DEL, p.r.get(), 0), SyscallSucceeds());
  EXPECT_THAT(Ctl(ep.get(), EPOLL_CTL_DEL, p.r.get(), 0), SyscallFailsWithErrno(ENOENT));
}

// Devices: those with a poll operation only.
TEST(Epoll, Devices) {
  FileDescriptor ep = NewEpoll();
  FileDescriptor null = OpenOrFail("/dev/null", O_RDWR | O_CLOEXEC);
  EXPECT_THAT(Ctl(ep.get(), EPOLL_CTL_ADD, null.get(), EPOLLIN),
              SyscallFailsWithErrno(EPERM));
  FileDescriptor dir = OpenOrFail("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  EXPECT_THAT(Ctl(ep.get(), EPOLL_CTL_ADD, dir.get(), EPOLLIN),
              SyscallFailsWithErrno(EPERM));
  FileDescriptor urnd = OpenOrFail("/dev/urandom", O_RDONLY | O_CLOEXEC);
  EXPECT_THAT(Ctl(ep.get(), EPOLL_CTL_ADD, urnd.get(), EPOLLIN),
              SyscallFailsWithErrno(EPERM));
  FileDescriptor rnd = OpenOrFail("/dev/random", O_RDONLY | O_CLOEXEC);
  ASSERT_THAT(Ctl(ep.get(), EPOLL_CTL_ADD, rnd.get(), EPOLLIN, 1), SyscallSucceeds());
  auto ev = Wait(ep.get());
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].events, static_cast<uint32_t>(EPOLLIN));
}

TEST(Epoll, ExclusiveRules) {
  FileDescriptor ep = NewEpoll();
  FileDescriptor inner = NewEpoll();
  Pipe p = MakePipe();
  EXPECT_THAT(Ctl(ep.get(), EPOLL_CTL_ADD, inner.get(), EPOLLIN | EPOLLEXCLUSIVE),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(Ctl(ep.get(), EPOLL_CTL_ADD, p.r.get(), EPOLLIN | EPOLLEXCLUSIVE | EPOLLONESHOT),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(Ctl(ep.get(), EPOLL_CTL_ADD, p.r.get(), EPOLLIN | EPOLLEXCLUSIVE | EPOLLRDHUP),
              SyscallFailsWithErrno(EINVAL));
  ASSERT_THAT(Ctl(ep.get(), EPOLL_CTL_ADD, p.r.get(), EPOLLIN | EPOLLEXCLUSIVE | EPOLLET),
              SyscallSucceeds());
  EXPECT_THAT(Ctl(ep.get(), EPOLL_CTL_MOD, p.r.get(), EPOLLIN | EPOLLEXCLUSIVE),
              SyscallFailsWithErrno(EINVAL));
  // An exclusive registration cannot be modified at all.
  EXPECT_THAT(Ctl(ep.get(), EPOLL_CTL_MOD, p.r.get(), EPOLLIN),
              SyscallFailsWithErrno(EINVAL));
  WriteByte(p.w.get());
  auto ev = Wait(ep.get());
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].events, static_cast<uint32_t>(EPOLLIN));
}

TEST(Epoll, WaitErrors) {
  FileDescriptor ep = NewEpoll();
  epoll_event ev[2];
  EXPECT_THAT(epoll_wait(ep.get(), ev, 0, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(epoll_wait(ep.get(), ev, Opaque(-1), 0),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(epoll_wait(-1, ev, 2, 0), SyscallFailsWithErrno(EBADF));
  Pipe p = MakePipe();
  EXPECT_THAT(epoll_wait(p.r.get(), ev, 2, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(epoll_wait(ep.get(), reinterpret_cast<epoll_event*>(~uintptr_t{0} - 64), 2, 0),
              SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(epoll_wait(ep.get(), ev, 2, 0), SyscallSucceedsWithValue(0));
  uint64_t mask = 0;
  EXPECT_THAT(syscall(SYS_epoll_pwait, ep.get(), ev, 2, 0, &mask, 4),
              SyscallFailsWithErrno(EINVAL));
  timespec bad = {0, 1'000'000'000};
  EXPECT_THAT(syscall(SYS_epoll_pwait2, ep.get(), ev, 2, &bad, nullptr, 8),
              SyscallFailsWithErrno(EINVAL));
  timespec zero = {0, 0};
  EXPECT_THAT(syscall(SYS_epoll_pwait2, ep.get(), ev, 2, &zero, nullptr, 8),
              SyscallSucceedsWithValue(0));
  timespec short_wait = {0, 1'000'000};
  EXPECT_THAT(syscall(SYS_epoll_pwait2, ep.get(), ev, 2, &short_wait, nullptr, 8),
              SyscallSucceedsWithValue(0));
  EXPECT_THAT(epoll_wait(ep.get(), ev, 2, 1), SyscallSucceedsWithValue(0));
}

TEST(Epoll, LevelTriggered) {
  FileDescriptor ep = NewEpoll();
  Pipe p = MakePipe();
  ASSERT_THAT(Ctl(ep.get(), EPOLL_CTL_ADD, p.r.get(), EPOLLIN, 42), SyscallSucceeds());
  ASSERT_THAT(Ctl(ep.get(), EPOLL_CTL_ADD, p.w.get(), EPOLLOUT, 43), SyscallSucceeds());
  auto ev = Wait(ep.get());
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].events, static_cast<uint32_t>(EPOLLOUT));
  EXPECT_EQ(ev[0].data.u64, 43u);
  WriteByte(p.w.get());
  for (int i = 0; i < 2; ++i) {  // reported while it stays readable
    ev = Wait(ep.get());
    ASSERT_EQ(ev.size(), 2u);
  }
  char c;
  ASSERT_THAT(read(p.r.get(), &c, 1), SyscallSucceedsWithValue(1));
  ev = Wait(ep.get());
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].data.u64, 43u);
  // maxevents bounds one call; the rest come next.
  WriteByte(p.w.get());
  EXPECT_EQ(Wait(ep.get(), 1).size(), 1u);
  EXPECT_EQ(Wait(ep.get(), 1).size(), 1u);
}

TEST(Epoll, EdgeTriggered) {
  FileDescriptor ep = NewEpoll();
  Pipe p = MakePipe();
  ASSERT_THAT(Ctl(ep.get(), EPOLL_CTL_ADD, p.r.get(), EPOLLIN | EPOLLET, 1),
              SyscallSucceeds());
  EXPECT_EQ(Wait(ep.get()).size(), 0u);
  WriteByte(p.w.get());
  EXPECT_EQ(Wait(ep.get()).size(), 1u);
  EXPECT_EQ(Wait(ep.get()).size(), 0u);  // no new edge
  WriteByte(p.w.get());                  // a new write is a new edge
  auto ev = Wait(ep.get());
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].events, static_cast<uint32_t>(EPOLLIN));
  // MOD looks again.
  ASSERT_THAT(Ctl(ep.get(), EPOLL_CTL_MOD, p.r.get(), EPOLLIN | EPOLLET, 2),
              SyscallSucceeds());
  ev = Wait(ep.get());
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].data.u64, 2u);
}

TEST(Epoll, OneShot) {
  FileDescriptor ep = NewEpoll();
  Pipe p = MakePipe();
  ASSERT_THAT(Ctl(ep.get(), EPOLL_CTL_ADD, p.r.get(), EPOLLIN | EPOLLONESHOT),
              SyscallSucceeds());
  WriteByte(p.w.get());
  EXPECT_EQ(Wait(ep.get()).size(), 1u);
  EXPECT_EQ(Wait(ep.get()).size(), 0u);
  WriteByte(p.w.get());
  EXPECT_EQ(Wait(ep.get()).size(), 0u);  // disabled until MOD
  EXPECT_THAT(Ctl(ep.get(), EPOLL_CTL_ADD, p.r.get(), EPOLLIN),
              SyscallFailsWithErrno(EEXIST));
  ASSERT_THAT(Ctl(ep.get(), EPOLL_CTL_MOD, p.r.get(), EPOLLIN | EPOLLONESHOT),
              SyscallSucceeds());
  EXPECT_EQ(Wait(ep.get()).size(), 1u);
}

TEST(Epoll, HangupAndErrorsAlwaysReported) {
  FileDescriptor ep = NewEpoll();
  Pipe p = MakePipe();
  ASSERT_THAT(Ctl(ep.get(), EPOLL_CTL_ADD, p.r.get(), EPOLLRDHUP), SyscallSucceeds());
  ASSERT_THAT(Ctl(ep.get(), EPOLL_CTL_ADD, p.w.get(), 0), SyscallSucceeds());
  EXPECT_EQ(Wait(ep.get()).size(), 0u);
  p.w.reset();  // the read end hangs up (the write end's registration went)
  auto ev = Wait(ep.get());
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].events, static_cast<uint32_t>(EPOLLHUP));
}

TEST(Epoll, WakeupWithoutCapIgnored) {
  FileDescriptor ep = NewEpoll();
  FileDescriptor efd(eventfd(1, EFD_CLOEXEC));
  ASSERT_THAT(Ctl(ep.get(), EPOLL_CTL_ADD, efd.get(), EPOLLIN | EPOLLWAKEUP),
              SyscallSucceeds());
  auto ev = Wait(ep.get());
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].events, static_cast<uint32_t>(EPOLLIN));
}

TEST(Epoll, EventFiles) {
  ScopedBlock block({SIGUSR1});
  FileDescriptor ep = NewEpoll();
  FileDescriptor efd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  FileDescriptor tfd(timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC));
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  FileDescriptor sfd(signalfd(-1, &set, SFD_CLOEXEC));
  FileDescriptor in(inotify_init1(IN_CLOEXEC));
  ASSERT_GE(in.get(), 0);
  ASSERT_THAT(inotify_add_watch(in.get(), "/tmp", IN_CREATE), SyscallSucceeds());
  ASSERT_THAT(Ctl(ep.get(), EPOLL_CTL_ADD, efd.get(), EPOLLIN, 1), SyscallSucceeds());
  ASSERT_THAT(Ctl(ep.get(), EPOLL_CTL_ADD, tfd.get(), EPOLLIN, 2), SyscallSucceeds());
  ASSERT_THAT(Ctl(ep.get(), EPOLL_CTL_ADD, sfd.get(), EPOLLIN, 3), SyscallSucceeds());
  ASSERT_THAT(Ctl(ep.get(), EPOLL_CTL_ADD, in.get(), EPOLLIN, 4), SyscallSucceeds());
  EXPECT_EQ(Wait(ep.get()).size(), 0u);
  uint64_t one = 1;
  ASSERT_THAT(write(efd.get(), &one, 8), SyscallSucceedsWithValue(8));
  itimerspec its = {};
  its.it_value.tv_nsec = 1'000'000;
  ASSERT_THAT(timerfd_settime(tfd.get(), 0, &its, nullptr), SyscallSucceeds());
  ASSERT_THAT(kill(getpid(), SIGUSR1), SyscallSucceeds());
  const std::string name = "/tmp/epoll_test_" + std::to_string(getpid());
  FileDescriptor created(open(name.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
  unlink(name.c_str());
  // Each becomes ready on its own notification: wait until all four are.
  uint64_t seen = 0;
  while (seen != 0x1e) {
    for (const epoll_event& e : Wait(ep.get(), 16, -1)) seen |= 1u << e.data.u64;
  }
}

TEST(Epoll, Nested) {
  FileDescriptor outer = NewEpoll();
  FileDescriptor inner = NewEpoll();
  Pipe p = MakePipe();
  ASSERT_THAT(Ctl(inner.get(), EPOLL_CTL_ADD, p.r.get(), EPOLLIN), SyscallSucceeds());
  ASSERT_THAT(Ctl(outer.get(), EPOLL_CTL_ADD, inner.get(), EPOLLIN, 7), SyscallSucceeds());
  EXPECT_EQ(Wait(outer.get()).size(), 0u);
  struct pollfd pfd = {inner.get(), POLLIN, 0};
  EXPECT_THAT(poll(&pfd, 1, 0), SyscallSucceedsWithValue(0));
  WriteByte(p.w.get());
  auto ev = Wait(outer.get());
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].data.u64, 7u);
  EXPECT_THAT(poll(&pfd, 1, 0), SyscallSucceedsWithValue(1));
  EXPECT_EQ(pfd.revents, POLLIN);
  // A loop is refused.
  EXPECT_THAT(Ctl(inner.get(), EPOLL_CTL_ADD, outer.get(), EPOLLIN),
              SyscallFailsWithErrno(ELOOP));
}

TEST(Epoll, NestingDepth) {
  // e[0] holds e[1] holds ... : at most 5 instances in a chain.
  std::vector<FileDescriptor> e;
  for (int i = 0; i < 6; ++i) e.push_back(NewEpoll());
  for (int i = 0; i < 4; ++i)
    ASSERT_THAT(Ctl(e[i].get(), EPOLL_CTL_ADD, e[i + 1].get(), EPOLLIN), SyscallSucceeds())
        << i;
  EXPECT_THAT(Ctl(e[4].get(), EPOLL_CTL_ADD, e[5].get(), EPOLLIN),
              SyscallFailsWithErrno(ELOOP));
  // From below too: a chain of two put under the top of four.
  FileDescriptor a = NewEpoll(), b = NewEpoll();
  ASSERT_THAT(Ctl(a.get(), EPOLL_CTL_ADD, b.get(), EPOLLIN), SyscallSucceeds());
  EXPECT_THAT(Ctl(e[3].get(), EPOLL_CTL_ADD, a.get(), EPOLLIN),
              SyscallFailsWithErrno(ELOOP));
  EXPECT_THAT(Ctl(e[2].get(), EPOLL_CTL_ADD, a.get(), EPOLLIN), SyscallSucceeds());
}

// Closing a registered fd ends the registration only with the last
// reference to its description.
TEST(Epoll, ClosedFd) {
  FileDescriptor ep = NewEpoll();
  Pipe p = MakePipe();
  const int r = p.r.release();
  ASSERT_THAT(Ctl(ep.get(), EPOLL_CTL_ADD, r, EPOLLIN, 5), SyscallSucceeds());
  FileDescriptor keep(dup(r));
  ASSERT_THAT(close(r), SyscallSucceeds());
  WriteByte(p.w.get());
  auto ev = Wait(ep.get());
  ASSERT_EQ(ev.size(), 1u);  // still there, under the old fd's data
  EXPECT_EQ(ev[0].data.u64, 5u);
  // Its fd is gone: DEL through the dup names another registration.
  EXPECT_THAT(Ctl(ep.get(), EPOLL_CTL_DEL, keep.get(), 0), SyscallFailsWithErrno(ENOENT));
  keep.reset();  // the last reference
  EXPECT_EQ(Wait(ep.get()).size(), 0u);
  // A new file at the old number is a new registration.
  Pipe q = MakePipe();
  ASSERT_THAT(dup2(q.r.get(), r), SyscallSucceeds());
  EXPECT_THAT(Ctl(ep.get(), EPOLL_CTL_ADD, r, EPOLLIN), SyscallSucceeds());
  close(r);
}

}  // namespace
}  // namespace syscall_test
