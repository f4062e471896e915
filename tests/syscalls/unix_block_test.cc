// Blocking AF_UNIX calls and what ends them: data, a peer's close, a
// shutdown from another thread, a signal (EINTR), room in a full buffer
// or backlog, and a fork from another thread meanwhile.
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <atomic>
#include <thread>

#include "fcntl_lock_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test_util.h"
#include "unix_util.h"

namespace syscall_test {
namespace {

pid_t Gettid() { return static_cast<pid_t>(syscall(SYS_gettid)); }

// Runs `body` on a thread that reports its tid first; Join returns what
// `body` returned, with errno's value when it was negative.
class Blocker {
 public:
  explicit Blocker(std::function<ssize_t()> body) {
    thread_ = std::thread([this, body] {
      tid_.store(Gettid());
      ssize_t r = body();
      err_ = r < 0 ? errno : 0;
      result_.store(r);
    });
    while (tid_.load() == 0) sched_yield();
  }
  // Waits until the thread sleeps (in the call under test).
  void AwaitBlocked() { ASSERT_TRUE(AwaitSleeping(getpid(), tid_.load())); }
  std::pair<ssize_t, int> Join() {
    thread_.join();
    return {result_.load(), err_};
  }
  pid_t tid() const { return tid_.load(); }

 private:
  std::thread thread_;
  std::atomic<pid_t> tid_{0};
  std::atomic<ssize_t> result_{-2};
  int err_ = 0;
};

TEST(UnixBlock, RecvWokenByData) {
  auto [a, b] = Pair(SOCK_STREAM);
  char buf[8];
  Blocker t([&] { return recv(b.get(), buf, sizeof buf, 0); });
  t.AwaitBlocked();
  ASSERT_THAT(send(a.get(), "data", 4, 0), SyscallSucceedsWithValue(4));
  EXPECT_EQ(t.Join(), std::make_pair(ssize_t{4}, 0));
}

TEST(UnixBlock, RecvWokenByPeerClose) {
  for (int type : {SOCK_STREAM, SOCK_SEQPACKET}) {
    auto [a, b] = Pair(type);
    char buf[8];
    Blocker t([&] { return read(b.get(), buf, sizeof buf); });
    t.AwaitBlocked();
    a.reset();
    EXPECT_EQ(t.Join(), std::make_pair(ssize_t{0}, 0));
  }
}

TEST(UnixBlock, RecvWokenByShutdownFromAnotherThread) {
  auto [a, b] = Pair(SOCK_STREAM);
  char buf[8];
  Blocker t([&] { return recv(b.get(), buf, sizeof buf, 0); });
  t.AwaitBlocked();
  ASSERT_THAT(shutdown(b.get(), SHUT_RDWR), SyscallSucceeds());
  EXPECT_EQ(t.Join(), std::make_pair(ssize_t{0}, 0));
}

std::atomic<int> g_signals{0};
void CountSignal(int) { g_signals.fetch_add(1); }

TEST(UnixBlock, RecvInterruptedBySignal) {
  struct sigaction sa = {}, old;
  sa.sa_handler = CountSignal;  // no SA_RESTART
  ASSERT_THAT(sigaction(SIGUSR1, &sa, &old), SyscallSucceeds());
  auto [a, b] = Pair(SOCK_DGRAM);
  char buf[8];
  Blocker t([&] { return recv(b.get(), buf, sizeof buf, 0); });
  t.AwaitBlocked();
  ASSERT_THAT(syscall(SYS_tgkill, getpid(), t.tid(), SIGUSR1),
              SyscallSucceeds());
  EXPECT_EQ(t.Join(), std::make_pair(ssize_t{-1}, EINTR));
  EXPECT_GE(g_signals.load(), 1);
  // With SA_RESTART the call goes on and gets the data.
  sa.sa_flags = SA_RESTART;
  ASSERT_THAT(sigaction(SIGUSR1, &sa, nullptr), SyscallSucceeds());
  Blocker u([&] { return recv(b.get(), buf, sizeof buf, 0); });
  u.AwaitBlocked();
  ASSERT_THAT(syscall(SYS_tgkill, getpid(), u.tid(), SIGUSR1),
              SyscallSucceeds());
  u.AwaitBlocked();
  ASSERT_THAT(send(a.get(), "x", 1, 0), SyscallSucceedsWithValue(1));
  EXPECT_EQ(u.Join(), std::make_pair(ssize_t{1}, 0));
  ASSERT_THAT(sigaction(SIGUSR1, &old, nullptr), SyscallSucceeds());
}

TEST(UnixBlock, SendWokenByReader) {
  auto [a, b] = Pair(SOCK_STREAM);
  const std::string big(1 << 20, 'z');
  Blocker t([&] { return send(a.get(), big.data(), big.size(), 0); });
  t.AwaitBlocked();
  // Reading everything lets the whole write through.
  size_t got = 0;
  char buf[65536];
  while (got < big.size()) {
    ssize_t n = read(b.get(), buf, sizeof buf);
    ASSERT_GT(n, 0) << ErrnoName(errno);
    got += n;
  }
  EXPECT_EQ(t.Join(), std::make_pair(static_cast<ssize_t>(big.size()), 0));
}

TEST(UnixBlock, SendWokenByPeerCloseWithEpipe) {
  auto [a, b] = Pair(SOCK_STREAM);
  const std::string big(1 << 20, 'z');
  Blocker t([&] {
    return send(a.get(), big.data(), big.size(), MSG_NOSIGNAL);
  });
  t.AwaitBlocked();
  b.reset();
  // What was written before is reported.
  auto [n, err] = t.Join();
  EXPECT_GT(n, 0);
  EXPECT_LT(n, static_cast<ssize_t>(big.size()));
}

TEST(UnixBlock, AcceptAndConnect) {
  UnixAddr addr = MakeAddr(AbstractName("block_accept"));
  FileDescriptor srv(socket(AF_UNIX, SOCK_STREAM, 0));
  ASSERT_THAT(bind(srv.get(), addr.get(), addr.len), SyscallSucceeds());
  ASSERT_THAT(listen(srv.get(), 0), SyscallSucceeds());
  Blocker t([&] { return accept(srv.get(), nullptr, nullptr); });
  t.AwaitBlocked();
  FileDescriptor c1(socket(AF_UNIX, SOCK_STREAM, 0));
  ASSERT_THAT(connect(c1.get(), addr.get(), addr.len), SyscallSucceeds());
  auto [fd, err] = t.Join();
  ASSERT_GE(fd, 0) << ErrnoName(err);
  close(fd);
  // Backlog 0 holds one; the next connect blocks until an accept.
  FileDescriptor c2(socket(AF_UNIX, SOCK_STREAM, 0));
  ASSERT_THAT(connect(c2.get(), addr.get(), addr.len), SyscallSucceeds());
  FileDescriptor c3(socket(AF_UNIX, SOCK_STREAM, 0));
  Blocker u([&] { return connect(c3.get(), addr.get(), addr.len); });
  u.AwaitBlocked();
  FileDescriptor conn(accept(srv.get(), nullptr, nullptr));
  ASSERT_GE(conn.get(), 0);
  EXPECT_EQ(u.Join(), std::make_pair(ssize_t{0}, 0));
}

TEST(UnixBlock, ForkWhileBlocked) {
  auto [a, b] = Pair(SOCK_STREAM);
  char buf[8];
  Blocker t([&] { return recv(b.get(), buf, sizeof buf, 0); });
  t.AwaitBlocked();
  const pid_t pid = fork();
  if (pid == 0) {
    // The child has its own copy of both ends; it writes through its own.
    _exit(write(a.get(), "kid", 3) == 3 ? 0 : 1);
  }
  ASSERT_GT(pid, 0);
  int status;
  ASSERT_THAT(waitpid(pid, &status, 0), SyscallSucceedsWithValue(pid));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(t.Join(), std::make_pair(ssize_t{3}, 0));
}

}  // namespace
}  // namespace syscall_test
