#include "platform/ptrace/zygote_main.h"

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "platform/ptrace/stub_abi.h"

namespace platform::ptrace {
namespace {

static_assert(STUB_SIGKILL == SIGKILL);
static_assert(STUB_PR_SET_PDEATHSIG == PR_SET_PDEATHSIG);
static_assert(STUB_PR_SET_NO_NEW_PRIVS == PR_SET_NO_NEW_PRIVS);
static_assert(STUB_SECCOMP_SET_MODE_FILTER == SECCOMP_SET_MODE_FILTER);
static_assert(STUB_EINTR == EINTR);
static_assert(STUB_EINVAL == EINVAL);
static_assert(STUB_EMFILE == EMFILE);
// MoveFds and the stub's close_range calls rely on this numbering; the
// stub's handshake pipe takes two of the fds below STUB_MEM_FD.
static_assert(STUB_MEM_FD >= 2 && STUB_SOCKET_FD == STUB_MEM_FD + 1);

// glibc registers an rseq area in each thread's TLS and fork keeps the
// registration. Once the stub code has unmapped the TLS, the kernel's next
// rseq update (after any preemption) would fault and SIGSEGV the stub.
bool UnregisterRseq() {
  if (__rseq_size == 0) return true;  // glibc did not register one
  void* area = static_cast<char*>(__builtin_thread_pointer()) + __rseq_offset;
  // The kernel insists on the registered length. glibc >= 2.40 registers
  // more than __rseq_size (the feature size), so try that size too.
  for (unsigned len : {__rseq_size, 32u}) {
    if (syscall(SYS_rseq, area, len, RSEQ_FLAG_UNREGISTER, RSEQ_SIG) == 0)
      return true;
  }
  return false;
}

// The kernel's struct sigaction. The raw syscall, unlike glibc's wrapper,
// also resets glibc's internal signals 32 and 33, whose handlers point
// into the libc the stub is about to unmap.
struct KernelSigaction {
  void (*handler)(int);
  unsigned long flags;
  void (*restorer)();
  uint64_t mask;
};

bool ResetSignals() {
  stack_t no_altstack{};
  no_altstack.ss_flags = SS_DISABLE;
  if (sigaltstack(&no_altstack, nullptr) != 0) return false;
  for (int sig = 1; sig <= 64; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    KernelSigaction action{};
    // SIGCHLD ignored: the kernel reaps dead stubs for the zygote.
    action.handler = sig == SIGCHLD ? SIG_IGN : SIG_DFL;
    if (syscall(SYS_rt_sigaction, sig, &action, nullptr, sizeof(action.mask)))
      return false;
  }
  const uint64_t none = 0;
  return syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, nullptr,
                 sizeof(none)) == 0;
}

// Systrap: every signal but SIGKILL, SIGSTOP and SIGCHLD (ignored) goes to
// the stub's handler, on the alternate stack, with every signal blocked
// while it runs. Everything but the CPU's signals stays blocked in the
// zygote and so in each stub's leader, the syscall thread, which must never
// run the handler; app threads unblock everything on their first return
// from it.
bool InstallSystrapHandlers(uint64_t handler, uint64_t restorer) {
  constexpr unsigned long kSaSiginfo = 4, kSaOnstack = 0x08000000,
                          kSaRestorer = 0x04000000;
  for (int sig = 1; sig <= 64; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP || sig == SIGCHLD) continue;
    KernelSigaction action{};
    action.handler = reinterpret_cast<void (*)(int)>(handler);
    action.flags = kSaSiginfo | kSaOnstack | kSaRestorer;
    action.restorer = reinterpret_cast<void (*)()>(restorer);
    action.mask = ~uint64_t{0};
    if (syscall(SYS_rt_sigaction, sig, &action, nullptr, sizeof(action.mask)))
      return false;
  }
  uint64_t blocked = ~uint64_t{0};
  for (int sig : {SIGSYS, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP})
    blocked &= ~(uint64_t{1} << (sig - 1));
  return syscall(SYS_rt_sigprocmask, SIG_SETMASK, &blocked, nullptr,
                 sizeof(blocked)) == 0;
}

// Leaves exactly two fds open: the memory file and the request socket, at
// the numbers the stub code uses.
bool MoveFds(int memory_fd, int socket_fd) {
  // Park both above the target numbers first, so that neither dup2 can
  // close the other's source.
  const int mem = fcntl(memory_fd, F_DUPFD, STUB_SOCKET_FD + 1);
  const int sock = fcntl(socket_fd, F_DUPFD, STUB_SOCKET_FD + 1);
  if (mem < 0 || sock < 0) return false;
  if (dup2(mem, STUB_MEM_FD) != STUB_MEM_FD) return false;
  if (dup2(sock, STUB_SOCKET_FD) != STUB_SOCKET_FD) return false;
  return close_range(0, STUB_MEM_FD - 1, 0) == 0 &&
         close_range(STUB_SOCKET_FD + 1, ~0U, 0) == 0;
}

// A seccomp filter that allows syscalls made from the stub code and nothing
// else. App code never reaches seccomp (PTRACE_SYSEMU stops it before), but
// the kernel's vsyscall emulation does: without this filter
// `call 0xffffffffff600000` would run gettimeofday() on the host behind the
// sentry's back. It gets SIGSYS instead, which Switch reports as kSignal.
// The stub code installs it (stub.S); every stub inherits it.
struct StubFilter {
  sock_filter insns[10];
  sock_fprog prog;
};

void BuildFilter(uint64_t code_start, uint64_t code_end, StubFilter& f) {
  // The code is less than a page and page aligned, so it cannot straddle a
  // 4 GiB boundary: one compare on the high half of %rip, one on the low.
  const uint32_t ip_high = code_start >> 32;
  const uint32_t ip_low = static_cast<uint32_t>(code_start);
  const uint32_t code_len = code_end - code_start;
  constexpr uint32_t kIpLowOffset = offsetof(seccomp_data, instruction_pointer);
  const sock_filter insns[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kIpLowOffset + 4),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ip_high, 0, 3),  // no: trap
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kIpLowOffset),
      BPF_STMT(BPF_ALU | BPF_SUB | BPF_K, ip_low),  // unsigned wrap-around
      BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, code_len, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  static_assert(sizeof(insns) == sizeof(f.insns));
  memcpy(f.insns, insns, sizeof(insns));
  f.prog.len = sizeof(f.insns) / sizeof(f.insns[0]);
  f.prog.filter = f.insns;
}

[[noreturn]] void JumpToStub(uint64_t entry, uint64_t region_start,
                             const sock_fprog* filter) {
  const uint64_t stack = region_start + STUB_REGION_SIZE;
  asm volatile(
      "mov %[stack], %%rsp\n\t"
      "xor %%ebp, %%ebp\n\t"
      "jmp *%[entry]"
      :
      : [stack] "r"(stack), [entry] "r"(entry), "D"(region_start), "S"(filter)
      : "memory");
  __builtin_unreachable();
}

}  // namespace

void ZygoteMain(const ZygoteArgs& args) {
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) _exit(kZygoteExitPdeathsig);
  // The sentry may have died before the prctl took effect.
  if (getppid() != args.parent) _exit(kZygoteExitParentGone);
  if (!UnregisterRseq()) _exit(kZygoteExitRseq);
  if (!ResetSignals()) _exit(kZygoteExitSignals);
  if (args.systrap_handler != 0 &&
      !InstallSystrapHandlers(args.systrap_handler, args.systrap_restorer))
    _exit(kZygoteExitSystrapSignals);
  if (!MoveFds(args.memory_fd, args.socket_fd)) _exit(kZygoteExitFds);
  // In this frame, so it stays put until the stub code has installed it.
  StubFilter filter;
  BuildFilter(args.region_start, args.code_end, filter);
  JumpToStub(args.entry, args.region_start, &filter.prog);
}

std::string_view DescribeZygoteExit(int code) {
  switch (code) {
    case kZygoteExitPdeathsig:
      return "prctl(PR_SET_PDEATHSIG) failed";
    case kZygoteExitParentGone:
      return "the sentry died during start-up";
    case kZygoteExitRseq:
      return "could not unregister glibc's rseq area";
    case kZygoteExitSignals:
      return "could not reset signal handlers";
    case kZygoteExitFds:
      return "could not set up its file descriptors";
    case kZygoteExitSystrapSignals:
      return "could not install the systrap signal handlers";
    case STUB_EXIT_SECCOMP:
      return "could not install its seccomp filter";
    case STUB_EXIT_MUNMAP_LOW:
      return "munmap below the stub region failed";
    case STUB_EXIT_MUNMAP_HIGH:
      return "munmap above the stub region failed";
    case STUB_EXIT_READY:
      return "could not send its ready byte";
    default:
      return "unexpected exit";
  }
}

}  // namespace platform::ptrace
