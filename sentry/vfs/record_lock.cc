#include "sentry/vfs/record_lock.h"

#include <fcntl.h>

#include <algorithm>

namespace vfs {
namespace {

// Linux's MAX_DEADLK_ITERATIONS: longer chains of waiting owners are not
// followed (no EDEADLK).
constexpr int kMaxDeadlockIterations = 10;

bool Overlap(const LockRange& a, const LockRange& b) {
  return a.start <= b.end && b.start <= a.end;
}

}  // namespace

RecordLockTable& RecordLockTable::Get() {
  static RecordLockTable* table = new RecordLockTable;  // never destroyed
  return *table;
}

base::Result<RecordLockTable::Key> LockKey(FileDescription& f) {
  const struct stat st = TRY(f.Stat());
  return RecordLockTable::Key{st.st_dev, st.st_ino};
}

const RecordLockTable::Lock* RecordLockTable::FindConflict(
    const std::vector<Lock>& locks, const void* owner, const LockRange& req) {
  for (const Lock& l : locks) {
    if (l.owner == owner || !Overlap(l.range, req)) continue;
    if (l.range.type == F_WRLCK || req.type == F_WRLCK) return &l;
  }
  return nullptr;
}

std::optional<LockHolder> RecordLockTable::Test(Key key, const LockOwner& owner,
                                                const LockRange& req) {
  absl::MutexLock lock(&mu_);
  auto it = files_.find(key);
  if (it == files_.end()) return std::nullopt;
  const Lock* found = nullptr;
  if (req.type == F_UNLCK) {
    for (const Lock& l : it->second) {
      if (l.owner == owner.id && Overlap(l.range, req)) {
        found = &l;
        break;
      }
    }
  } else {
    found = FindConflict(it->second, owner.id, req);
  }
  if (!found) return std::nullopt;
  return LockHolder{found->range, found->pid};
}

bool RecordLockTable::WouldDeadlock(const void* owner,
                                    const void* blocker) const {
  // As Linux's posix_locks_deadlock: follow "the owner of the lock I wait
  // for waits for ..." from the blocker; reaching `owner` closes a cycle.
  for (int i = 0;;) {
    auto b = std::find_if(blocked_.begin(), blocked_.end(),
                          [&](const Blocked& x) { return x.owner == blocker; });
    if (b == blocked_.end()) return false;
    blocker = b->blocker;
    if (i++ > kMaxDeadlockIterations) return false;
    if (blocker == owner) return true;
  }
}

bool RecordLockTable::ApplyLocked(Key key, const LockOwner& owner,
                                  const LockRange& req) {
  std::vector<Lock>& locks = files_[key];
  // The owner's locks sit together, by offset: [first, last).
  const auto first =
      std::find_if(locks.begin(), locks.end(),
                   [&](const Lock& l) { return l.owner == owner.id; });
  const auto last = std::partition_point(
      first, locks.end(), [&](const Lock& l) { return l.owner == owner.id; });
  // Of those, [lo, hi) touch the request: they overlap it or end or begin
  // right next to it. "x - 1" rather than "y + 1": an end may be
  // kLockOffsetMax, a start is never below 0. Ends are sorted too (the
  // locks do not overlap).
  const auto lo = std::partition_point(
      first, last, [&](const Lock& l) { return l.range.end < req.start - 1; });
  const auto hi = std::partition_point(
      lo, last, [&](const Lock& l) { return l.range.start - 1 <= req.end; });
  // Cut the request's range out of them...
  std::vector<Lock> pieces;
  for (auto it = lo; it != hi; ++it) {
    const LockRange& r = it->range;
    if (!Overlap(r, req)) {
      pieces.push_back(*it);
      continue;
    }
    if (r.start < req.start) {
      pieces.push_back(*it);
      pieces.back().range.end = req.start - 1;
    }
    if (r.end > req.end) {
      pieces.push_back(*it);
      pieces.back().range.start = req.end + 1;
    }
  }
  // ... then put the new lock there, merged with the pieces of its type
  // next to it (the rest stay apart from it).
  if (req.type != F_UNLCK) {
    Lock added{owner.id, owner.pid, req};
    std::erase_if(pieces, [&](const Lock& l) {
      if (l.range.type != req.type || l.range.end < req.start - 1 ||
          l.range.start - 1 > req.end)
        return false;
      added.range.start = std::min(added.range.start, l.range.start);
      added.range.end = std::max(added.range.end, l.range.end);
      return true;
    });
    pieces.push_back(added);
  }
  std::sort(pieces.begin(), pieces.end(), [](const Lock& a, const Lock& b) {
    return a.range.start < b.range.start;
  });
  const size_t replaced = static_cast<size_t>(hi - lo);
  const size_t owner_left =
      static_cast<size_t>(last - first) - replaced + pieces.size();
  if (pieces.size() > replaced &&
      count_ - replaced + pieces.size() > max_locks_) {
    if (locks.empty()) files_.erase(key);
    return false;
  }
  count_ = count_ - replaced + pieces.size();
  const auto at = locks.erase(lo, hi);
  locks.insert(at, pieces.begin(), pieces.end());
  if (locks.empty()) files_.erase(key);
  if (owner_left == 0) {
    auto o = owners_.find(owner.id);
    if (o != owners_.end()) {
      o->second.erase(key);
      if (o->second.empty()) owners_.erase(o);
    }
  } else {
    owners_[owner.id].insert(key);
  }
  return true;
}

void RecordLockTable::UnblockLocked(const void* owner, Key key) {
  std::erase_if(blocked_, [&](const Blocked& b) {
    return b.blocker == owner && b.key == key;
  });
}

base::Result<void> RecordLockTable::TrySet(Key key, const LockOwner& owner,
                                           const LockRange& req,
                                           const void* waiter) {
  bool released = false;
  {
    absl::MutexLock lock(&mu_);
    auto file = files_.find(key);
    if (req.type != F_UNLCK && file != files_.end()) {
      if (const Lock* c = FindConflict(file->second, owner.id, req)) {
        // Only POSIX waiters are followed (an OFD lock has no process to
        // wait for), as Linux's blocked_hash.
        if (!waiter || owner.ofd) return base::Err(EAGAIN);
        if (WouldDeadlock(owner.id, c->owner)) return base::Err(EDEADLK);
        std::erase_if(blocked_,
                      [&](const Blocked& b) { return b.waiter == waiter; });
        blocked_.push_back(Blocked{waiter, owner.id, c->owner, key});
        return base::Err(EAGAIN);
      }
    }
    auto o = owners_.find(owner.id);
    const bool had = o != owners_.end() && o->second.count(key);
    if (!had && req.type == F_UNLCK) return {};
    if (!ApplyLocked(key, owner, req)) return base::Err(ENOLCK);
    // Taken: the caller waits no more, whatever StopWaiting's timing.
    if (waiter)
      std::erase_if(blocked_,
                    [&](const Blocked& b) { return b.waiter == waiter; });
    if (had) {
      // The owner's old locks there shrank or changed: whoever waited
      // for them tries again.
      UnblockLocked(owner.id, key);
      released = true;
    }
  }
  if (released) queue_.Notify(kReleased);
  return {};
}

void RecordLockTable::StopWaiting(const void* waiter) {
  absl::MutexLock lock(&mu_);
  std::erase_if(blocked_, [&](const Blocked& b) { return b.waiter == waiter; });
}

void RecordLockTable::ReleaseFile(const void* owner, Key key) {
  {
    absl::MutexLock lock(&mu_);
    auto o = owners_.find(owner);
    if (o == owners_.end() || !o->second.count(key)) return;
    ApplyLocked(key, LockOwner{owner, false, 0},
                LockRange{F_UNLCK, 0, kLockOffsetMax});
    UnblockLocked(owner, key);
  }
  queue_.Notify(kReleased);
}

void RecordLockTable::ReleaseOwner(const void* owner) {
  {
    absl::MutexLock lock(&mu_);
    auto o = owners_.find(owner);
    if (o == owners_.end()) return;
    const std::set<Key> keys = o->second;  // ApplyLocked changes it
    for (const Key& key : keys) {
      ApplyLocked(key, LockOwner{owner, false, 0},
                  LockRange{F_UNLCK, 0, kLockOffsetMax});
      UnblockLocked(owner, key);
    }
  }
  queue_.Notify(kReleased);
}

PosixLockOwner::~PosixLockOwner() {
  if (used_.load()) RecordLockTable::Get().ReleaseOwner(this);
}

void PosixLockOwner::Closed(FileDescription& file) {
  if (!used_.load()) return;
  // A file whose identity cannot be had (a dead gofer) keeps this
  // owner's locks until the owner goes.
  auto key = LockKey(file);
  if (key) RecordLockTable::Get().ReleaseFile(this, *key);
}

}  // namespace vfs
