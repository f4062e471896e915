// The x86-64 signal frame and synchronous signals: ucontext contents and
// layout, registers changed in the ucontext, FP state across a handler,
// rt_sigreturn's checks, SIGSEGV/SIGBUS/SIGILL/SIGFPE/SIGTRAP from faults.
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstring>

#include "test_util.h"

namespace syscall_test {
namespace {

class ScopedSigaction {
 public:
  ScopedSigaction(int sig, void (*fn)(int, siginfo_t*, void*), int flags = 0)
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

siginfo_t g_info;
ucontext_t g_uc;
uintptr_t g_uc_addr, g_info_addr;
sigjmp_buf g_jmp;

// Catches a fault, remembers what it saw, and jumps back into the test.
void Escape(int, siginfo_t* info, void* uc) {
  g_info = *info;
  g_uc = *static_cast<ucontext_t*>(uc);
  siglongjmp(g_jmp, 1);
}

TEST(SigframeTest, NullWriteIsSegvMaperr) {
  ScopedSigaction sa(SIGSEGV, Escape);
  if (sigsetjmp(g_jmp, 1) == 0) {
    *Opaque(static_cast<volatile int*>(nullptr)) = 1;
    FAIL() << "no fault";
  }
  EXPECT_EQ(g_info.si_signo, SIGSEGV);
  EXPECT_EQ(g_info.si_code, SEGV_MAPERR);
  EXPECT_EQ(g_info.si_addr, nullptr);
  EXPECT_EQ(g_uc.uc_mcontext.gregs[REG_TRAPNO], 14);  // #PF
}

TEST(SigframeTest, WriteToReadOnlyIsSegvAccerr) {
  void* p =
      mmap(nullptr, PageSize(), PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(p, MAP_FAILED);
  ScopedSigaction sa(SIGSEGV, Escape);
  if (sigsetjmp(g_jmp, 1) == 0) {
    *static_cast<volatile int*>(p) = 1;
    FAIL() << "no fault";
  }
  EXPECT_EQ(g_info.si_code, SEGV_ACCERR);
  EXPECT_EQ(g_info.si_addr, p);
  munmap(p, PageSize());
}

TEST(SigframeTest, SiglongjmpOutOfFaultRestoresMask) {
  ScopedSigaction sa(SIGSEGV, Escape);
  sigset_t before, after;
  sigprocmask(SIG_SETMASK, nullptr, &before);
  if (sigsetjmp(g_jmp, 1) == 0)
    *Opaque(static_cast<volatile int*>(nullptr)) = 1;
  sigprocmask(SIG_SETMASK, nullptr, &after);
  EXPECT_EQ(sigismember(&after, SIGSEGV), sigismember(&before, SIGSEGV));
}

// ud2 at a known address; the handler steps over it and sets rax.
extern "C" void sigframe_ud2();
extern "C" void sigframe_int3_after();
asm(R"(
  .text
  .globl run_ud2
run_ud2:
  xor %eax, %eax
  .globl sigframe_ud2
sigframe_ud2:
  ud2
  ret
  .globl run_int3
run_int3:
  xor %eax, %eax
  int3
  .globl sigframe_int3_after
sigframe_int3_after:
  ret
)");
extern "C" long run_ud2();
extern "C" long run_int3();

void SkipUd2(int, siginfo_t* info, void* p) {
  auto* uc = static_cast<ucontext_t*>(p);
  g_info = *info;
  g_uc = *uc;
  g_uc_addr = reinterpret_cast<uintptr_t>(uc);
  g_info_addr = reinterpret_cast<uintptr_t>(info);
  uc->uc_mcontext.gregs[REG_RIP] += 2;
  uc->uc_mcontext.gregs[REG_RAX] = 42;
}

TEST(SigframeTest, Ud2IsSigillAndUcontextChangesApply) {
  ScopedSigaction sa(SIGILL, SkipUd2);
  EXPECT_EQ(run_ud2(), 42);
  EXPECT_EQ(g_info.si_signo, SIGILL);
  EXPECT_EQ(g_info.si_code, ILL_ILLOPN);
  EXPECT_EQ(g_info.si_addr, reinterpret_cast<void*>(&sigframe_ud2));
  EXPECT_EQ(g_uc.uc_mcontext.gregs[REG_RIP],
            reinterpret_cast<greg_t>(&sigframe_ud2));
  EXPECT_EQ(g_uc.uc_mcontext.gregs[REG_TRAPNO], 6);  // #UD
}

TEST(SigframeTest, FrameLayout) {
  ScopedSigaction sa(SIGILL, SkipUd2);
  run_ud2();
  // rsp at entry was 16n - 8, so the ucontext (rsp + 8) is 16-aligned and
  // the siginfo follows it (sizeof(struct ucontext) == 304).
  EXPECT_EQ(g_uc_addr % 16, 0u);
  EXPECT_EQ(g_info_addr, g_uc_addr + 304);
  const auto fp = reinterpret_cast<uintptr_t>(g_uc.uc_mcontext.fpregs);
  EXPECT_EQ(fp % 64, 0u);
  EXPECT_GE(fp, g_info_addr + sizeof(siginfo_t));
  // UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS; UC_FP_XSTATE with XSAVE.
  EXPECT_EQ(g_uc.uc_flags & 6, 6u);
  uint32_t magic1;
  memcpy(&magic1, reinterpret_cast<char*>(fp) + 464, 4);
  if (g_uc.uc_flags & 1) {
    EXPECT_EQ(magic1, 0x46505853u);  // FP_XSTATE_MAGIC1
  }
  EXPECT_EQ(g_uc.uc_mcontext.gregs[REG_CSGSFS] & 0xffff, 0x33);
}

void RecordInt3(int, siginfo_t* info, void* p) {
  g_info = *info;
  g_uc = *static_cast<ucontext_t*>(p);
  static_cast<ucontext_t*>(p)->uc_mcontext.gregs[REG_RAX] = 7;
}

TEST(SigframeTest, Int3IsSigtrapWithRipAfterIt) {
  ScopedSigaction sa(SIGTRAP, RecordInt3);
  EXPECT_EQ(run_int3(), 7);
  EXPECT_EQ(g_info.si_signo, SIGTRAP);
  EXPECT_EQ(g_info.si_code, SI_KERNEL);  // do_int3_user: force_sig(SIGTRAP)
  EXPECT_EQ(g_uc.uc_mcontext.gregs[REG_RIP],
            reinterpret_cast<greg_t>(&sigframe_int3_after));
}

TEST(SigframeTest, DivideByZeroIsSigfpe) {
  ScopedSigaction sa(SIGFPE, Escape);
  if (sigsetjmp(g_jmp, 1) == 0) {
    volatile int a = 1, b = Opaque(0);
    a = a / b;
    FAIL() << "no fault";
  }
  EXPECT_EQ(g_info.si_signo, SIGFPE);
  EXPECT_EQ(g_info.si_code, FPE_INTDIV);
  EXPECT_EQ(reinterpret_cast<greg_t>(g_info.si_addr),
            g_uc.uc_mcontext.gregs[REG_RIP]);
}

// The handler clobbers every XMM register; the interrupted code must not
// notice, and the frame must hold the values from before.
__attribute__((noinline)) void ClobberXmm(int, siginfo_t*, void* p) {
  auto* uc = static_cast<ucontext_t*>(p);
  memcpy(&g_uc, uc, sizeof(g_uc));
  if (uc->uc_mcontext.fpregs)
    memcpy(&g_uc.__fpregs_mem, uc->uc_mcontext.fpregs,
           sizeof(g_uc.__fpregs_mem));
  asm volatile(
      "pcmpeqd %%xmm0, %%xmm0\n"
      "movdqa %%xmm0, %%xmm1\n movdqa %%xmm0, %%xmm7\n"
      "movdqa %%xmm0, %%xmm8\n movdqa %%xmm0, %%xmm15\n" ::
          : "xmm0", "xmm1", "xmm7", "xmm8", "xmm15");
}

TEST(SigframeTest, XmmRegistersSurviveHandler) {
  ScopedSigaction sa(SIGUSR1, ClobberXmm);
  alignas(16) uint64_t in[2] = {0x1111222233334444, 0x5555666677778888};
  alignas(16) uint64_t out1[2], out8[2];
  const long tid = syscall(SYS_gettid);
  // Load xmm1/xmm8, signal ourselves with a raw syscall, read them back.
  asm volatile(
      "movdqa (%[in]), %%xmm1\n movdqa (%[in]), %%xmm8\n"
      "mov %[nr], %%eax\n mov %[pid], %%rdi\n mov %[tid], %%rsi\n"
      "mov %[sig], %%edx\n syscall\n"
      "movdqa %%xmm1, (%[o1])\n movdqa %%xmm8, (%[o8])\n"
      :
      : [in] "r"(in), [o1] "r"(out1), [o8] "r"(out8), [nr] "i"(SYS_tgkill),
        [pid] "r"(static_cast<long>(getpid())), [tid] "r"(tid),
        [sig] "i"(SIGUSR1)
      : "rax", "rdi", "rsi", "rdx", "rcx", "r11", "xmm1", "xmm8", "memory");
  EXPECT_EQ(out1[0], in[0]);
  EXPECT_EQ(out1[1], in[1]);
  EXPECT_EQ(out8[0], in[0]);
  EXPECT_EQ(out8[1], in[1]);
  // struct _libc_fpstate: xmm registers start at byte 160.
  EXPECT_EQ(
      memcmp(reinterpret_cast<char*>(&g_uc.__fpregs_mem) + 160 + 16, in, 16), 0)
      << "xmm1 in the frame";
}

void BreakMxcsr(int, siginfo_t*, void* p) {
  auto* uc = static_cast<ucontext_t*>(p);
  uc->uc_mcontext.fpregs->mxcsr = 0xffffffff;  // reserved bits set
}

TEST(SigframeTest, BadFpstateOnSigreturnIsSigsegv) {
  ScopedSigaction segv(SIGSEGV, Escape);
  ScopedSigaction usr(SIGUSR1, BreakMxcsr);
  g_info = {};
  if (sigsetjmp(g_jmp, 1) == 0) {
    raise(SIGUSR1);
    FAIL() << "sigreturn accepted a bad MXCSR";
  }
  EXPECT_EQ(g_info.si_signo, SIGSEGV);
  EXPECT_EQ(g_info.si_code, SI_KERNEL);
}

TEST(SigframeTest, HandlerWithoutRestorerIsSigsegv) {
  ScopedSigaction segv(SIGSEGV, Escape);
  struct {
    uint64_t handler, flags, restorer, mask;
  } act = {reinterpret_cast<uint64_t>(&BreakMxcsr), SA_SIGINFO, 0, 0}, old;
  ASSERT_THAT(syscall(SYS_rt_sigaction, SIGUSR2, &act, &old, 8),
              SyscallSucceeds());
  g_info = {};
  if (sigsetjmp(g_jmp, 1) == 0) {
    raise(SIGUSR2);
    ADD_FAILURE() << "the handler ran without a restorer";
  }
  syscall(SYS_rt_sigaction, SIGUSR2, &old, nullptr, 8);
  EXPECT_EQ(g_info.si_signo, SIGSEGV);
  EXPECT_EQ(g_info.si_code, SI_KERNEL);
}

}  // namespace
}  // namespace syscall_test
