#include "platform/ptrace/ptrace_platform.h"

#include <sys/mman.h>
#include <sys/syscall.h>

#include "base/log.h"
#include "platform/ptrace/stub_abi.h"
#include "platform/ptrace/stub_process.h"
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
  auto zygote = TRY(Zygote::Start(memory_fd));
  return std::unique_ptr<Platform>(new PtracePlatform(std::move(zygote)));
}

PtracePlatform::PtracePlatform(std::unique_ptr<Zygote> zygote)
    : zygote_(std::move(zygote)),
      // Rounded down, so that the app's top mappings end at a round
      // address; the gap holds nothing.
      max_user_address_(zygote_->layout().region_start & ~(kGiB - 1)) {
  CHECK(max_user_address_ > kMinUserAddress);
}

PtracePlatform::~PtracePlatform() = default;

base::Result<std::unique_ptr<AddressSpace>> PtracePlatform::NewAddressSpace() {
  const pid_t pid = TRY(zygote_->NewStub());
  auto stub = TRY(StubProcess::Seize(pid, zygote_->layout()));
  return std::unique_ptr<AddressSpace>(
      new PtraceAddressSpace(std::move(stub), max_user_address_));
}

std::unique_ptr<Context> PtracePlatform::NewContext() {
  return std::make_unique<PtraceContext>();
}

pid_t PtracePlatform::zygote_pid() const { return zygote_->pid(); }

// ---------------------------------------------------------------------------
// PtraceAddressSpace

PtraceAddressSpace::PtraceAddressSpace(std::unique_ptr<StubProcess> stub,
                                       uint64_t max_user_address)
    : stub_(std::move(stub)), max_user_address_(max_user_address) {}

PtraceAddressSpace::~PtraceAddressSpace() = default;

pid_t PtraceAddressSpace::stub_pid() const { return stub_->pid(); }

// The app must never reach the stub region (above MaxUserAddress) or page
// zero, whatever the sentry's MemoryManager asks for.
base::Result<void> PtraceAddressSpace::CheckRange(uint64_t addr,
                                                  uint64_t len) const {
  if (len == 0 || addr % kPageSize != 0 || len % kPageSize != 0)
    return base::Err(EINVAL);
  if (addr < kMinUserAddress || addr > max_user_address_ ||
      len > max_user_address_ - addr)
    return base::Err(EINVAL);
  return {};
}

base::Result<void> PtraceAddressSpace::MapFile(uint64_t addr, uint64_t len,
                                               uint64_t file_offset, int prot) {
  TRY(CheckRange(addr, len));
  if (file_offset % kPageSize != 0 || (prot & ~kValidProt) != 0)
    return base::Err(EINVAL);
  const int64_t got =
      TRY(stub_->Syscall(SYS_mmap, addr, len, prot, MAP_SHARED | MAP_FIXED,
                         STUB_MEM_FD, file_offset));
  if (got < 0) return base::Err(static_cast<int>(-got));
  // MAP_FIXED maps at addr or fails.
  CHECK(static_cast<uint64_t>(got) == addr);
  return {};
}

base::Result<void> PtraceAddressSpace::Unmap(uint64_t addr, uint64_t len) {
  TRY(CheckRange(addr, len));
  const int64_t got = TRY(stub_->Syscall(SYS_munmap, addr, len));
  if (got < 0) return base::Err(static_cast<int>(-got));
  return {};
}

base::Result<void> PtraceAddressSpace::Protect(uint64_t addr, uint64_t len,
                                               int prot) {
  TRY(CheckRange(addr, len));
  if ((prot & ~kValidProt) != 0) return base::Err(EINVAL);
  const int64_t got = TRY(stub_->Syscall(SYS_mprotect, addr, len, prot));
  if (got < 0) return base::Err(static_cast<int>(-got));
  return {};
}

}  // namespace platform::ptrace
