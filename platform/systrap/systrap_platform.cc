#include "platform/systrap/systrap_platform.h"

#include <asm/prctl.h>
#include <linux/audit.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#include <cstddef>
#include <cstring>

#include "base/log.h"
#include "platform/ptrace/control_thread.h"
#include "platform/ptrace/pidfd.h"
#include "platform/ptrace/ptrace_platform.h"
#include "platform/ptrace/retry.h"
#include "platform/ptrace/stub_abi.h"
#include "platform/ptrace/stub_process.h"
#include "platform/ptrace/stub_thread.h"
#include "platform/ptrace/zygote.h"
#include "platform/systrap/slot.h"
#include "platform/systrap/systrap_abi.h"

namespace platform::systrap {
namespace {

static_assert(SYSTRAP_ARCH_SET_FS == ARCH_SET_FS);
static_assert(SYSTRAP_ARCH_SET_GS == ARCH_SET_GS);
static_assert(SYSTRAP_FUTEX_WAIT == FUTEX_WAIT);
static_assert(SYSTRAP_FUTEX_WAKE == FUTEX_WAKE);
static_assert(SYSTRAP_SECCOMP_SET_MODE_FILTER == SECCOMP_SET_MODE_FILTER);
static_assert(SYSTRAP_CLONE_FLAGS == ptrace::kStubThreadCloneFlags);
static_assert(sizeof(stack_t) == SYSTRAP_STACK_T_SIZE);
static_assert(SYSTRAP_RO_STACKS + SYSTRAP_MAX_SLOTS * SYSTRAP_STACK_T_SIZE <=
              SYSTRAP_SLOT_SIZE);
static_assert((1 << SYSTRAP_SLOT_SHIFT) == SYSTRAP_SLOT_SIZE);

constexpr uint64_t kPageSize = 4096;
constexpr uint64_t kGiB = uint64_t{1} << 30;
constexpr int kValidProt = PROT_READ | PROT_WRITE | PROT_EXEC;
// How long a waiter spins before it sleeps. A futex wake-up round trip
// between processes costs ~20 us on this VM and a spin handoff ~4 us: a
// spin of about one futex round trip never costs more than twice the best
// choice, and catches the common short syscall.
constexpr int64_t kSpinMicros = 20;

// TSC cycles per microsecond, measured against CLOCK_MONOTONIC (~2 ms).
uint64_t TscPerMicro() {
  timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  const uint64_t tsc0 = __rdtsc();
  int64_t ns = 0;
  do {
    clock_gettime(CLOCK_MONOTONIC, &now);
    ns = (now.tv_sec - start.tv_sec) * 1000000000 + now.tv_nsec - start.tv_nsec;
  } while (ns < 2000000);
  const uint64_t per_us = (__rdtsc() - tsc0) * 1000 / ns;
  return per_us > 0 ? per_us : 1000;
}

// The filter each app thread installs on top of the zygote's (which allows
// any syscall from the stub code page). Only the handler's own calls pass,
// and only from that page: rt_sigreturn, futex wait/wake, and arch_prctl
// setting fs or gs. All else, from anywhere, is SECCOMP_RET_TRAP: SIGSYS
// to the handler, which reports it to the sentry as a syscall. An app that
// jumps to the stub's syscall instruction gets nothing it could not do
// anyway (its own fs base, a futex, a sigreturn of its own thread).
std::vector<sock_filter> BuildThreadFilter(uint64_t code_start,
                                           uint64_t code_end) {
  const uint32_t ip_high = code_start >> 32;
  const uint32_t ip_low = static_cast<uint32_t>(code_start);
  const uint32_t code_len = code_end - code_start;
  constexpr uint32_t kIp = offsetof(seccomp_data, instruction_pointer);
  constexpr uint32_t kNr = offsetof(seccomp_data, nr);
  constexpr uint32_t kArg0 = offsetof(seccomp_data, args[0]);
  constexpr uint32_t kArg1 = offsetof(seccomp_data, args[1]);
  // Jump offsets count from the next instruction; kTrap and kAllow are the
  // last two instructions, at indices 22 and 23.
  auto to = [](int target, int at) { return static_cast<uint8_t>(target - at - 1); };
  constexpr int kTrap = 22, kAllow = 23;
  std::vector<sock_filter> f = {
      /*0*/ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      /*1*/ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, to(kTrap, 1)),
      /*2*/ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kIp + 4),
      /*3*/ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ip_high, 0, to(kTrap, 3)),
      /*4*/ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kIp),
      /*5*/ BPF_STMT(BPF_ALU | BPF_SUB | BPF_K, ip_low),
      /*6*/ BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, code_len, to(kTrap, 6), 0),
      /*7*/ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kNr),
      /*8*/ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_rt_sigreturn, to(kAllow, 8), 0),
      /*9*/ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_futex, 0, 5),
      /*10*/ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kArg1 + 4),
      /*11*/ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, to(kTrap, 11)),
      /*12*/ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kArg1),
      /*13*/ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, FUTEX_WAIT, to(kAllow, 13), 0),
      /*14*/ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, FUTEX_WAKE, to(kAllow, 14), to(kTrap, 14)),
      /*15*/ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_arch_prctl, 0, to(kTrap, 15)),
      /*16*/ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kArg0 + 4),
      /*17*/ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, to(kTrap, 17)),
      /*18*/ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kArg0),
      /*19*/ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH_SET_FS, to(kAllow, 19), 0),
      /*20*/ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH_SET_GS, to(kAllow, 20), 0),
      /*21*/ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
      /*22*/ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
      /*23*/ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  CHECK(f.size() == kAllow + 1);
  CHECK(f.size() <= SYSTRAP_RO_FILTER_MAX);
  return f;
}


}  // namespace

// ---------------------------------------------------------------------------
// SystrapPlatform

base::Result<std::unique_ptr<Platform>> SystrapPlatform::Create(
    int memory_fd, bool patch) {
  // The zygote first: its fork needs a single-threaded sentry.
  auto zygote = TRY(ptrace::Zygote::Start(memory_fd, /*systrap=*/true));
  auto control = std::make_unique<ptrace::ControlThread>();
  std::unique_ptr<SystrapPlatform> platform(
      new SystrapPlatform(std::move(zygote), std::move(control)));
  platform->patch_ = patch;
  if (platform->fp_format_.size > SYSTRAP_SLOT_FP_MAX) {
    LOG(Error) << "systrap platform: FP state of " << platform->fp_format_.size
               << " bytes does not fit a slot";
    return base::Err(ENOTSUP);
  }
  return std::unique_ptr<Platform>(std::move(platform));
}

SystrapPlatform::SystrapPlatform(std::unique_ptr<ptrace::Zygote> zygote,
                                 std::unique_ptr<ptrace::ControlThread> control)
    : zygote_(std::move(zygote)),
      control_(std::move(control)),
      max_user_address_(zygote_->layout().region_start & ~(kGiB - 1)),
      fp_format_(ptrace::DetectFpFormat()) {
  const ptrace::StubLayout& layout = zygote_->layout();
  // Right below the stub region, slot-aligned, far above MaxUserAddress.
  area_addr_ = (layout.region_start - SYSTRAP_AREA_SIZE) &
               ~uint64_t{SYSTRAP_SLOT_SIZE - 1};
  CHECK(area_addr_ > max_user_address_);
  filter_ = BuildThreadFilter(layout.code_start, layout.code_end);
  spin_cycles_ = TscPerMicro() * kSpinMicros;
  cpus_ = std::max(1L, sysconf(_SC_NPROCESSORS_ONLN));
}

SystrapPlatform::~SystrapPlatform() = default;

uint64_t SystrapPlatform::SpinCycles() const {
  return active_.load(std::memory_order_relaxed) <= cpus_ ? spin_cycles_ : 0;
}

base::Result<std::unique_ptr<AddressSpace>> SystrapPlatform::NewAddressSpace() {
  auto stub = TRY(Stub::Create(*this));
  return std::unique_ptr<AddressSpace>(new SystrapAddressSpace(
      std::move(stub), max_user_address_, zygote_->layout().systrap_fastcall,
      patch_));
}

std::unique_ptr<Context> SystrapPlatform::NewContext() {
  return std::make_unique<SystrapContext>(*this);
}

pid_t SystrapPlatform::zygote_pid() const { return zygote_->pid(); }

// ---------------------------------------------------------------------------
// Stub

Stub::Stub(SystrapPlatform& platform) : platform_(platform) {}

Stub::~Stub() {
  Kill();
  if (area_ != nullptr) munmap(area_, SYSTRAP_AREA_SIZE);
}

pid_t Stub::pid() const { return process_->pid(); }

char* Stub::slot(int index) const {
  return area_ + (static_cast<uint64_t>(index) + 1) * SYSTRAP_SLOT_SIZE;
}

base::Result<std::shared_ptr<Stub>> Stub::Create(SystrapPlatform& platform) {
  std::shared_ptr<Stub> stub(new Stub(platform));
  TRY(stub->SetUp());
  return stub;
}

// A new stub from the zygote, seized by the control thread like a ptrace
// stub's leader; then, with a few injected syscalls (set-up only), the
// area and the socket; then let go into the syscall loop.
base::Result<void> Stub::SetUp() {
  ptrace::Zygote& zygote = platform_.zygote();
  const ptrace::StubLayout& layout = zygote.layout();
  const pid_t pid = TRY(zygote.NewStub());
  base::UniqueFd pidfd(ptrace::PidfdOpen(pid));
  if (!pidfd) return base::Err(errno);
  auto leader_fd = ptrace::OpenThreadPidfd(pid, pid);
  if (!leader_fd) {
    ptrace::PidfdSendSignal(pidfd.get(), SIGKILL);
    return base::Err(leader_fd.error().value);
  }
  std::unique_ptr<ptrace::StubThread> leader;
  base::Result<void> done;
  const uint64_t area = platform_.area_addr();
  const uint64_t scratch = layout.region_start + STUB_CODE_SIZE;
  platform_.control().Run([&] {
    leader = std::make_unique<ptrace::StubThread>(
        pid, pid, std::move(*leader_fd), layout);
    done = leader->Seize();
    if (!done) return;
    auto inject = [&](long nr, uint64_t a0, uint64_t a1 = 0, uint64_t a2 = 0,
                      uint64_t a3 = 0, uint64_t a4 = 0,
                      uint64_t a5 = 0) -> base::Result<int64_t> {
      const int64_t r = TRY(leader->Syscall(nr, a0, a1, a2, a3, a4, a5));
      if (r < 0) return base::Err(static_cast<int>(-r));
      return r;
    };
    done = [&]() -> base::Result<void> {
      // The area: a memfd made in the stub, taken by us with pidfd_getfd.
      const int64_t mfd =
          TRY(inject(SYS_memfd_create, layout.systrap_memfd_name, 0));
      area_fd_ = base::UniqueFd(static_cast<int>(
          syscall(SYS_pidfd_getfd, pidfd.get(), static_cast<int>(mfd), 0)));
      if (!area_fd_) return base::Err(errno);
      if (ftruncate(area_fd_.get(), SYSTRAP_AREA_SIZE) != 0)
        return base::Err(errno);
      void* mem = mmap(nullptr, SYSTRAP_AREA_SIZE, PROT_READ | PROT_WRITE,
                       MAP_SHARED, area_fd_.get(), 0);
      if (mem == MAP_FAILED) return base::Err(errno);
      area_ = static_cast<char*>(mem);
      // The read-only unit: the app threads' filter.
      const std::vector<sock_filter>& filter = platform_.thread_filter();
      memcpy(area_ + SYSTRAP_RO_FILTER, filter.data(),
             filter.size() * sizeof(sock_filter));
      sock_fprog prog{};
      prog.len = static_cast<unsigned short>(filter.size());
      prog.filter = reinterpret_cast<sock_filter*>(area + SYSTRAP_RO_FILTER);
      memcpy(area_ + SYSTRAP_RO_FPROG, &prog, sizeof(prog));
      TRY(inject(SYS_mmap, area, SYSTRAP_SLOT_SIZE, PROT_READ,
                 MAP_SHARED | MAP_FIXED, mfd, 0));
      TRY(inject(SYS_mmap, area + SYSTRAP_SLOT_SIZE,
                 SYSTRAP_AREA_SIZE - SYSTRAP_SLOT_SIZE, PROT_READ | PROT_WRITE,
                 MAP_SHARED | MAP_FIXED, mfd, SYSTRAP_SLOT_SIZE));
      TRY(inject(SYS_close, mfd));
      // The syscall thread's socket: the pair's fds land in the data page.
      TRY(inject(SYS_socketpair, AF_UNIX, SOCK_SEQPACKET, 0, scratch));
      int fds[2];
      for (int i = 0; i < 2; ++i) {
        errno = 0;
        const long word = ::ptrace(PTRACE_PEEKDATA, pid,
                                   reinterpret_cast<void*>(scratch + 4 * i),
                                   nullptr);
        if (errno != 0) return base::Err(errno);
        fds[i] = static_cast<int>(word);
      }
      socket_ = base::UniqueFd(static_cast<int>(
          syscall(SYS_pidfd_getfd, pidfd.get(), fds[0], 0)));
      if (!socket_) return base::Err(errno);
      struct stat st;
      if (fstat(socket_.get(), &st) != 0 || !S_ISSOCK(st.st_mode))
        return base::Err(EPROTO);
      TRY(inject(SYS_close, fds[0]));
      // Into the loop. It stays traced (EXITKILL ties it to the control
      // thread) but is never stopped again: it blocks every signal but
      // the CPU's, which its code never raises.
      Registers regs;
      TRY(leader->GetRegs(regs));
      regs.rip = layout.systrap_syscall_loop;
      regs.orig_rax = ~0ull;
      regs.r12 = area;
      regs.r13 = static_cast<uint64_t>(fds[1]);
      regs.r14 = scratch;
      TRY(leader->SetRegs(regs));
      TRY(leader->ResumeCont());
      // ResumeCont bound it to the control thread's CPU (the ptrace
      // platform's trick for its tracer/tracee pairs); app threads would
      // inherit that. Here they run beside the sentry, on any CPU.
      cpu_set_t all;
      CPU_ZERO(&all);
      for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) CPU_SET(cpu, &all);
      if (sched_setaffinity(pid, sizeof(all), &all) != 0)
        return base::Err(errno);
      return {};
    }();
  });
  if (!leader) return base::Err(ESRCH);
  if (!done) {
    LOG(Error) << "systrap stub " << pid << ": set-up failed: "
               << base::ErrnoName(done.error().value);
    ptrace::PidfdSendSignal(pidfd.get(), SIGKILL);
    leader->Reap();
    dead_ = true;
    return base::Err(done.error().value);
  }
  process_ = std::make_shared<ptrace::StubProcess>(std::move(leader),
                                                   std::move(pidfd), layout);
  return {};
}

void Stub::Kill() {
  if (dead_.exchange(true)) return;
  // Unblocks a request waiting for a reply. Not close: that thread still
  // uses the fd number, which must not name some other file meanwhile.
  if (socket_) shutdown(socket_.get(), SHUT_RDWR);
  if (process_) process_->Kill();
  if (area_ == nullptr) return;
  // Wake every Switch waiting for a report that will never come.
  std::lock_guard lock(mu_);
  for (const auto& thread : threads_) {
    auto* state = reinterpret_cast<uint32_t*>(slot(thread->slot));
    syscall(SYS_futex, state, FUTEX_WAKE, INT32_MAX, nullptr, nullptr, 0);
  }
}

base::Result<size_t> Stub::ReadReply() {
  // The contents mean nothing, only the length, which MSG_TRUNC returns
  // whole for a SOCK_SEQPACKET message.
  char byte;
  const ssize_t n = ptrace::RetryEintr(
      [&] { return recv(socket_.get(), &byte, 1, MSG_TRUNC); });
  if (n < 0) return base::Err(errno);
  return static_cast<size_t>(n);
}

base::Result<int64_t> Stub::Request(uint64_t op, uint64_t a0, uint64_t a1,
                                    uint64_t a2, uint64_t a3) {
  std::lock_guard lock(mu_);
  return RequestLocked(op, a0, a1, a2, a3);
}

base::Result<int64_t> Stub::RequestLocked(uint64_t op, uint64_t a0,
                                          uint64_t a1, uint64_t a2,
                                          uint64_t a3) {
  if (dead() || !socket_) return base::Err(ESRCH);
  // Like a pinned handoff (context.cc): the syscall thread runs on the
  // CPU of the thread that waits for its answer.
  if (const int cpu = sched_getcpu(); cpu != syscall_thread_cpu_) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    sched_setaffinity(process_->pid(), sizeof(set), &set);
    syscall_thread_cpu_ = cpu;
  }
  const uint64_t request[] = {op, a0, a1, a2, a3};
  memcpy(area_ + SYSTRAP_RO_OP, request, sizeof(request));
  const char wake = 1;
  if (ptrace::RetryEintr([&] {
        return send(socket_.get(), &wake, 1, MSG_NOSIGNAL);
      }) != 1)
    return base::Err(ESRCH);
  const size_t status = TRY(ReadReply());
  if (status == 0) return base::Err(ESRCH);  // EOF: the stub died
  if (status > 1) return -static_cast<int64_t>(status - 1);
  if (op != SYSTRAP_OP_CLONE) return 0;
  const size_t low = TRY(ReadReply());
  const size_t high = TRY(ReadReply());
  if (low == 0 || high == 0) return base::Err(ESRCH);
  return static_cast<int64_t>(((high - 1) << 12) | (low - 1));
}

base::Result<Stub::Thread*> Stub::AcquireThread() {
  std::lock_guard lock(mu_);
  if (dead()) return base::Err(ESRCH);
  if (!parked_.empty()) {
    Thread* thread = parked_.back();
    parked_.pop_back();
    return thread;
  }
  return NewThreadLocked();
}

void Stub::ReleaseThread(Thread* thread) {
  std::lock_guard lock(mu_);
  parked_.push_back(thread);
}

base::Result<Stub::Thread*> Stub::NewThreadLocked() {
  const int index = static_cast<int>(threads_.size());
  if (index >= SYSTRAP_MAX_SLOTS) return base::Err(EAGAIN);
  char* s = slot(index);
  memset(s, 0, SYSTRAP_SLOT_MCONTEXT);
  SlotWord(s, SYSTRAP_SLOT_STATE).store(SYSTRAP_STATE_RUN);
  SlotWord(s, SYSTRAP_SLOT_FP_SIZE).store(platform_.fp_format().size);
  SlotU64(s, SYSTRAP_SLOT_HOST_FS_BASE) = SYSTRAP_BASE_UNKNOWN;
  SlotU64(s, SYSTRAP_SLOT_HOST_GS_BASE) = SYSTRAP_BASE_UNKNOWN;
  stack_t stack{};
  stack.ss_sp = reinterpret_cast<void*>(platform_.area_addr() +
                                        (index + 1) * SYSTRAP_SLOT_SIZE +
                                        SYSTRAP_SLOT_STACK);
  stack.ss_size = SYSTRAP_SLOT_STACK_SIZE;
  memcpy(area_ + SYSTRAP_RO_STACKS + index * SYSTRAP_STACK_T_SIZE, &stack,
         sizeof(stack));
  const int64_t tid = TRY(RequestLocked(SYSTRAP_OP_CLONE, index, 0, 0, 0));
  if (tid < 0) return base::Err(static_cast<int>(-tid));
  auto thread = std::make_unique<Thread>();
  thread->slot = index;
  thread->tid = static_cast<pid_t>(tid);
  thread->stub_addr =
      platform_.area_addr() + (uint64_t{1} + index) * SYSTRAP_SLOT_SIZE;
  // The thread cannot die but with its process (its filter forbids exit),
  // so the tid is still its own.
  thread->pidfd = TRY(ptrace::OpenThreadPidfd(pid(), thread->tid));
  // Its first trap (getpid in its set-up code) says it is ready.
  if (!WaitForReport(s, thread->pidfd.get(), dead_))
    return base::Err(ESRCH);
  threads_.push_back(std::move(thread));
  return threads_.back().get();
}

// ---------------------------------------------------------------------------
// SystrapAddressSpace

SystrapAddressSpace::SystrapAddressSpace(std::shared_ptr<Stub> stub,
                                         uint64_t max_user_address,
                                         uint64_t fastcall, bool patch)
    : stub_(std::move(stub)),
      max_user_address_(max_user_address),
      patcher_(fastcall, patch) {}

SystrapAddressSpace::~SystrapAddressSpace() { stub_->Kill(); }

base::Result<void> SystrapAddressSpace::CheckRange(uint64_t addr,
                                                   uint64_t len) const {
  return ptrace::CheckMappingRange(addr, len, max_user_address_);
}

base::Result<void> SystrapAddressSpace::Run(uint64_t op, uint64_t a0,
                                            uint64_t a1, uint64_t a2,
                                            uint64_t a3) {
  const int64_t got = TRY(stub_->Request(op, a0, a1, a2, a3));
  if (got < 0) {
    // These never fail for ranges we checked, but for ENOMEM. The reply
    // length cannot be forged by the app; still, a stub whose mappings are
    // no longer what the sentry believes must not live on.
    LOG(Warning) << "systrap stub " << stub_->pid() << ": mapping request "
                 << op << " failed: " << base::ErrnoName(static_cast<int>(-got));
    stub_->Kill();
    return base::Err(static_cast<int>(-got));
  }
  return {};
}

base::Result<void> SystrapAddressSpace::MapFile(uint64_t addr, uint64_t len,
                                                uint64_t file_offset,
                                                int prot) {
  TRY(CheckRange(addr, len));
  if (file_offset % kPageSize != 0 || (prot & ~kValidProt) != 0)
    return base::Err(EINVAL);
  return Run(SYSTRAP_OP_MMAP, addr, len, prot, file_offset);
}

base::Result<void> SystrapAddressSpace::Unmap(uint64_t addr, uint64_t len) {
  TRY(CheckRange(addr, len));
  return Run(SYSTRAP_OP_MUNMAP, addr, len);
}

base::Result<void> SystrapAddressSpace::Protect(uint64_t addr, uint64_t len,
                                                int prot) {
  TRY(CheckRange(addr, len));
  if ((prot & ~kValidProt) != 0) return base::Err(EINVAL);
  return Run(SYSTRAP_OP_MPROTECT, addr, len, prot);
}

}  // namespace platform::systrap
