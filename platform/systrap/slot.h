// The sentry's side of a slot (systrap_abi.h has the layout): typed access
// and the wait for the stub thread's report. Internal to the systrap
// platform.
//
// Everything in a slot can be written by the app (it shares the stub's
// memory), so the sentry reads values from it as app data: never trusted,
// never a reason to crash or to wait forever.
#ifndef PLATFORM_SYSTRAP_SLOT_H_
#define PLATFORM_SYSTRAP_SLOT_H_

#include <atomic>
#include <cstdint>

namespace platform::systrap {

inline std::atomic_ref<uint32_t> SlotWord(char* slot, int offset) {
  return std::atomic_ref<uint32_t>(*reinterpret_cast<uint32_t*>(slot + offset));
}
inline uint64_t& SlotU64(char* slot, int offset) {
  return *reinterpret_cast<uint64_t*>(slot + offset);
}

// Hands the slot to the stub thread: state = RUN, and a futex wake if it
// sleeps. Returns whether it slept (its spin, if any, ended unanswered).
bool PostRun(char* slot);

// Waits until the slot's state is no longer RUN: spins for `spin_cycles`
// TSC cycles, then sleeps on the futex. Every 50 ms asleep it checks that
// the thread lives (its PIDFD_THREAD `pidfd` is not readable, `dead` is
// false) and asks `keep_waiting` (if given). Returns false if the thread
// or its stub died or `keep_waiting` said no. `*spin_hit` (if given): the
// report came while spinning, no futex sleep was needed.
bool WaitForReport(char* slot, int pidfd, const std::atomic<bool>& dead,
                   uint64_t spin_cycles = 0,
                   bool (*keep_waiting)(void*) = nullptr,
                   void* arg = nullptr, bool* spin_hit = nullptr);

}  // namespace platform::systrap

#endif  // PLATFORM_SYSTRAP_SLOT_H_
