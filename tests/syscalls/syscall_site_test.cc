// The `mov $nr, %eax; syscall` sequence as Linux runs it: the result, rcx
// (the return address) and r11 (rflags) after it, from many threads, in a
// forked child, across signals and SA_RESTART, and in code the program
// rewrites or maps again. Under the systrap platform these sites are
// patched into jumps to its fast path (platform/README.md, "Syscall
// patching"), so this checks that the patched form keeps Linux's meaning.
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

#include "test_util.h"

namespace syscall_test {
namespace {

struct Site {
  long ret;
  uint64_t rcx, r11, flags, after;
};

// rflags bits the kernel may change across a syscall (RF, TF).
constexpr uint64_t kVolatileFlags = 0x10100;

// getpid() through exactly `mov $39, %eax; syscall` (b8 27 00 00 00 0f 05).
// pushfq goes below the red zone, which the compiler may be using.
__attribute__((noinline)) Site GetpidSite() {
  Site s;
  register uint64_t r11 asm("r11");
  asm volatile(
      "lea -128(%%rsp), %%rsp\n\t"
      "pushfq\n\t"
      "popq %[flags]\n\t"
      "lea 128(%%rsp), %%rsp\n\t"
      "mov $39, %%eax\n\t"
      "syscall\n\t"
      "1:\n\t"
      "lea 1b(%%rip), %[after]\n\t"
      : "=a"(s.ret), "=c"(s.rcx),
        "=r"(r11), [flags] "=&r"(s.flags), [after] "=&r"(s.after)
      :
      : "memory");
  s.r11 = r11;
  return s;
}

// gettid() through `mov $186, %eax; syscall`.
__attribute__((noinline)) long GettidSite() {
  long ret;
  asm volatile("mov $186, %%eax\n\tsyscall"
               : "=a"(ret)
               :
               : "rcx", "r11", "memory");
  return ret;
}

// read(fd, buf, n) through `mov $0, %eax; syscall`.
__attribute__((noinline)) long ReadSite(int fd, void* buf, size_t n) {
  long ret;
  asm volatile("mov $0, %%eax\n\tsyscall"
               : "=a"(ret)
               : "D"(fd), "S"(buf), "d"(n)
               : "rcx", "r11", "memory");
  return ret;
}

void ExpectLinuxSite(const Site& s, pid_t pid) {
  EXPECT_EQ(s.ret, pid);
  EXPECT_EQ(s.rcx, s.after);  // the address after `syscall`
  EXPECT_EQ(s.r11 & ~kVolatileFlags, s.flags & ~kVolatileFlags);
}

TEST(SyscallSiteTest, ResultRcxAndR11AreLinuxs) {
  const pid_t pid = getpid();
  // The first call may trap slowly (and be patched); the rest run as
  // patched code.
  for (int i = 0; i < 1000; ++i) {
    Site s = GetpidSite();
    ExpectLinuxSite(s, pid);
    if (::testing::Test::HasFailure()) break;
  }
}

TEST(SyscallSiteTest, ManyThreadsAtOnce) {
  const pid_t pid = getpid();
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      const long tid = syscall(SYS_gettid);
      for (int i = 0; i < 2000; ++i) {
        Site s = GetpidSite();
        if (s.ret != pid || s.rcx != s.after) ++bad;
        if (GettidSite() != tid) ++bad;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(bad.load(), 0);
}

TEST(SyscallSiteTest, ForkedChildRunsTheSameSites) {
  for (int i = 0; i < 10; ++i) GetpidSite();
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const pid_t me = syscall(SYS_getpid);
    for (int i = 0; i < 500; ++i) {
      Site s = GetpidSite();
      if (s.ret != me || s.rcx != s.after) _exit(1);
      if (GettidSite() != me) _exit(2);
    }
    _exit(0);
  }
  int status;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  ExpectLinuxSite(GetpidSite(), getpid());
}

std::atomic<int> handled{0};
void CountSignal(int) { handled.fetch_add(1); }

// SIGUSR1 counted in `handled`, SA_RESTART, for the test's life.
class CountingHandler {
 public:
  CountingHandler() {
    struct sigaction sa {};
    sa.sa_handler = CountSignal;
    sa.sa_flags = SA_RESTART;
    EXPECT_THAT(sigaction(SIGUSR1, &sa, &old_), SyscallSucceeds());
    handled = 0;
  }
  ~CountingHandler() { sigaction(SIGUSR1, &old_, nullptr); }

 private:
  struct sigaction old_ {};
};

// Signals from another thread land anywhere in the loop, the sites
// included; every call still returns its own result.
TEST(SyscallSiteTest, SignalsWhileCallingSites) {
  CountingHandler counting;
  const pid_t pid = getpid();
  const long tid = syscall(SYS_gettid);
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0};
  std::thread sender([&] {
    for (int i = 1; i <= 200; ++i) {
      syscall(SYS_tgkill, pid, tid, SIGUSR1);
      while (handled.load() < i) sched_yield();
    }
    stop = true;
  });
  while (!stop.load()) {
    Site s = GetpidSite();
    if (s.ret != pid || s.rcx != s.after) ++bad;
  }
  sender.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(handled.load(), 200);
}

// A read blocked at a site, interrupted by SA_RESTART handlers, restarts
// at the site and gets the data.
TEST(SyscallSiteTest, RestartedReadAtASite) {
  CountingHandler counting;
  int fds[2];
  ASSERT_THAT(pipe(fds), SyscallSucceeds());
  char c = 0;
  // Once with data, so that the site is patched before it blocks.
  ASSERT_EQ(write(fds[1], "a", 1), 1);
  ASSERT_EQ(ReadSite(fds[0], &c, 1), 1);
  const pid_t pid = getpid();
  const long tid = syscall(SYS_gettid);
  std::thread sender([&] {
    for (int i = 1; i <= 3; ++i) {
      syscall(SYS_tgkill, pid, tid, SIGUSR1);
      while (handled.load() < i) sched_yield();
    }
    EXPECT_EQ(write(fds[1], "z", 1), 1);
  });
  EXPECT_EQ(ReadSite(fds[0], &c, 1), 1);
  EXPECT_EQ(c, 'z');
  sender.join();
  EXPECT_EQ(handled.load(), 3);
  close(fds[0]);
  close(fds[1]);
}

// Code the program writes itself: the site runs, is rewritten whole, runs
// again with the new number; then the page is mapped afresh.
TEST(SyscallSiteTest, RewrittenAndRemappedCode) {
  const size_t page = sysconf(_SC_PAGESIZE);
  void* p = mmap(nullptr, page, PROT_READ | PROT_WRITE | PROT_EXEC,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(p, MAP_FAILED);
  auto code = static_cast<uint8_t*>(p);
  auto put = [&](uint8_t nr) {
    const uint8_t insns[] = {0xb8, nr, 0, 0, 0, 0x0f, 0x05, 0xc3};  // ret
    memcpy(code, insns, sizeof(insns));
  };
  using Fn = long (*)();
  auto fn = reinterpret_cast<Fn>(p);
  put(39);  // getpid
  for (int i = 0; i < 100; ++i) ASSERT_EQ(fn(), getpid());
  put(102);  // getuid
  for (int i = 0; i < 100; ++i) ASSERT_EQ(fn(), static_cast<long>(getuid()));
  ASSERT_THAT(munmap(p, page), SyscallSucceeds());
  void* q = mmap(p, page, PROT_READ | PROT_WRITE | PROT_EXEC,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  ASSERT_EQ(q, p);
  put(110);  // getppid
  for (int i = 0; i < 100; ++i) ASSERT_EQ(fn(), getppid());
  ASSERT_THAT(munmap(p, page), SyscallSucceeds());
}

}  // namespace
}  // namespace syscall_test
