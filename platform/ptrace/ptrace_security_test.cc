// The security invariants of the ptrace platform (platform/README.md):
// a stub holds nothing of the sentry, never outlives its tracer or the
// sentry, and app code never reaches a host syscall.
#include <linux/audit.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "platform/ptrace/stub_abi.h"
#include "platform/ptrace/test_fixture.h"
#include "platform/ptrace/test_proc.h"

DECLARE_PROGRAM(prog_two_syscalls);
DECLARE_PROGRAM(prog_int80);
DECLARE_PROGRAM(prog_vsyscall);
DECLARE_PROGRAM(prog_fpu_state);
DECLARE_PROGRAM(prog_fpu_keep);

// LeakSanitizer's interface, when it is linked in.
extern "C" void __lsan_disable() __attribute__((weak));

namespace platform::ptrace {
namespace {

using Kind = Trap::Kind;

// Checks what a stub or the zygote may still hold: the stub region (above
// MaxUserAddress), memory file mappings (below it) and [vsyscall].
void ExpectOnlyStubMappings(pid_t pid, uint64_t max_user_address,
                            bool expect_memfd) {
  uint64_t region_bytes = 0;
  bool saw_memfd = false;
  for (const Mapping& m : ReadMaps(pid)) {
    if (m.path == "[vsyscall]") continue;
    if (m.start >= max_user_address) {
      EXPECT_EQ(m.path, "") << "pid " << pid << " maps " << std::hex << m.start;
      region_bytes += m.end - m.start;
    } else {
      EXPECT_EQ(m.path.rfind("/memfd:ptrace_test", 0), 0u)
          << "pid " << pid << " maps " << std::hex << m.start << " " << m.path;
      saw_memfd = true;
    }
  }
  EXPECT_EQ(region_bytes, uint64_t{STUB_REGION_SIZE}) << "pid " << pid;
  EXPECT_EQ(saw_memfd, expect_memfd) << "pid " << pid;
}

// Seccomp, no_new_privs and the signal mask are per thread: checked for
// each one.
void ExpectSandboxedStatus(pid_t pid) {
  const std::vector<pid_t> tids = TaskIds(pid);
  EXPECT_FALSE(tids.empty()) << "pid " << pid;
  for (const pid_t tid : tids) {
    EXPECT_EQ(StatusField(pid, "Seccomp", tid), "2") << "tid " << tid;
    EXPECT_EQ(StatusField(pid, "NoNewPrivs", tid), "1") << "tid " << tid;
    EXPECT_EQ(StatusField(pid, "SigBlk", tid), "0000000000000000")
        << "tid " << tid;
    EXPECT_EQ(StatusField(pid, "SigIgn", tid), "0000000000010000")  // SIGCHLD
        << "tid " << tid;
    EXPECT_EQ(StatusField(pid, "SigCgt", tid), "0000000000000000")
        << "tid " << tid;
  }
}

TEST_F(PtraceTest, StubHoldsNothingOfTheSentry) {
  Registers regs = Load(PROGRAM(prog_two_syscalls));
  ASSERT_EQ(ctx_->Switch(*as_, regs).kind, Kind::kSyscall);
  const pid_t stub = pas().stub_pid();
  ExpectOnlyStubMappings(stub, platform_->MaxUserAddress(), true);
  const auto fds = ReadFds(stub);
  ASSERT_EQ(fds.size(), 1u);
  EXPECT_EQ(fds[0].first, STUB_MEM_FD);
  EXPECT_EQ(fds[0].second.rfind("/memfd:ptrace_test", 0), 0u);
  ExpectSandboxedStatus(stub);
  // Two threads: the leader, traced by the control thread, and this
  // test's stub thread, traced by this thread.
  const std::vector<pid_t> tids = TaskIds(stub);
  ASSERT_EQ(tids.size(), 2u);
  EXPECT_EQ(StatusField(stub, "TracerPid", stub),
            std::to_string(platform_->control_tid()));
  EXPECT_EQ(StatusField(stub, "TracerPid", pctx().stub_tid()),
            std::to_string(gettid()));
}

TEST_F(PtraceTest, ZygoteHoldsNothingOfTheSentry) {
  const pid_t zygote = platform_->zygote_pid();
  ExpectOnlyStubMappings(zygote, platform_->MaxUserAddress(), false);
  const auto fds = ReadFds(zygote);
  ASSERT_EQ(fds.size(), 2u);
  EXPECT_EQ(fds[0].first, STUB_MEM_FD);
  EXPECT_EQ(fds[0].second.rfind("/memfd:ptrace_test", 0), 0u);
  EXPECT_EQ(fds[1].first, STUB_SOCKET_FD);
  EXPECT_EQ(fds[1].second.rfind("socket:", 0), 0u);
  ExpectSandboxedStatus(zygote);
}

TEST_F(PtraceTest, NewStubStartsWithCleanFpuState) {
  Registers regs = Load(PROGRAM(prog_fpu_state));
  ASSERT_EQ(ctx_->Switch(*as_, regs).kind, Kind::kSyscall);
  EXPECT_EQ(regs.rdi, 0u);
  EXPECT_EQ(regs.rsi, 0u);
  EXPECT_EQ(regs.rdx, uint64_t{STUB_MXCSR_DEFAULT});
  EXPECT_EQ(regs.r10, 0x37fu);  // x87 control word after FNINIT
}

TEST_F(PtraceTest, FpuStateSurvivesTrapsAndInjectedSyscalls) {
  Registers regs = Load(PROGRAM(prog_fpu_keep));
  regs.rdi = 0x0123456789abcdef;
  ASSERT_EQ(ctx_->Switch(*as_, regs).kind, Kind::kSyscall);
  ASSERT_TRUE(
      as_->MapFile(kSpareAddr, kPage, kSpareOffset, PROT_READ).has_value());
  regs.rdi = 0;
  ASSERT_EQ(ctx_->Switch(*as_, regs).kind, Kind::kSyscall);
  EXPECT_EQ(regs.orig_rax, 60u);
  EXPECT_EQ(regs.rdi, 0x0123456789abcdefu);
}

// int $0x80 must never be read as a 64-bit syscall. Where the host serves
// 32-bit syscalls, the SYSEMU stop is reported as SIGSYS; where it does not
// (ia32_emulation=0, some VMs), the CPU raises a #GP: SIGSEGV, SI_KERNEL.
TEST_F(PtraceTest, Int80IsNeverANativeSyscall) {
  Registers regs = Load(PROGRAM(prog_int80));
  const Trap trap = ctx_->Switch(*as_, regs);
  ASSERT_EQ(trap.kind, Kind::kSignal) << KindName(trap.kind);
  if (trap.info.si_signo == SIGSEGV) {
    EXPECT_EQ(trap.info.si_code, SI_KERNEL);
    RecordProperty("int80", "rejected by the host (no IA32 emulation)");
    return;
  }
  EXPECT_EQ(trap.info.si_signo, SIGSYS);
  EXPECT_EQ(trap.info.si_code, 1);  // SYS_SECCOMP
  EXPECT_EQ(trap.info.si_syscall, 1);
  EXPECT_EQ(trap.info.si_arch, AUDIT_ARCH_I386);
}

// The kernel emulates vsyscall calls without a syscall stop; the stub's
// seccomp filter turns them into SIGSYS instead of a host gettimeofday,
// which the platform reports as a fetch fault at the entry point, with the
// registers of the call (the host's emulated `ret` undone), for the
// sentry to emulate.
TEST_F(PtraceTest, VsyscallNeverReachesTheHost) {
  bool have_vsyscall = false;
  for (const Mapping& m : ReadMaps(getpid()))
    have_vsyscall |=
        m.path == "[vsyscall]" && m.perms.find('x') != m.perms.npos;
  if (!have_vsyscall) GTEST_SKIP() << "vsyscall=none on this host";
  Registers regs = Load(PROGRAM(prog_vsyscall));
  const uint64_t rsp = regs.rsp;
  const Trap trap = ctx_->Switch(*as_, regs);
  ASSERT_EQ(trap.kind, Kind::kPageFault) << KindName(trap.kind);
  EXPECT_EQ(trap.info.si_signo, SIGSEGV);
  EXPECT_EQ(reinterpret_cast<uint64_t>(trap.info.si_addr), 0xffffffffff600000u);
  EXPECT_EQ(regs.rip, 0xffffffffff600000u);
  EXPECT_EQ(regs.rsp, rsp - 8);  // the return address is pushed
}

TEST_F(PtraceTest, AppCannotMapOutsideItsRange) {
  const uint64_t max = platform_->MaxUserAddress();
  const auto einval = base::Errno(EINVAL);
  EXPECT_EQ(as_->MapFile(max, kPage, 0, PROT_READ).error(), einval);
  EXPECT_EQ(as_->MapFile(max - kPage, 2 * kPage, 0, PROT_READ).error(), einval);
  EXPECT_EQ(as_->MapFile(max - kPage, ~0ull - kPage, 0, PROT_READ).error(),
            einval);
  EXPECT_EQ(as_->MapFile(0, kPage, 0, PROT_READ).error(), einval);
  EXPECT_EQ(as_->MapFile(kMinUserAddress - kPage, kPage, 0, PROT_READ).error(),
            einval);
  EXPECT_EQ(as_->MapFile(kSpareAddr + 1, kPage, 0, PROT_READ).error(), einval);
  EXPECT_EQ(as_->MapFile(kSpareAddr, 0, 0, PROT_READ).error(), einval);
  EXPECT_EQ(as_->MapFile(kSpareAddr, kPage, 1, PROT_READ).error(), einval);
  EXPECT_EQ(as_->MapFile(kSpareAddr, kPage, 0, PROT_GROWSDOWN).error(), einval);
  EXPECT_EQ(as_->Unmap(max, kPage).error(), einval);
  EXPECT_EQ(as_->Protect(max, kPage, PROT_READ).error(), einval);
  // The highest page is fine.
  EXPECT_TRUE(as_->MapFile(max - kPage, kPage, 0, PROT_READ).has_value());
}

TEST_F(PtraceTest, DestroyedAddressSpaceLeavesNoProcess) {
  const pid_t stub = pas().stub_pid();
  as_.reset();
  EXPECT_TRUE(BecomesGone(stub));
}

// Any sentry thread may destroy an address space (the kill and the reap
// need no ptrace request), while its tracer lives on.
TEST_F(PtraceTest, DestroyFromAnotherThread) {
  Registers regs = Load(PROGRAM(prog_two_syscalls));
  ASSERT_EQ(ctx_->Switch(*as_, regs).kind, Kind::kSyscall);
  const pid_t stub = pas().stub_pid();
  std::thread([&] { as_.reset(); }).join();
  EXPECT_TRUE(BecomesGone(stub));
}

// An address space belongs to no thread: the one that created it may exit.
TEST_F(PtraceTest, AddressSpaceOutlivesTheThreadThatMadeIt) {
  std::unique_ptr<AddressSpace> as;
  std::thread([&] {
    auto made = platform_->NewAddressSpace();
    ASSERT_TRUE(made.has_value());
    as = std::move(*made);
  }).join();
  ASSERT_NE(as, nullptr);
  const pid_t stub = static_cast<PtraceAddressSpace&>(*as).stub_pid();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(IsGone(stub));
  as_ = std::move(as);
  Registers regs = Load(PROGRAM(prog_two_syscalls));
  EXPECT_EQ(ctx_->Switch(*as_, regs).kind, Kind::kSyscall);
}

// PTRACE_O_EXITKILL, the safety net: a tracer thread that dies without
// releasing its stub thread (a crash; here a raw exit, which skips the
// thread-exit release) takes the whole stub process with it.
TEST_F(PtraceTest, StubProcessDiesWithACrashingTracer) {
  Registers regs = Load(PROGRAM(prog_two_syscalls));
  ASSERT_EQ(ctx_->Switch(*as_, regs).kind, Kind::kSyscall);
  const pid_t stub = pas().stub_pid();
  struct Args {
    Context* ctx;  // owned here: the raw exit destroys nothing
    AddressSpace* as;
    Registers regs;
    Kind kind;
  } args{nullptr, as_.get(), regs, Kind::kDead};
  std::unique_ptr<Context> ctx = platform_->NewContext();
  args.ctx = ctx.get();
  // Its own stack, which glibc never caches: a thread that ends with a raw
  // exit must not be recycled for the next pthread_create (ASan checks).
  constexpr size_t kStack = 1 << 20;
  void* stack = mmap(nullptr, kStack, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(stack, MAP_FAILED);
  pthread_attr_t attr;
  ASSERT_EQ(pthread_attr_init(&attr), 0);
  ASSERT_EQ(pthread_attr_setstack(&attr, stack, kStack), 0);
  pthread_t tracer;
  ASSERT_EQ(pthread_create(
                &tracer, &attr,
                [](void* p) -> void* {
                  auto* a = static_cast<Args*>(p);
                  // Its thread-exit bookkeeping is lost with it, on purpose.
                  if (__lsan_disable != nullptr) __lsan_disable();
                  a->kind = a->ctx->Switch(*a->as, a->regs).kind;
                  syscall(SYS_exit, 0);  // no destructors, no TLS release
                  return nullptr;
                },
                &args),
            0);
  ASSERT_EQ(pthread_join(tracer, nullptr), 0);  // CLONE_CHILD_CLEARTID
  pthread_attr_destroy(&attr);  // the stack is left mapped: never reused
  EXPECT_EQ(args.kind, Kind::kSyscall);
  EXPECT_TRUE(BecomesGone(stub));
  EXPECT_EQ(ctx_->Switch(*as_, regs).kind, Kind::kDead);
  ctx.reset();  // not its tracer, and dead anyway: forgets it
}

// PR_SET_PDEATHSIG and EXITKILL: the zygote and every stub die with the
// sentry, here a forked child that builds a platform and exits.
TEST_F(PtraceTest, StubsAndZygoteDieWithTheSentry) {
  int pids[2];
  ASSERT_EQ(pipe(pids), 0);
  const pid_t sentry = fork();
  ASSERT_GE(sentry, 0);
  if (sentry == 0) {
    const int memfd = memfd_create("ptrace_test_child", 0);
    auto platform = PtracePlatform::Create(memfd);
    if (!platform) _exit(1);
    auto as = (*platform)->NewAddressSpace();
    if (!as) _exit(2);
    const pid_t out[2] = {static_cast<PtracePlatform&>(**platform).zygote_pid(),
                          static_cast<PtraceAddressSpace&>(**as).stub_pid()};
    if (write(pids[1], out, sizeof(out)) != sizeof(out)) _exit(3);
    _exit(0);  // no destructors: the sentry just dies
  }
  close(pids[1]);
  pid_t got[2] = {0, 0};
  EXPECT_EQ(read(pids[0], got, sizeof(got)), static_cast<ssize_t>(sizeof(got)));
  close(pids[0]);
  int status = 0;
  ASSERT_EQ(waitpid(sentry, &status, 0), sentry);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_TRUE(BecomesGone(got[0])) << "zygote " << got[0];
  EXPECT_TRUE(BecomesGone(got[1])) << "stub " << got[1];
}

}  // namespace
}  // namespace platform::ptrace
