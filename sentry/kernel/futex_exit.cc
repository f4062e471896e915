// What a thread leaving its address space does with futexes: robust lists
// (set_robust_list(2)) and CLONE_CHILD_CLEARTID / set_tid_address(2).
#include <linux/futex.h>

#include <atomic>

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"

namespace kernel {
namespace {

// struct robust_list_head: the list (its `next`), the offset from a list
// entry to its futex word, and the entry being added or removed.
struct RobustListHead {
  uint64_t next;
  int64_t futex_offset;
  uint64_t list_op_pending;
};
static_assert(sizeof(RobustListHead) == 24);

// A word another thread keeps changing could make the compare-and-swap
// fail forever; Linux retries without bound, we give up on that word.
constexpr int kMaxCasAttempts = 1000;

// Robust futexes are woken as shared futexes (Linux's FLAGS_SHARED), which
// is why glibc waits on them with shared futex calls even in private
// mutexes.
void WakeOne(Task& t, uint64_t addr) {
  auto key = Futexes::KeyFor(t.mm(), addr, /*is_private=*/false);
  if (key) t.kernel().futexes().Wake(*key, 1, FUTEX_BITSET_MATCH_ANY);
}

// Linux's handle_futex_death for the word at `addr`: if the dying task
// owns it, mark it FUTEX_OWNER_DIED (dropping the owner, keeping
// FUTEX_WAITERS) and wake one waiter if there are any, so the next locker
// gets EOWNERDEAD. A pending non-PI word without owner only gets the
// wakeup: its unlock may have been cut short. False stops the walk (a
// misaligned or inaccessible word), as Linux.
bool HandleFutexDeath(Task& t, uint64_t addr, bool pi, bool pending) {
  if (addr % sizeof(uint32_t)) return false;
  for (int attempt = 0; attempt < kMaxCasAttempts; ++attempt) {
    auto value = t.mm().CopyInObj(mm::UserPtr<uint32_t>(addr));
    if (!value) return false;
    uint32_t uval = *value;
    const uint32_t owner = uval & FUTEX_TID_MASK;
    if (pending && !pi && owner == 0) {
      WakeOne(t, addr);
      return true;
    }
    if (owner != static_cast<uint32_t>(t.tid())) return true;
    const uint32_t died = (uval & FUTEX_WAITERS) | FUTEX_OWNER_DIED;
    bool swapped = false;
    auto word = Futexes::WithWord(t.mm(), addr, [&](auto w) {
      swapped = w.compare_exchange_strong(uval, died);
    });
    if (!word) return false;  // owned but read-only: left locked, as Linux
    if (!swapped) continue;   // changed under us: look again
    // PI futexes would be handed over by the PI code, which we lack.
    if (!pi && (uval & FUTEX_WAITERS)) WakeOne(t, addr);
    return true;
  }
  return true;
}

// Linux's exit_robust_list: walks at most ROBUST_LIST_LIMIT entries (a
// cyclic list must not hold the sentry), then the pending entry. Bit 0 of
// each list pointer marks a PI futex.
void ExitRobustList(Task& t) {
  const uint64_t head = t.robust_list_head;
  auto h = t.mm().CopyInObj(mm::UserPtr<RobustListHead>(head));
  if (!h) return;
  // Entry addresses plus the offset wrap around, as in Linux.
  const uint64_t offset = static_cast<uint64_t>(h->futex_offset);
  const uint64_t pending = h->list_op_pending & ~uint64_t{1};
  const bool pending_pi = h->list_op_pending & 1;
  uint64_t entry = h->next & ~uint64_t{1};
  bool pi = h->next & 1;
  for (int limit = ROBUST_LIST_LIMIT; entry != head;) {
    // Read the link first: handling the entry may release its memory.
    auto next = t.mm().CopyInObj(mm::UserPtr<uint64_t>(entry));
    // The pending entry may be on the list already: handled once, below.
    if (entry != pending &&
        !HandleFutexDeath(t, entry + offset, pi, /*pending=*/false))
      return;
    if (!next) return;
    entry = *next & ~uint64_t{1};
    pi = *next & 1;
    if (--limit == 0) break;
  }
  if (pending) HandleFutexDeath(t, pending + offset, pending_pi, true);
}

}  // namespace

void ReleaseThreadFutexes(Task& t) {
  if (t.robust_list_head) ExitRobustList(t);
  t.robust_list_head = 0;
  if (const uint64_t tidptr = t.clear_child_tid) {
    t.clear_child_tid = 0;
    // Like Linux, wake even if the word could not be written.
    (void)t.mm().CopyOutObj(mm::UserPtr<int32_t>(tidptr), 0);
    WakeOne(t, tidptr);
  }
}

}  // namespace kernel
