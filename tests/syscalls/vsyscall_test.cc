// The legacy vsyscall page: gettimeofday, time and getcpu called at their
// fixed addresses, and the SIGSEGV Linux gives for bad pointers, other
// addresses in the page and reads of it.
#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#include <cstdint>
#include <optional>
#include <string>

#include "test_util.h"

namespace syscall_test {
namespace {

constexpr uintptr_t kGettimeofday = 0xffffffffff600000;
constexpr uintptr_t kTime = 0xffffffffff600400;
constexpr uintptr_t kGetcpu = 0xffffffffff600800;

using GettimeofdayFn = long (*)(struct timeval*, struct timezone*);
using TimeFn = long (*)(long*);
using GetcpuFn = long (*)(unsigned*, unsigned*, void*);

// The [vsyscall] line of /proc/self/maps: empty natively with
// vsyscall=none; the sandbox has no maps yet (nullopt) and emulates the
// page as vsyscall=xonly does.
std::optional<std::string> VsyscallMapping() {
  const int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  const std::string maps = ReadToEnd(fd);
  close(fd);
  const size_t at = maps.find("[vsyscall]");
  if (at == std::string::npos) return "";
  return maps.substr(maps.rfind('\n', at) + 1, at - maps.rfind('\n', at));
}

#define SkipWithoutVsyscall()                             \
  do {                                                    \
    if (VsyscallMapping() == "")                          \
      GTEST_SKIP() << "no vsyscall page (vsyscall=none)"; \
  } while (0)

template <class Fn>
Fn At(uintptr_t addr) {
  return reinterpret_cast<Fn>(Opaque(addr));
}

TEST(VsyscallTest, Gettimeofday) {
  SkipWithoutVsyscall();
  struct timeval before, tv, after;
  ASSERT_THAT(syscall(SYS_gettimeofday, &before, nullptr), SyscallSucceeds());
  struct timezone tz;
  EXPECT_EQ(At<GettimeofdayFn>(kGettimeofday)(&tv, &tz), 0);
  ASSERT_THAT(syscall(SYS_gettimeofday, &after, nullptr), SyscallSucceeds());
  EXPECT_GE(tv.tv_sec, before.tv_sec);
  EXPECT_LE(tv.tv_sec, after.tv_sec);
  EXPECT_GE(tv.tv_usec, 0);
  EXPECT_LT(tv.tv_usec, 1000000);
  // NULL means "don't write" for both.
  EXPECT_EQ(At<GettimeofdayFn>(kGettimeofday)(nullptr, nullptr), 0);
}

TEST(VsyscallTest, Time) {
  SkipWithoutVsyscall();
  const long before = syscall(SYS_time, nullptr);
  long stored = -1;
  const long now = At<TimeFn>(kTime)(&stored);
  const long after = syscall(SYS_time, nullptr);
  EXPECT_GE(now, before);
  EXPECT_LE(now, after);
  EXPECT_EQ(stored, now);
  EXPECT_GE(At<TimeFn>(kTime)(nullptr), now);
}

TEST(VsyscallTest, Getcpu) {
  SkipWithoutVsyscall();
  unsigned cpu = ~0u, node = ~0u;
  EXPECT_EQ(At<GetcpuFn>(kGetcpu)(&cpu, &node, nullptr), 0);
  EXPECT_LT(cpu, static_cast<unsigned>(sysconf(_SC_NPROCESSORS_CONF)));
  EXPECT_NE(node, ~0u);
  EXPECT_EQ(At<GetcpuFn>(kGetcpu)(nullptr, nullptr, nullptr), 0);
}

// Registers survive the call as a C call expects (callee-saved ones), and
// the return lands after the call: many calls in a row.
TEST(VsyscallTest, ManyCalls) {
  SkipWithoutVsyscall();
  long last = 0;
  for (int i = 0; i < 100; ++i) {
    const long now = At<TimeFn>(kTime)(nullptr);
    EXPECT_GE(now, last);
    last = now;
  }
}

// What a SIGSEGV handler in the child saw.
struct Segv {
  int code = 0;
  uintptr_t addr = 0;
  uintptr_t rip = 0;
};

int g_report_fd = -1;

void ReportSegv(int, siginfo_t* info, void* uc) {
  const auto* ctx = static_cast<const ucontext_t*>(uc);
  Segv s{info->si_code, reinterpret_cast<uintptr_t>(info->si_addr),
         static_cast<uintptr_t>(ctx->uc_mcontext.gregs[REG_RIP])};
  (void)!write(g_report_fd, &s, sizeof(s));
  _exit(0);
}

// Runs `call` in a child whose SIGSEGV handler reports what it saw.
Segv SegvOf(void (*call)()) {
  int fds[2];
  EXPECT_THAT(pipe(fds), SyscallSucceeds());
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    g_report_fd = fds[1];
    struct sigaction sa = {};
    sa.sa_sigaction = ReportSegv;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, nullptr);
    call();
    _exit(1);  // no signal
  }
  close(fds[1]);
  Segv s;
  EXPECT_EQ(read(fds[0], &s, sizeof(s)), static_cast<ssize_t>(sizeof(s)));
  close(fds[0]);
  int status;
  EXPECT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  return s;
}

// A user address with nothing mapped: the call faults inside, SIGSEGV from
// the kernel at the entry point (the return is not emulated).
TEST(VsyscallTest, BadPointerIsSigsegv) {
  SkipWithoutVsyscall();
  Segv s = SegvOf(+[] {
    At<GettimeofdayFn>(kGettimeofday)(BadAddress<struct timeval>(), nullptr);
  });
  EXPECT_EQ(s.code, SI_KERNEL);
  EXPECT_EQ(s.rip, kGettimeofday);
  s = SegvOf(+[] { At<TimeFn>(kTime)(BadAddress<long>()); });
  EXPECT_EQ(s.code, SI_KERNEL);
  EXPECT_EQ(s.rip, kTime);
  s = SegvOf(
      +[] { At<GetcpuFn>(kGetcpu)(BadAddress<unsigned>(), nullptr, nullptr); });
  EXPECT_EQ(s.code, SI_KERNEL);
  EXPECT_EQ(s.rip, kGetcpu);
}

// A kernel address is refused before the call, as a page fault there.
TEST(VsyscallTest, KernelPointerIsSigsegv) {
  SkipWithoutVsyscall();
  const Segv s = SegvOf(+[] {
    At<GettimeofdayFn>(kGettimeofday)(
        reinterpret_cast<struct timeval*>(Opaque(0xffff800000000000ull)),
        nullptr);
  });
  EXPECT_EQ(s.code, SEGV_MAPERR);
  EXPECT_EQ(s.addr, 0xffff800000000000ull);
  EXPECT_EQ(s.rip, kGettimeofday);
}

// Only the three entry points: any other address in the page is SIGSEGV
// from the kernel where the call went.
TEST(VsyscallTest, OtherAddressesAreSigsegv) {
  SkipWithoutVsyscall();
  Segv s = SegvOf(+[] {
    struct timeval t;
    At<GettimeofdayFn>(kGettimeofday + 4)(&t, nullptr);
  });
  EXPECT_EQ(s.code, SI_KERNEL);
  EXPECT_EQ(s.rip, kGettimeofday + 4);
  s = SegvOf(+[] { At<TimeFn>(kGettimeofday + 0xc00)(nullptr); });
  EXPECT_EQ(s.code, SI_KERNEL);
  EXPECT_EQ(s.rip, kGettimeofday + 0xc00);
}

// The page is execute-only (or absent): reading it faults at that address.
TEST(VsyscallTest, ReadingThePageIsSigsegv) {
  SkipWithoutVsyscall();
  if (VsyscallMapping().value_or("--xp").find("r-xp") != std::string::npos)
    GTEST_SKIP() << "vsyscall=emulate: the page is readable";
  const Segv s = SegvOf(
      +[] { (void)*reinterpret_cast<volatile char*>(Opaque(kGettimeofday)); });
  EXPECT_EQ(s.code, SEGV_MAPERR);
  EXPECT_EQ(s.addr, kGettimeofday);
  EXPECT_NE(s.rip, kGettimeofday);
}

}  // namespace
}  // namespace syscall_test
