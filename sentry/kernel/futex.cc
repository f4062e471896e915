#include "sentry/kernel/futex.h"

#include <linux/futex.h>

#include "sentry/kernel/task.h"

namespace kernel {

using base::Err;
using base::Result;

namespace {

// FUTEX_OP's 12-bit signed oparg and cmparg.
int32_t SignExtend12(uint32_t v) {
  return static_cast<int32_t>((v & 0xfff) << 20) >> 20;
}

}  // namespace

Result<Futexes::Key> Futexes::KeyFor(mm::MemoryManager& mm, uint64_t addr,
                                     bool is_private, bool for_write) {
  if (addr % sizeof(uint32_t)) return Err(EINVAL);
  // A futex word lies in user space (access_ok), even for a private futex
  // that is never read.
  if (addr > mm::kTaskSizeMax - sizeof(uint32_t)) return Err(EFAULT);
  if (is_private) return Key{Key::Kind::kPrivate, &mm, addr};
  // A shared key depends on what is mapped there: Linux looks the page up
  // (EFAULT if it cannot), then names shared memory by its backing, which
  // other processes map too, and private memory by address space.
  const mm::UserRange word{addr, sizeof(uint32_t)};
  TRY(mm.WithIoBlocks(std::span(&word, 1),
                      for_write ? mm::Access::kWrite : mm::Access::kRead,
                      [](std::span<const iovec>) -> Result<size_t> { return 0; }));
  if (std::optional<uint64_t> offset = mm.SharedBackingOffset(addr))
    return Key{Key::Kind::kSharedFile, nullptr, *offset};
  return Key{Key::Kind::kSharedMm, &mm, addr};
}

Result<void> Futexes::WithWord(
    mm::MemoryManager& mm, uint64_t addr,
    absl::FunctionRef<void(std::atomic_ref<uint32_t>)> op) {
  if (addr % sizeof(uint32_t)) return Err(EINVAL);
  const mm::UserRange word{addr, sizeof(uint32_t)};
  TRY(mm.WithIoBlocks(
      std::span(&word, 1), mm::Access::kWrite,
      [&](std::span<const iovec> blocks) -> Result<size_t> {
        // Aligned, the word never spans two pages: one block, whole or
        // nothing.
        if (blocks[0].iov_len < sizeof(uint32_t)) return Err(EFAULT);
        op(std::atomic_ref<uint32_t>(*static_cast<uint32_t*>(blocks[0].iov_base)));
        return sizeof(uint32_t);
      }));
  return {};
}

Result<void> Futexes::Wait(Task& t, Key key, uint64_t addr, uint32_t expected,
                           uint32_t bitset, absl::Time deadline) {
  Waiter w{.task = &t, .key = key, .bitset = bitset};
  {
    // Reading the value under mu_ makes check-and-sleep atomic with respect
    // to wakes, which take mu_ too: no wakeup can slip in between.
    absl::MutexLock lock(&mu_);
    uint32_t value = TRY(t.mm().CopyInObj(mm::UserPtr<uint32_t>(addr)));
    if (value != expected) return Err(EAGAIN);
    queues_[key].push_back(&w);
  }
  Task::WakeReason why = t.Block(deadline, &w.woken);
  absl::MutexLock lock(&mu_);
  if (w.woken.load()) return {};
  // Still queued: on w.key, which a requeue may have changed.
  auto it = queues_.find(w.key);
  if (it != queues_.end()) {
    it->second.remove(&w);
    if (it->second.empty()) queues_.erase(it);
  }
  return Err(why == Task::WakeReason::kTimeout ? ETIMEDOUT : EINTR);
}

int Futexes::WakeLocked(Key key, int n, uint32_t bitset) {
  auto it = queues_.find(key);
  if (it == queues_.end()) return 0;
  int woken = 0;
  auto& q = it->second;
  for (auto w = q.begin(); w != q.end();) {
    if (!((*w)->bitset & bitset)) {
      ++w;
      continue;
    }
    Waiter* waiter = *w;
    w = q.erase(w);
    waiter->woken.store(true);
    waiter->task->Wake();
    // Counted after the wakeup, as Linux: n <= 0 still wakes one.
    if (++woken >= n) break;
  }
  if (q.empty()) queues_.erase(it);
  return woken;
}

int Futexes::Wake(Key key, int n, uint32_t bitset) {
  absl::MutexLock lock(&mu_);
  return WakeLocked(key, n, bitset);
}

Result<int> Futexes::Requeue(mm::MemoryManager& mm, Key from, Key to,
                             uint64_t addr, std::optional<uint32_t> expected,
                             int nr_wake, int nr_requeue) {
  absl::MutexLock lock(&mu_);
  if (expected) {
    uint32_t value = TRY(mm.CopyInObj(mm::UserPtr<uint32_t>(addr)));
    if (value != *expected) return Err(EAGAIN);
  }
  auto it = queues_.find(from);
  if (it == queues_.end()) return 0;
  auto& q = it->second;
  int count = 0;  // woken + requeued; bounded by the queue's length
  for (auto w = q.begin(); w != q.end() && count - nr_wake < nr_requeue;) {
    Waiter* waiter = *w;
    if (++count <= nr_wake) {
      w = q.erase(w);
      waiter->woken.store(true);
      waiter->task->Wake();
    } else if (from == to) {
      ++w;  // requeued onto itself: it keeps its place, as on Linux
    } else {
      w = q.erase(w);
      waiter->key = to;
      queues_[to].push_back(waiter);  // std::map: `it` stays valid
    }
  }
  if (q.empty()) queues_.erase(it);
  return count;
}

Result<int> Futexes::WakeOp(mm::MemoryManager& mm, Key key1, Key key2,
                            uint64_t addr2, int nr_wake, int nr_wake2,
                            uint32_t encoded_op) {
  const uint32_t op = (encoded_op >> 28) & 7;
  const uint32_t cmp = (encoded_op >> 24) & 15;
  const int32_t cmparg = SignExtend12(encoded_op);
  uint32_t oparg = static_cast<uint32_t>(SignExtend12(encoded_op >> 12));
  // Linux takes an out-of-range shift modulo 32 (and logs a complaint).
  if (encoded_op & (uint32_t{FUTEX_OP_OPARG_SHIFT} << 28))
    oparg = uint32_t{1} << (oparg & 31);
  if (op > FUTEX_OP_XOR) return Err(ENOSYS);  // before touching memory

  // The op, the comparison and both wakes happen under mu_, so that a
  // waiter of either word sees the new value or is woken (Linux holds both
  // hash-bucket locks).
  absl::MutexLock lock(&mu_);
  // The word is shared with the app (and other processes): the
  // read-modify-write must be one atomic instruction on that memory.
  uint32_t old = 0;
  TRY(WithWord(mm, addr2, [&](std::atomic_ref<uint32_t> word) {
    switch (op) {
      case FUTEX_OP_SET:
        old = word.exchange(oparg);
        break;
      case FUTEX_OP_ADD:
        old = word.fetch_add(oparg);
        break;
      case FUTEX_OP_OR:
        old = word.fetch_or(oparg);
        break;
      case FUTEX_OP_ANDN:
        old = word.fetch_and(~oparg);
        break;
      case FUTEX_OP_XOR:
        old = word.fetch_xor(oparg);
        break;
    }
  }));
  const int32_t oldval = static_cast<int32_t>(old);
  bool wake2 = false;
  switch (cmp) {
    case FUTEX_OP_CMP_EQ:
      wake2 = oldval == cmparg;
      break;
    case FUTEX_OP_CMP_NE:
      wake2 = oldval != cmparg;
      break;
    case FUTEX_OP_CMP_LT:
      wake2 = oldval < cmparg;
      break;
    case FUTEX_OP_CMP_LE:
      wake2 = oldval <= cmparg;
      break;
    case FUTEX_OP_CMP_GT:
      wake2 = oldval > cmparg;
      break;
    case FUTEX_OP_CMP_GE:
      wake2 = oldval >= cmparg;
      break;
    default:
      return Err(ENOSYS);  // after the op, as Linux
  }
  int woken = WakeLocked(key1, nr_wake, FUTEX_BITSET_MATCH_ANY);
  if (wake2) woken += WakeLocked(key2, nr_wake2, FUTEX_BITSET_MATCH_ANY);
  return woken;
}

}  // namespace kernel
