// The vDSO: that the kernel maps one (AT_SYSINFO_EHDR), that it exports
// what glibc looks up with the LINUX_2.6 version, and that the times it
// computes agree with the syscalls and never go back, in one thread and
// across threads; that static and dynamic glibc programs use it.
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/syscalls/test_util.h"
#include "tests/syscalls/vdso_elf.h"

namespace {

using syscall_test::SyscallSucceeds;
using syscall_test::SyscallSucceedsWithValue;
using testing_vdso::VdsoElf;

using ClockGettimeFn = int (*)(clockid_t, timespec*);
using ClockGetresFn = int (*)(clockid_t, timespec*);
using GettimeofdayFn = int (*)(timeval*, struct timezone*);
using TimeFn = time_t (*)(time_t*);
using GetcpuFn = long (*)(unsigned*, unsigned*, void*);

template <class Fn>
Fn Lookup(const char* name) {
  static const VdsoElf elf;
  auto sym = elf.Find(name);
  return sym ? reinterpret_cast<Fn>(sym->address) : nullptr;
}

// The clocks Linux's vDSO computes itself.
const clockid_t kClocks[] = {CLOCK_REALTIME,
                             CLOCK_MONOTONIC,
                             CLOCK_MONOTONIC_RAW,
                             CLOCK_REALTIME_COARSE,
                             CLOCK_MONOTONIC_COARSE,
                             CLOCK_BOOTTIME,
                             CLOCK_TAI};

int64_t Ns(const timespec& ts) {
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

int64_t SyscallNs(clockid_t c) {
  timespec ts{};
  EXPECT_THAT(syscall(SYS_clock_gettime, c, &ts), SyscallSucceeds());
  return Ns(ts);
}

// Runs `child` in a forked child (it must not return) and returns the
// child's wait status.
template <class Fn>
int StatusOfChild(Fn child) {
  const pid_t pid = fork();
  EXPECT_THAT(pid, SyscallSucceeds());
  if (pid == 0) child();
  int status = 0;
  EXPECT_THAT(waitpid(pid, &status, 0), SyscallSucceedsWithValue(pid));
  return status;
}

TEST(VdsoTest, AuxvPointsAtAnElfImage) {
  const unsigned long base = getauxval(AT_SYSINFO_EHDR);
  ASSERT_NE(base, 0u);
  EXPECT_EQ(base % 4096, 0u);
  const VdsoElf elf;
  EXPECT_TRUE(elf.ok()) << "no dynamic symbols, hash, versions";
}

TEST(VdsoTest, ExportsLinux26Symbols) {
  const VdsoElf elf;
  ASSERT_TRUE(elf.ok());
  for (const char* name :
       {"__vdso_clock_gettime", "__vdso_gettimeofday", "__vdso_time",
        "__vdso_getcpu", "__vdso_clock_getres"}) {
    auto sym = elf.Find(name);
    ASSERT_TRUE(sym.has_value()) << name;
    EXPECT_EQ(sym->version, "LINUX_2.6") << name;
    EXPECT_GT(sym->address, elf.base()) << name;
  }
  EXPECT_FALSE(elf.Find("__vdso_no_such_thing").has_value());
}

// Each value read through the vDSO lies between two read by the syscall
// just before and just after: one clock, whichever way it is read.
TEST(VdsoTest, ClockGettimeBetweenTwoSyscalls) {
  auto vdso = Lookup<ClockGettimeFn>("__vdso_clock_gettime");
  ASSERT_NE(vdso, nullptr);
  for (clockid_t c : kClocks) {
    for (int i = 0; i < 200; ++i) {
      const int64_t before = SyscallNs(c);
      timespec ts{};
      ASSERT_EQ(vdso(c, &ts), 0) << c;
      ASSERT_GE(ts.tv_nsec, 0);
      ASSERT_LT(ts.tv_nsec, 1000000000);
      const int64_t after = SyscallNs(c);
      ASSERT_LE(before, Ns(ts)) << "clock " << c << " round " << i;
      ASSERT_LE(Ns(ts), after) << "clock " << c << " round " << i;
    }
  }
}

TEST(VdsoTest, GettimeofdayAndTimeBetweenTwoSyscalls) {
  auto gtod = Lookup<GettimeofdayFn>("__vdso_gettimeofday");
  auto vtime = Lookup<TimeFn>("__vdso_time");
  ASSERT_NE(gtod, nullptr);
  ASSERT_NE(vtime, nullptr);
  for (int i = 0; i < 200; ++i) {
    timeval before{}, v{}, after{};
    ASSERT_THAT(syscall(SYS_gettimeofday, &before, nullptr), SyscallSucceeds());
    ASSERT_EQ(gtod(&v, nullptr), 0);
    ASSERT_THAT(syscall(SYS_gettimeofday, &after, nullptr), SyscallSucceeds());
    auto us = [](const timeval& t) {
      return int64_t{t.tv_sec} * 1000000 + t.tv_usec;
    };
    ASSERT_LE(us(before), us(v));
    ASSERT_LE(us(v), us(after));

    const time_t s1 = syscall(SYS_time, nullptr);
    time_t stored = -1;
    const time_t t = vtime(&stored);
    const time_t s2 = syscall(SYS_time, nullptr);
    EXPECT_EQ(t, stored);
    ASSERT_LE(s1, t);
    ASSERT_LE(t, s2);
  }
  struct timezone tz {
    - 1, -1
  };
  timeval tv{};
  ASSERT_EQ(gtod(&tv, &tz), 0);
  struct timezone sys_tz {
    - 1, -1
  };
  ASSERT_THAT(syscall(SYS_gettimeofday, nullptr, &sys_tz), SyscallSucceeds());
  EXPECT_EQ(tz.tz_minuteswest, sys_tz.tz_minuteswest);
  EXPECT_EQ(tz.tz_dsttime, sys_tz.tz_dsttime);
  EXPECT_EQ(gtod(nullptr, nullptr), 0);
}

TEST(VdsoTest, MonotonicInOneThread) {
  auto vdso = Lookup<ClockGettimeFn>("__vdso_clock_gettime");
  ASSERT_NE(vdso, nullptr);
  for (clockid_t c : {CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW, CLOCK_BOOTTIME,
                      CLOCK_MONOTONIC_COARSE}) {
    int64_t last = 0;
    for (int i = 0; i < 200000; ++i) {
      timespec ts{};
      ASSERT_EQ(vdso(c, &ts), 0);
      ASSERT_GE(Ns(ts), last) << "clock " << c << " went back at " << i;
      last = Ns(ts);
    }
  }
}

// Two threads read the clock and publish the greatest value seen; a value
// read after loading the published one can never be below it, whichever
// CPU each thread runs on.
TEST(VdsoTest, MonotonicAcrossThreads) {
  auto vdso = Lookup<ClockGettimeFn>("__vdso_clock_gettime");
  ASSERT_NE(vdso, nullptr);
  std::atomic<int64_t> latest{0};
  std::atomic<int> backwards{0};
  auto run = [&] {
    for (int i = 0; i < 100000; ++i) {
      const int64_t seen = latest.load(std::memory_order_acquire);
      timespec ts{};
      vdso(CLOCK_MONOTONIC, &ts);
      const int64_t now = Ns(ts);
      if (now < seen) backwards.fetch_add(1);
      int64_t cur = seen;
      while (cur < now && !latest.compare_exchange_weak(
                              cur, now, std::memory_order_acq_rel)) {
      }
    }
  };
  std::thread a(run), b(run);
  a.join();
  b.join();
  EXPECT_EQ(backwards.load(), 0);
}

TEST(VdsoTest, ClockGetresMatchesSyscall) {
  auto vdso = Lookup<ClockGetresFn>("__vdso_clock_getres");
  ASSERT_NE(vdso, nullptr);
  for (clockid_t c : kClocks) {
    timespec v{-1, -1}, s{-1, -1};
    ASSERT_EQ(vdso(c, &v), 0) << c;
    ASSERT_THAT(syscall(SYS_clock_getres, c, &s), SyscallSucceeds());
    EXPECT_EQ(v.tv_sec, s.tv_sec) << c;
    EXPECT_EQ(v.tv_nsec, s.tv_nsec) << c;
    EXPECT_EQ(vdso(c, nullptr), 0) << c;
  }
}

// What the vDSO does not compute goes to the syscall: CPU-time clocks
// work, unknown clocks are EINVAL (returned negated, as the raw syscall
// returns it).
TEST(VdsoTest, OtherClocksFallBackToTheSyscall) {
  auto gettime = Lookup<ClockGettimeFn>("__vdso_clock_gettime");
  auto getres = Lookup<ClockGetresFn>("__vdso_clock_getres");
  ASSERT_NE(gettime, nullptr);
  ASSERT_NE(getres, nullptr);
  timespec ts{-1, -1};
  EXPECT_EQ(gettime(CLOCK_PROCESS_CPUTIME_ID, &ts), 0);
  EXPECT_GE(ts.tv_sec, 0);
  EXPECT_EQ(gettime(CLOCK_THREAD_CPUTIME_ID, &ts), 0);
  EXPECT_EQ(getres(CLOCK_PROCESS_CPUTIME_ID, &ts), 0);
  EXPECT_EQ(gettime(1000, &ts), -EINVAL);
  EXPECT_EQ(getres(1000, &ts), -EINVAL);
  // A bad pointer on the syscall path is the syscall's EFAULT.
  EXPECT_EQ(gettime(CLOCK_PROCESS_CPUTIME_ID, reinterpret_cast<timespec*>(16)),
            -EFAULT);
}

TEST(VdsoTest, GetcpuIsAnAllowedCpu) {
  auto vdso = Lookup<GetcpuFn>("__vdso_getcpu");
  ASSERT_NE(vdso, nullptr);
  cpu_set_t allowed;
  ASSERT_THAT(sched_getaffinity(0, sizeof(allowed), &allowed),
              SyscallSucceeds());
  unsigned cpu = ~0u, node = ~0u;
  ASSERT_EQ(vdso(&cpu, &node, nullptr), 0);
  ASSERT_LT(cpu, unsigned{CPU_SETSIZE});
  EXPECT_TRUE(CPU_ISSET(cpu, &allowed)) << cpu;
  EXPECT_LT(node, 1024u);
  EXPECT_EQ(vdso(nullptr, nullptr, nullptr), 0);
}

// glibc's clock_gettime uses the vDSO in a static program: the vDSO itself
// writes to the caller's pointer, so a bad one is a SIGSEGV, where the
// syscall would fail with EFAULT.
TEST(VdsoTest, StaticGlibcUsesIt) {
  const int status = StatusOfChild([] {
    if (clock_gettime(CLOCK_MONOTONIC, reinterpret_cast<timespec*>(16)) != 0 &&
        errno == EFAULT)
      _exit(3);
    _exit(4);
  });
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV)
      << "status " << status;
}

// The same in a dynamically linked program (vdso_probe.c): ld.so finds the
// vDSO's symbols through its dynamic section.
TEST(VdsoTest, DynamicGlibcUsesIt) {
  const int status = StatusOfChild([] {
    const char* argv[] = {VDSO_PROBE_DYNAMIC, nullptr};
    execv(argv[0], const_cast<char**>(argv));
    _exit(127);
  });
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV)
      << "status " << status;
}

// A forked child has the vDSO where its parent had it, working.
TEST(VdsoTest, ForkKeepsIt) {
  const unsigned long base = getauxval(AT_SYSINFO_EHDR);
  auto vdso = Lookup<ClockGettimeFn>("__vdso_clock_gettime");
  ASSERT_NE(vdso, nullptr);
  timespec parent{};
  ASSERT_EQ(vdso(CLOCK_MONOTONIC, &parent), 0);
  const int status = StatusOfChild([&] {
    timespec child{};
    if (getauxval(AT_SYSINFO_EHDR) != base) _exit(2);
    if (vdso(CLOCK_MONOTONIC, &child) != 0) _exit(3);
    _exit(Ns(child) >= Ns(parent) ? 0 : 4);
  });
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

}  // namespace
