// MemoryManager: RLIMIT_AS, RLIMIT_DATA and RLIMIT_MEMLOCK accounting, and
// mlock(2), munlock(2), mlockall(2), munlockall(2).
//
// Linux keeps running counts (total_vm, data_vm, locked_vm); we add the
// VMAs up when a limit is finite, which is rare, so the common path costs
// nothing. Locking is accounting only: every accessible page is resident
// in the memory file already and nothing is ever paged out.
#include <sys/mman.h>

#include <algorithm>

#include "sentry/mm/internal.h"
#include "sentry/mm/memory_manager.h"

#ifndef MCL_ONFAULT
#define MCL_ONFAULT 4
#endif

namespace mm {

using internal::PageDown;
using internal::PageUp;

namespace {

constexpr uint64_t kUnlimited = ~uint64_t{0};

// Linux's is_data_mapping: private, writable, not a stack.
bool IsData(int prot, bool shared, bool grows_down) {
  return (prot & PROT_WRITE) && !shared && !grows_down;
}

}  // namespace

MemoryManager::Usage MemoryManager::UsageLocked() const {
  Usage u;
  for (const auto& [start, vma] : vmas_) {
    const uint64_t len = vma.end - start;
    u.total += len;
    if (IsData(vma.prot, vma.shared, vma.grows_down)) u.data += len;
    if (vma.locked) u.locked += len;
  }
  return u;
}

bool MemoryManager::MayExpandLocked(int prot, bool shared, bool grows_down,
                                    uint64_t len, const Limits& limits) const {
  const bool data = IsData(prot, shared, grows_down);
  if (limits.as == kUnlimited && (!data || limits.data == kUnlimited))
    return true;
  const Usage u = UsageLocked();
  // Linux compares pages: a limit that is not a page multiple rounds down.
  if (u.total + len > PageDown(limits.as)) return false;
  if (data && u.data + len > PageDown(limits.data)) {
    // Linux lets RLIMIT_DATA 0 mean the hard limit (for Valgrind).
    return limits.data == 0 && u.data + len <= PageDown(limits.data_max);
  }
  return true;
}

bool MemoryManager::MayLockLocked(uint64_t len, const Limits& limits) const {
  if (limits.ipc_lock || limits.memlock == kUnlimited) return true;
  return UsageLocked().locked + len <= PageDown(limits.memlock);
}

uint64_t MemoryManager::MappedBytesLocked(uint64_t start, uint64_t end,
                                          bool locked_only) const {
  uint64_t n = 0;
  auto it = vmas_.upper_bound(start);
  if (it != vmas_.begin()) --it;
  for (; it != vmas_.end() && it->first < end; ++it) {
    const uint64_t s = std::max(start, it->first);
    const uint64_t e = std::min(end, it->second.end);
    if (e > s && (it->second.locked || !locked_only)) n += e - s;
  }
  return n;
}

uint64_t MemoryManager::LockedBytes() const {
  absl::ReaderMutexLock lock(&mu_);
  return UsageLocked().locked;
}

namespace {

// The pages [*start, *end) that [addr, addr+length) touches, as Linux's
// mlock rounds them.
base::Result<void> LockRange(uint64_t addr, uint64_t length, uint64_t* start,
                             uint64_t* end) {
  *start = PageDown(addr);
  uint64_t len;
  if (__builtin_add_overflow(length, addr - *start, &len) ||
      !PageUp(len, &len) || __builtin_add_overflow(*start, len, end))
    return base::Err(EINVAL);
  return {};
}

}  // namespace

base::Result<void> MemoryManager::SetLockedLocked(uint64_t start, uint64_t end,
                                                  bool locked) {
  // The whole range must be mapped (Linux changes the VMAs up to a hole,
  // then says ENOMEM; failing before changing anything is allowed too).
  for (uint64_t a = start; a < end;) {
    auto it = FindLocked(a);
    if (it == vmas_.end()) return base::Err(ENOMEM);
    a = it->second.end;
  }
  SplitLocked(start);
  SplitLocked(end);
  for (auto it = vmas_.lower_bound(start); it != vmas_.end() && it->first < end;
       ++it)
    it->second.locked = locked;
  return {};
}

base::Result<void> MemoryManager::Mlock(uint64_t addr, uint64_t length,
                                        const Limits& limits) {
  // Linux's can_do_mlock: a zero limit means no locking without
  // CAP_IPC_LOCK.
  if (limits.memlock == 0 && !limits.ipc_lock) return base::Err(EPERM);
  uint64_t start, end;
  TRY(LockRange(addr, length, &start, &end));
  if (start == end) return {};
  ChangeLock lock(this);
  if (!limits.ipc_lock && limits.memlock != kUnlimited) {
    // Pages locked already are not counted twice.
    const uint64_t again = MappedBytesLocked(start, end, /*locked_only=*/true);
    if (UsageLocked().locked + (end - start) - again > PageDown(limits.memlock))
      return base::Err(ENOMEM);
  }
  return SetLockedLocked(start, end, true);
}

base::Result<void> MemoryManager::Munlock(uint64_t addr, uint64_t length) {
  uint64_t start, end;
  TRY(LockRange(addr, length, &start, &end));
  if (start == end) return {};
  ChangeLock lock(this);
  return SetLockedLocked(start, end, false);
}

base::Result<void> MemoryManager::Mlockall(int flags, const Limits& limits) {
  if (flags == 0 || (flags & ~(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT)) ||
      flags == MCL_ONFAULT)
    return base::Err(EINVAL);
  if (limits.memlock == 0 && !limits.ipc_lock) return base::Err(EPERM);
  ChangeLock lock(this);
  if ((flags & MCL_CURRENT) && !limits.ipc_lock &&
      limits.memlock != kUnlimited &&
      UsageLocked().total > PageDown(limits.memlock))
    return base::Err(ENOMEM);
  // As Linux's apply_mlockall_flags: each call sets MCL_FUTURE anew.
  lock_future_ = (flags & MCL_FUTURE) != 0;
  if (flags & MCL_CURRENT)
    for (auto& [start, vma] : vmas_) vma.locked = true;
  return {};
}

void MemoryManager::Munlockall() {
  ChangeLock lock(this);
  lock_future_ = false;
  for (auto& [start, vma] : vmas_) vma.locked = false;
}

}  // namespace mm
