#include "platform/systrap/slot.h"

#include <linux/futex.h>
#include <poll.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#include "platform/systrap/systrap_abi.h"

namespace platform::systrap {
namespace {

constexpr long kCheckNs = 50 * 1000 * 1000;

bool ThreadGone(int pidfd) {
  if (pidfd < 0) return false;
  pollfd p{pidfd, POLLIN, 0};
  return poll(&p, 1, 0) > 0;
}

}  // namespace

bool PostRun(char* slot) {
  // exchange is a full barrier: the stub's sleeping flag is read after RUN
  // is visible, and the stub sets the flag before it re-reads the state,
  // so one of the two sees the other and no wake-up is lost.
  SlotWord(slot, SYSTRAP_SLOT_STATE).exchange(SYSTRAP_STATE_RUN);
  if (SlotWord(slot, SYSTRAP_SLOT_STUB_SLEEPING).load() == 0) return false;
  syscall(SYS_futex, slot + SYSTRAP_SLOT_STATE, FUTEX_WAKE, 1, nullptr,
          nullptr, 0);
  return true;
}

bool WaitForReport(char* slot, int pidfd, const std::atomic<bool>& dead,
                   uint64_t spin_cycles, bool (*keep_waiting)(void*),
                   void* arg, bool* spin_hit) {
  auto state = SlotWord(slot, SYSTRAP_SLOT_STATE);
  if (spin_hit != nullptr) *spin_hit = false;
  if (spin_cycles != 0) {
    const uint64_t deadline = __rdtsc() + spin_cycles;
    do {
      if (state.load(std::memory_order_acquire) != SYSTRAP_STATE_RUN) {
        if (spin_hit != nullptr) *spin_hit = true;
        return true;
      }
      _mm_pause();
    } while (__rdtsc() < deadline);
  }
  auto sleeping = SlotWord(slot, SYSTRAP_SLOT_SENTRY_SLEEPING);
  bool alive = true;
  sleeping.store(1);  // seq_cst: before the state is read again
  while (state.load() == SYSTRAP_STATE_RUN) {
    if (dead.load(std::memory_order_acquire)) {
      alive = false;
      break;
    }
    const timespec timeout{0, kCheckNs};
    const long r = syscall(SYS_futex, slot + SYSTRAP_SLOT_STATE, FUTEX_WAIT,
                           SYSTRAP_STATE_RUN, &timeout, nullptr, 0);
    if (r != 0 && errno == ETIMEDOUT) {
      if (ThreadGone(pidfd) ||
          (keep_waiting != nullptr && !keep_waiting(arg))) {
        alive = state.load() != SYSTRAP_STATE_RUN;
        break;
      }
    }
  }
  sleeping.store(0);
  return alive;
}

}  // namespace platform::systrap
