// sigaltstack(2): settings, errors, and handlers running on the alternate
// stack (SA_ONSTACK, SS_ONSTACK, EPERM while on it, SS_AUTODISARM).
#include <signal.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include <cstdint>

#include "test_util.h"

namespace syscall_test {
namespace {

constexpr size_t kKernelMinSigstksz = 2048;  // the kernel's MINSIGSTKSZ
constexpr int kSsAutodisarm = 1 << 31;
constexpr size_t kStackSize = 64 * 1024;
alignas(64) char g_stack[kStackSize];

long RawSigaltstack(const stack_t* ss, stack_t* old) {
  return syscall(SYS_sigaltstack, ss, old);
}

// Sets the alternate stack for the test and disables it afterwards.
class ScopedAltStack {
 public:
  explicit ScopedAltStack(int flags = 0) {
    stack_t ss = {.ss_sp = g_stack, .ss_flags = flags, .ss_size = kStackSize};
    EXPECT_THAT(RawSigaltstack(&ss, nullptr), SyscallSucceeds());
  }
  ~ScopedAltStack() {
    stack_t off = {.ss_sp = nullptr, .ss_flags = SS_DISABLE, .ss_size = 0};
    RawSigaltstack(&off, nullptr);
  }
};

class ScopedSigaction {
 public:
  ScopedSigaction(int sig, void (*fn)(int, siginfo_t*, void*), int flags)
      : sig_(sig) {
    struct sigaction sa = {};
    sa.sa_sigaction = fn;
    sa.sa_flags = SA_SIGINFO | flags;
    EXPECT_THAT(sigaction(sig, &sa, &old_), SyscallSucceeds());
  }
  ~ScopedSigaction() { sigaction(sig_, &old_, nullptr); }

 private:
  int sig_;
  struct sigaction old_;
};

bool InStack(uintptr_t p) {
  auto base = reinterpret_cast<uintptr_t>(g_stack);
  return p >= base && p < base + kStackSize;
}

// What the handler saw.
uintptr_t g_local, g_uc;
stack_t g_inside, g_uc_stack;
long g_change_result;
int g_change_errno;

void Inspect(int, siginfo_t*, void* uc) {
  int local;
  g_local = reinterpret_cast<uintptr_t>(&local);
  g_uc = reinterpret_cast<uintptr_t>(uc);
  g_uc_stack = static_cast<ucontext_t*>(uc)->uc_stack;
  RawSigaltstack(nullptr, &g_inside);
  stack_t ss = {.ss_sp = g_stack, .ss_flags = 0, .ss_size = kStackSize / 2};
  g_change_result = RawSigaltstack(&ss, nullptr);
  g_change_errno = errno;
}

TEST(SigaltstackTest, DisabledByDefault) {
  stack_t old = {};
  ASSERT_THAT(RawSigaltstack(nullptr, &old), SyscallSucceeds());
  EXPECT_EQ(old.ss_flags, SS_DISABLE);
  EXPECT_EQ(old.ss_sp, nullptr);
  EXPECT_EQ(old.ss_size, 0u);
}

TEST(SigaltstackTest, SetAndReadBack) {
  ScopedAltStack alt;
  stack_t old = {};
  ASSERT_THAT(RawSigaltstack(nullptr, &old), SyscallSucceeds());
  EXPECT_EQ(old.ss_sp, g_stack);
  EXPECT_EQ(old.ss_size, kStackSize);
  EXPECT_EQ(old.ss_flags, 0);
  // Setting returns the previous settings.
  stack_t off = {.ss_sp = nullptr, .ss_flags = SS_DISABLE, .ss_size = 0};
  stack_t prev = {};
  ASSERT_THAT(RawSigaltstack(&off, &prev), SyscallSucceeds());
  EXPECT_EQ(prev.ss_sp, g_stack);
  ASSERT_THAT(RawSigaltstack(nullptr, &old), SyscallSucceeds());
  EXPECT_EQ(old.ss_flags, SS_DISABLE);
  EXPECT_EQ(old.ss_size, 0u);
}

TEST(SigaltstackTest, Errors) {
  stack_t small = {
      .ss_sp = g_stack, .ss_flags = 0, .ss_size = kKernelMinSigstksz - 1};
  EXPECT_THAT(RawSigaltstack(&small, nullptr), SyscallFailsWithErrno(ENOMEM));
  stack_t bad = {.ss_sp = g_stack, .ss_flags = 0x10, .ss_size = kStackSize};
  EXPECT_THAT(RawSigaltstack(&bad, nullptr), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(RawSigaltstack(BadAddress<stack_t>(), nullptr),
              SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(RawSigaltstack(nullptr, BadAddress<stack_t>()),
              SyscallFailsWithErrno(EFAULT));
  // A disabled stack needs no size.
  stack_t off = {.ss_sp = nullptr, .ss_flags = SS_DISABLE, .ss_size = 1};
  EXPECT_THAT(RawSigaltstack(&off, nullptr), SyscallSucceeds());
}

TEST(SigaltstackTest, OnstackHandlerRunsOnAltStack) {
  ScopedAltStack alt;
  ScopedSigaction sa(SIGUSR1, Inspect, SA_ONSTACK);
  ASSERT_THAT(raise(SIGUSR1), SyscallSucceeds());
  EXPECT_TRUE(InStack(g_local));
  EXPECT_TRUE(InStack(g_uc));
  EXPECT_EQ(g_inside.ss_flags, SS_ONSTACK);
  EXPECT_EQ(g_inside.ss_sp, g_stack);
  // The frame records the settings, which sigreturn puts back.
  EXPECT_EQ(g_uc_stack.ss_sp, g_stack);
  EXPECT_EQ(g_uc_stack.ss_size, kStackSize);
  EXPECT_EQ(g_uc_stack.ss_flags, 0);
  // Changing the stack while running on it is refused.
  EXPECT_EQ(g_change_result, -1);
  EXPECT_EQ(g_change_errno, EPERM);
  stack_t now = {};
  ASSERT_THAT(RawSigaltstack(nullptr, &now), SyscallSucceeds());
  EXPECT_EQ(now.ss_flags, 0);
  EXPECT_EQ(now.ss_size, kStackSize);
}

TEST(SigaltstackTest, HandlerWithoutOnstackStaysOnThreadStack) {
  ScopedAltStack alt;
  ScopedSigaction sa(SIGUSR1, Inspect, 0);
  ASSERT_THAT(raise(SIGUSR1), SyscallSucceeds());
  EXPECT_FALSE(InStack(g_local));
  EXPECT_EQ(g_inside.ss_flags, 0);
  EXPECT_EQ(g_change_result, 0);  // not on it: may change it
}

TEST(SigaltstackTest, AutodisarmClearsInsideHandlerAndComesBack) {
  ScopedAltStack alt(kSsAutodisarm);
  stack_t now = {};
  ASSERT_THAT(RawSigaltstack(nullptr, &now), SyscallSucceeds());
  EXPECT_EQ(now.ss_flags, kSsAutodisarm);
  ScopedSigaction sa(SIGUSR1, Inspect, SA_ONSTACK);
  ASSERT_THAT(raise(SIGUSR1), SyscallSucceeds());
  EXPECT_TRUE(InStack(g_local));
  EXPECT_EQ(g_inside.ss_flags, SS_DISABLE);
  EXPECT_EQ(g_uc_stack.ss_flags, kSsAutodisarm);
  // Disarmed, it could be changed from the handler; sigreturn then put
  // the frame's settings back.
  EXPECT_EQ(g_change_result, 0);
  ASSERT_THAT(RawSigaltstack(nullptr, &now), SyscallSucceeds());
  EXPECT_EQ(now.ss_flags, kSsAutodisarm);
  EXPECT_EQ(now.ss_size, kStackSize);
}

}  // namespace
}  // namespace syscall_test
