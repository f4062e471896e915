// HostPoller and the host-fd descriptions that use it: host readiness
// reaches waiter queues, and host pipes answer EAGAIN instead of blocking.
#include "sentry/vfs/host_poller.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "sentry/vfs/vfs.h"

namespace vfs {
namespace {

// Records notifications; WaitFor gives up after a generous deadline so a
// lost wakeup fails the test instead of hanging it.
class Recorder : public waiter::Entry {
 public:
  explicit Recorder(uint64_t mask) : Entry(mask) {}
  void Notify(uint64_t events) override {
    absl::MutexLock lock(&mu_);
    seen_ |= events;
  }
  uint64_t WaitFor(uint64_t events,
                   absl::Duration timeout = absl::Seconds(10)) {
    absl::MutexLock lock(&mu_);
    auto cond = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return (seen_ & events) != 0;
    };
    mu_.AwaitWithTimeout(absl::Condition(&cond), timeout);
    return seen_;
  }
  void Clear() {
    absl::MutexLock lock(&mu_);
    seen_ = 0;
  }

 private:
  absl::Mutex mu_;
  uint64_t seen_ ABSL_GUARDED_BY(mu_) = 0;
};

struct HostPipe {
  HostPipe() { EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0); }
  ~HostPipe() {
    for (int fd : fds)
      if (fd >= 0) ::close(fd);
  }
  int fds[2] = {-1, -1};
};

TEST(HostPollerTest, NotifiesWhenReadable) {
  auto poller = HostPoller::Create();
  ASSERT_TRUE(poller.has_value());
  HostPipe p;
  waiter::Queue q;
  Recorder r(EPOLLRDNORM);  // not just EPOLLIN: every bit is reported
  q.Register(&r);
  ASSERT_TRUE((*poller)->Watch(p.fds[0], &q).has_value());
  EXPECT_EQ(r.WaitFor(EPOLLRDNORM, absl::Milliseconds(50)) & EPOLLRDNORM, 0u);
  std::thread w([&] { ASSERT_EQ(::write(p.fds[1], "x", 1), 1); });
  EXPECT_NE(r.WaitFor(EPOLLRDNORM) & EPOLLRDNORM, 0u);
  w.join();
  (*poller)->Unwatch(p.fds[0]);
  q.Unregister(&r);
}

TEST(HostPollerTest, AlreadyReadyIsReportedOnWatch) {
  auto poller = HostPoller::Create();
  ASSERT_TRUE(poller.has_value());
  HostPipe p;
  ASSERT_EQ(::write(p.fds[1], "x", 1), 1);
  waiter::Queue q;
  Recorder r(EPOLLIN);
  q.Register(&r);
  ASSERT_TRUE((*poller)->Watch(p.fds[0], &q).has_value());
  EXPECT_NE(r.WaitFor(EPOLLIN) & EPOLLIN, 0u);
  (*poller)->Unwatch(p.fds[0]);
  q.Unregister(&r);
}

TEST(HostPollerTest, CountedWatchesAndHangup) {
  auto poller = HostPoller::Create();
  ASSERT_TRUE(poller.has_value());
  HostPipe p;
  waiter::Queue q;
  Recorder r(EPOLLHUP);
  q.Register(&r);
  ASSERT_TRUE((*poller)->Watch(p.fds[0], &q).has_value());
  ASSERT_TRUE((*poller)->Watch(p.fds[0], &q).has_value());
  (*poller)->Unwatch(p.fds[0]);  // one watch is left
  ::close(p.fds[1]);
  p.fds[1] = -1;
  EXPECT_NE(r.WaitFor(EPOLLHUP) & EPOLLHUP, 0u);
  (*poller)->Unwatch(p.fds[0]);
  q.Unregister(&r);
}

TEST(HostPollerTest, RegularFilesAreRefused) {
  auto poller = HostPoller::Create();
  ASSERT_TRUE(poller.has_value());
  const int fd = ::open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  waiter::Queue q;
  auto r = (*poller)->Watch(fd, &q);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().value, EPERM);
  ::close(fd);
}

// --- Host-fd descriptions (host_fd.cc) on a host pipe. ---

TEST(HostFdPollTest, ReadWaitsInsteadOfBlocking) {
  HostPipe p;
  auto r = ImportHostFd(p.fds[0], O_RDONLY, "host:[stdin]");
  p.fds[0] = -1;  // owned by the description now
  char c;
  iovec v{&c, 1};
  auto got = r->Read({&v, 1});
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().value, EAGAIN);
  EXPECT_EQ(r->Readiness(EPOLLIN), 0u);
  Recorder e(EPOLLIN);
  r->EventRegister(&e);
  std::thread w([&] { ASSERT_EQ(::write(p.fds[1], "y", 1), 1); });
  EXPECT_NE(e.WaitFor(EPOLLIN) & EPOLLIN, 0u);
  w.join();
  r->EventUnregister(&e);
  EXPECT_EQ(r->Readiness(EPOLLIN), uint64_t{EPOLLIN});
  EXPECT_EQ(r->Read({&v, 1}), 1u);
  EXPECT_EQ(c, 'y');
  ::close(p.fds[1]);
  p.fds[1] = -1;
  EXPECT_EQ(r->Read({&v, 1}), 0u);  // EOF: a hangup is ready to read
}

TEST(HostFdPollTest, WritesNeverWaitOnTheHost) {
  HostPipe p;
  ASSERT_EQ(::fcntl(p.fds[0], F_SETFL, O_NONBLOCK), 0);  // to drain it
  auto w = ImportHostFd(p.fds[1], O_WRONLY, "host:[stdout]");
  p.fds[1] = -1;
  std::string big(100000, 'z');
  iovec v{big.data(), big.size()};
  // At most PIPE_BUF per host write: a writable pipe takes that much.
  auto n = w->Write({&v, 1});
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(*n, size_t{PIPE_BUF});
  size_t total = *n;
  for (;;) {
    auto more = w->Write({&v, 1});
    if (!more) {
      EXPECT_EQ(more.error().value, EAGAIN);  // full: no host wait
      break;
    }
    total += *more;
    ASSERT_LT(total, big.size());
  }
  EXPECT_EQ(w->Readiness(EPOLLOUT), 0u);
  char buf[8192];
  while (::read(p.fds[0], buf, sizeof buf) > 0) {
  }
  EXPECT_EQ(w->Readiness(EPOLLOUT), uint64_t{EPOLLOUT});
}

}  // namespace
}  // namespace vfs
