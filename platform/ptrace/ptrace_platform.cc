#include "platform/ptrace/ptrace_platform.h"

#include <sys/mman.h>
#include <sys/syscall.h>

#include "base/log.h"
#include "platform/ptrace/control_thread.h"
#include "platform/ptrace/pidfd.h"
#include "platform/ptrace/stub_abi.h"
#include "platform/ptrace/stub_process.h"
#include "platform/ptrace/stub_thread.h"
#include "platform/ptrace/zygote.h"

namespace platform::ptrace {
namespace {

constexpr uint64_t kPageSize = STUB_PAGE_SIZE;
constexpr uint64_t kGiB = uint64_t{1} << 30;
constexpr int kValidProt = PROT_READ | PROT_WRITE | PROT_EXEC;

}  // namespace

// ---------------------------------------------------------------------------
// PtracePlatform

base::Result<std::unique_ptr<Platform>> PtracePlatform::Create(int memory_fd) {
  // The zygote first: its fork needs a single-threaded sentry.
  auto zygote = TRY(Zygote::Start(memory_fd));
  auto control = std::make_unique<ControlThread>();
  return std::unique_ptr<Platform>(
      new PtracePlatform(std::move(zygote), std::move(control)));
}

PtracePlatform::PtracePlatform(std::unique_ptr<Zygote> zygote,
                               std::unique_ptr<ControlThread> control)
    : zygote_(std::move(zygote)),
      control_(std::move(control)),
      // Rounded down, so that the app's top mappings end at a round
      // address; the gap holds nothing.
      max_user_address_(zygote_->layout().region_start & ~(kGiB - 1)),
      fp_format_(DetectFpFormat()) {
  CHECK(max_user_address_ > kMinUserAddress);
}

PtracePlatform::~PtracePlatform() = default;

base::Result<std::unique_ptr<AddressSpace>> PtracePlatform::NewAddressSpace() {
  const pid_t pid = TRY(zygote_->NewStub());
  // Not reaped before it is seized (and then only by us): the pid is the
  // stub's until the seize, which checks it stopped in the stub code.
  base::UniqueFd pidfd(PidfdOpen(pid));
  if (!pidfd) return base::Err(errno);
  auto leader_fd = OpenThreadPidfd(pid, pid);
  if (!leader_fd) {
    PidfdSendSignal(pidfd.get(), SIGKILL);
    return base::Err(leader_fd.error().value);
  }
  const StubLayout& layout = zygote_->layout();
  std::unique_ptr<StubThread> leader;
  base::Result<void> seized;
  control_->Run([&] {
    // Made on the control thread, which is its tracer.
    leader =
        std::make_unique<StubThread>(pid, pid, std::move(*leader_fd), layout);
    seized = leader->Seize();
  });
  if (!seized) {
    // EPROTO: it did not stop in the stub code, so the pid may have been
    // recycled: not provably ours, it is let go rather than killed.
    if (seized.error() != base::Errno(EPROTO))
      PidfdSendSignal(pidfd.get(), SIGKILL);
    leader->Reap();  // if it was seized; a no-op otherwise
    return base::Err(seized.error().value);
  }
  auto process = std::make_shared<StubProcess>(std::move(leader),
                                               std::move(pidfd), layout);
  return std::unique_ptr<AddressSpace>(new PtraceAddressSpace(
      std::move(process), *control_, max_user_address_));
}

std::unique_ptr<Context> PtracePlatform::NewContext() {
  return std::make_unique<PtraceContext>(fp_format_);
}

pid_t PtracePlatform::zygote_pid() const { return zygote_->pid(); }
pid_t PtracePlatform::control_tid() const { return control_->tid(); }

// ---------------------------------------------------------------------------
// PtraceAddressSpace

PtraceAddressSpace::PtraceAddressSpace(std::shared_ptr<StubProcess> process,
                                       ControlThread& control,
                                       uint64_t max_user_address)
    : process_(std::move(process)),
      control_(control),
      max_user_address_(max_user_address) {}

// Contexts may keep the StubProcess object a while; the process itself
// dies now.
PtraceAddressSpace::~PtraceAddressSpace() { process_->Kill(); }

pid_t PtraceAddressSpace::stub_pid() const { return process_->pid(); }

base::Result<std::shared_ptr<StubThread>> PtraceAddressSpace::NewThread() {
  StubProcess& process = *process_;
  base::Result<int64_t> cloned = base::Err(ESRCH);
  base::Result<base::UniqueFd> pidfd = base::UniqueFd();
  control_.Run([&] {
    StubThread& leader = process.leader();
    cloned = leader.Clone(kStubThreadCloneFlags);
    if (!cloned || *cloned <= 0) return;
    pidfd = OpenThreadPidfd(process.pid(), static_cast<pid_t>(*cloned));
    // The new thread dies only with its whole process, so while the leader
    // is still in its stop (this request succeeds) the tid is the new
    // thread's, and the pidfd opened before names it, not a recycled tid.
    Registers regs;
    if (auto alive = leader.GetRegs(regs); !alive)
      cloned = base::Err(alive.error().value);
  });
  const int64_t tid = TRY(cloned);
  if (tid < 0) return base::Err(static_cast<int>(-tid));
  if (!pidfd) return base::Err(pidfd.error().value);
  auto thread = std::make_shared<StubThread>(
      process.pid(), static_cast<pid_t>(tid), std::move(*pidfd),
      process.layout());
  // Registered before it is seized, so that Kill() cannot miss a tracee.
  TRY(process.Add(thread));
  if (auto seized = thread->Seize(); !seized) {
    // Dead, or (not seized) left in its pause() until the process dies.
    process.Release(*thread);
    return base::Err(seized.error().value);
  }
  ReleaseAtThreadExit(process_, thread);
  return thread;
}

base::Result<void> CheckMappingRange(uint64_t addr, uint64_t len,
                                     uint64_t max_user_address) {
  if (len == 0 || addr % kPageSize != 0 || len % kPageSize != 0)
    return base::Err(EINVAL);
  if (addr < kMinUserAddress || addr > max_user_address ||
      len > max_user_address - addr)
    return base::Err(EINVAL);
  return {};
}

base::Result<void> PtraceAddressSpace::CheckRange(uint64_t addr,
                                                  uint64_t len) const {
  return CheckMappingRange(addr, len, max_user_address_);
}

base::Result<int64_t> PtraceAddressSpace::Inject(long nr, uint64_t a0,
                                                 uint64_t a1, uint64_t a2,
                                                 uint64_t a3, uint64_t a4,
                                                 uint64_t a5) {
  // The host kernel applies a mapping change to the whole process, so any
  // of its threads will do: the caller's own is stopped and needs no
  // handoff.
  if (auto mine = process_->FindMine())
    return mine->Syscall(nr, a0, a1, a2, a3, a4, a5);
  base::Result<int64_t> result = base::Err(ESRCH);
  control_.Run(
      [&] { result = process_->leader().Syscall(nr, a0, a1, a2, a3, a4, a5); });
  return result;
}

base::Result<void> PtraceAddressSpace::MapFile(uint64_t addr, uint64_t len,
                                               uint64_t file_offset, int prot) {
  TRY(CheckRange(addr, len));
  if (file_offset % kPageSize != 0 || (prot & ~kValidProt) != 0)
    return base::Err(EINVAL);
  const int64_t got = TRY(Inject(SYS_mmap, addr, len, prot,
                                 MAP_SHARED | MAP_FIXED, STUB_MEM_FD,
                                 file_offset));
  if (got < 0) return base::Err(static_cast<int>(-got));
  // MAP_FIXED maps at addr or fails.
  CHECK(static_cast<uint64_t>(got) == addr);
  return {};
}

base::Result<void> PtraceAddressSpace::Unmap(uint64_t addr, uint64_t len) {
  TRY(CheckRange(addr, len));
  const int64_t got = TRY(Inject(SYS_munmap, addr, len));
  if (got < 0) return base::Err(static_cast<int>(-got));
  return {};
}

base::Result<void> PtraceAddressSpace::Protect(uint64_t addr, uint64_t len,
                                               int prot) {
  TRY(CheckRange(addr, len));
  if ((prot & ~kValidProt) != 0) return base::Err(EINVAL);
  const int64_t got = TRY(Inject(SYS_mprotect, addr, len, prot));
  if (got < 0) return base::Err(static_cast<int>(-got));
  return {};
}

}  // namespace platform::ptrace
