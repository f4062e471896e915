// Syscall patching (platform/README.md, "Syscall patching"): the 7-byte
// sequence `mov $nr, %eax; syscall` (b8 nr32 0f 05) that traps through the
// seccomp filter is rewritten into `jmp *entry` (ff 24 25 entry32), where
// entry is a slot of the *patching table*, app memory at 0x60000 holding a
// pointer to a few instructions of its own: set %rcx to the address after
// the site, %eax to nr, and jump to the stub's fast path, which hands the
// registers to the sentry without a signal. The table's address makes the
// jmp's sixth byte 0x06, an invalid opcode, where `syscall` was: a thread
// that ran the old `mov` and then meets the new bytes faults there, and
// HandleFault restarts it at the jmp (or runs the syscall it was making).
//
// One Patcher per address space. Internal to the systrap platform.
#ifndef PLATFORM_SYSTRAP_PATCH_H_
#define PLATFORM_SYSTRAP_PATCH_H_

#include <atomic>
#include <cstdint>
#include <mutex>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "platform/platform.h"

namespace platform::systrap {

class Patcher {
 public:
  // `fastcall`: the stub's fast path entry; `enabled`: --systrap-patch.
  Patcher(uint64_t fastcall, bool enabled);

  void SetAppMemory(AppMemory* memory);

  // A syscall `nr` trapped through the seccomp filter with %rip = `rip`:
  // if the 7 bytes before are `mov $nr, %eax; syscall` in one page of
  // private executable memory, patch them.
  void MaybePatch(uint64_t rip, uint32_t nr);

  // A SIGILL at regs.rip. kRestart: a thread met a site while it was being
  // patched or unpatched; regs now resume it (at the site). kSyscall: it
  // was executing the site's `syscall` with another number in %rax (a
  // restart_syscall, or a jump to the `syscall` alone): regs are those of
  // that syscall's trap. kNone: not ours.
  enum class Fault { kNone, kRestart, kSyscall };
  Fault HandleFault(Registers& regs);

  // The app gave a thread a gs base of its own, which the fast path needs:
  // every patch is undone (a fork copy's inherited ones too) and no more
  // are made in this address space. Cheap after the first call.
  void DisableIfPatched() {
    if (!unpatched_all_.load(std::memory_order_acquire)) Disable();
  }
  bool enabled() const { return enabled_; }

 private:
  bool EnsureTableLocked();
  void Disable();
  // Whether `site` is a patched site (or one Disable unpatched): its
  // number and table entry.
  bool FindSiteLocked(uint64_t site, uint32_t* nr, uint64_t* entry);

  const uint64_t fastcall_;
  const bool enabled_;
  std::mutex mu_;
  AppMemory* memory_ = nullptr;            // guarded by mu_
  bool disabled_ = false;                  // guarded by mu_
  bool table_checked_ = false;             // guarded by mu_
  uint32_t next_ = 0;                      // guarded by mu_: next free entry
  std::unordered_set<uint64_t> rejected_;  // guarded by mu_: sites not patched
  // Sites Disable unpatched: number and entry. Guarded by mu_.
  std::unordered_map<uint64_t, std::pair<uint32_t, uint64_t>> unpatched_;
  bool unpatch_done_ = false;               // guarded by mu_
  std::atomic<bool> unpatched_all_{false};  // Disable ran
};

}  // namespace platform::systrap

#endif  // PLATFORM_SYSTRAP_PATCH_H_
