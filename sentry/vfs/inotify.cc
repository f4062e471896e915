#include "sentry/vfs/inotify.h"

#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>

#include <atomic>
#include <climits>
#include <compare>
#include <cstring>
#include <vector>

#include "sentry/kernel/task.h"
#include "sentry/vfs/anon_inode.h"
#include "sentry/vfs/iov_cursor.h"
#include "sentry/vfs/node.h"

namespace vfs {

// Every watch of the sentry, by file identity, and the per-user counts.
// Instances are reached by raw pointer: ~Inotify removes its watches
// under mu_ before it lets go of anything, so a pointer found under mu_
// is alive while mu_ is held.
class Registry {
 public:
  static Registry& Get() {
    static Registry* r = new Registry;
    return *r;
  }

  using Key = std::pair<dev_t, ino_t>;
  static Key KeyOf(const struct stat& st) { return {st.st_dev, st.st_ino}; }

  bool watched() const { return watches_.load(std::memory_order_relaxed) > 0; }

  base::Result<void> AddInstance(uint32_t uid) {
    absl::MutexLock lock(&mu_);
    Counts& c = users_[uid];
    if (c.instances >= kInotifyMaxUserInstances) return base::Err(EMFILE);
    ++c.instances;
    return {};
  }

  void RemoveInstance(Inotify* in) {
    absl::MutexLock lock(&mu_);
    for (const auto& [wd, key] : in->watches_) {
      std::erase_if(by_key_[key], [&](const Watch& w) { return w.in == in; });
      if (by_key_[key].empty()) by_key_.erase(key);
      watches_.fetch_sub(1, std::memory_order_relaxed);
      --users_[in->uid_].watches;
    }
    in->watches_.clear();
    --users_[in->uid_].instances;
  }

  base::Result<int> AddWatch(Inotify* in, const struct stat& st,
                             uint32_t mask) {
    const Key key = KeyOf(st);
    // What a watch keeps: its events and the flags that steer delivery.
    const uint32_t keep = mask & (IN_ALL_EVENTS | IN_ONESHOT | IN_EXCL_UNLINK);
    absl::MutexLock lock(&mu_);
    for (Watch& w : by_key_[key]) {
      if (w.in != in) continue;
      if (mask & kInMaskCreate) return base::Err(EEXIST);
      w.mask = (mask & IN_MASK_ADD) ? w.mask | keep : keep;
      return w.wd;
    }
    Counts& c = users_[in->uid_];
    if (c.watches >= kInotifyMaxUserWatches) {
      if (by_key_[key].empty()) by_key_.erase(key);
      return base::Err(ENOSPC);
    }
    // Descriptors increase, as Linux's idr_alloc_cyclic hands them out.
    int wd = in->last_wd_;
    do {
      wd = wd == INT_MAX ? 1 : wd + 1;
    } while (in->watches_.contains(wd));
    in->last_wd_ = wd;
    in->watches_[wd] = key;
    by_key_[key].push_back({in, wd, keep});
    ++c.watches;
    watches_.fetch_add(1, std::memory_order_relaxed);
    return wd;
  }

  base::Result<void> RmWatch(Inotify* in, int wd) {
    absl::MutexLock lock(&mu_);
    if (!in->watches_.contains(wd)) return base::Err(EINVAL);
    RemoveLocked(in, wd);
    return {};
  }

  // Delivers `mask` about the file `key` to its watches (`name` empty) or,
  // as a directory's child event, to the directory's (`unlinked`: the
  // child has no name left, which IN_EXCL_UNLINK watches skip).
  void Deliver(const Key& key, uint32_t mask, uint32_t cookie,
               std::string_view name, bool unlinked = false) {
    absl::MutexLock lock(&mu_);
    DeliverLocked(key, mask, cookie, name, unlinked);
  }

  void DeliverPair(const Key* dir, std::string_view name, const Key& file,
                   uint32_t mask, bool unlinked) {
    absl::MutexLock lock(&mu_);
    // fsnotify_parent: the directory's watch first, then the file's.
    if (dir != nullptr) DeliverLocked(*dir, mask, 0, name, unlinked);
    DeliverLocked(file, mask, 0, "", false);
  }

  // IN_DELETE_SELF (without IN_ISDIR, as fsnotify_inoderemove), then the
  // end of every watch on `key`.
  void Deleted(const Key& key) {
    absl::MutexLock lock(&mu_);
    DeliverLocked(key, IN_DELETE_SELF, 0, "", false);
    auto it = by_key_.find(key);
    if (it == by_key_.end()) return;
    const std::vector<Watch> watches = it->second;
    for (const Watch& w : watches) RemoveLocked(w.in, w.wd);
  }

  // Every watch on a file of `dev` hears IN_UNMOUNT (whatever its mask,
  // as Linux) and ends.
  void Unmounted(dev_t dev) {
    absl::MutexLock lock(&mu_);
    std::vector<Watch> watches;
    for (auto it = by_key_.lower_bound({dev, 0});
         it != by_key_.end() && it->first.first == dev; ++it) {
      watches.insert(watches.end(), it->second.begin(), it->second.end());
    }
    for (const Watch& w : watches) {
      w.in->Post(w.wd, IN_UNMOUNT, 0, "");
      RemoveLocked(w.in, w.wd);
    }
  }

 private:
  struct Watch {
    Inotify* in;
    int wd;
    uint32_t mask;
  };
  struct Counts {
    int instances = 0;
    int watches = 0;
  };

  void DeliverLocked(const Key& key, uint32_t mask, uint32_t cookie,
                     std::string_view name, bool unlinked)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    auto it = by_key_.find(key);
    if (it == by_key_.end()) return;
    // A copy: IN_ONESHOT removes watches as it goes.
    const std::vector<Watch> watches = it->second;
    for (const Watch& w : watches) {
      const uint32_t wanted = mask & w.mask & IN_ALL_EVENTS;
      if (wanted == 0) continue;
      if (!name.empty() && unlinked && (w.mask & IN_EXCL_UNLINK)) continue;
      w.in->Post(w.wd, wanted | (mask & IN_ISDIR), cookie, name);
      if (w.mask & IN_ONESHOT) RemoveLocked(w.in, w.wd);
    }
  }

  void RemoveLocked(Inotify* in, int wd) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    auto it = in->watches_.find(wd);
    if (it == in->watches_.end()) return;
    const Key key = it->second;
    in->watches_.erase(it);
    std::erase_if(by_key_[key], [&](const Watch& w) {
      return w.in == in && w.wd == wd;
    });
    if (by_key_[key].empty()) by_key_.erase(key);
    --users_[in->uid_].watches;
    watches_.fetch_sub(1, std::memory_order_relaxed);
    in->Post(wd, IN_IGNORED, 0, "");
  }

  absl::Mutex mu_;
  std::map<Key, std::vector<Watch>> by_key_ ABSL_GUARDED_BY(mu_);
  std::map<uint32_t, Counts> users_ ABSL_GUARDED_BY(mu_);
  std::atomic<int> watches_{0};
};

base::Result<std::shared_ptr<Inotify>> Inotify::Create(uint32_t uid,
                                                       int flags) {
  TRY(Registry::Get().AddInstance(uid));
  return std::shared_ptr<Inotify>(new Inotify(uid, flags));
}

Inotify::~Inotify() { Registry::Get().RemoveInstance(this); }

base::Result<int> Inotify::AddWatch(const struct stat& st, uint32_t mask) {
  return Registry::Get().AddWatch(this, st, mask);
}

base::Result<void> Inotify::RmWatch(int wd) {
  return Registry::Get().RmWatch(this, wd);
}

void Inotify::Post(int32_t wd, uint32_t mask, uint32_t cookie,
                   std::string_view name) {
  {
    absl::MutexLock lock(&mu_);
    if (!events_.empty()) {
      const Event& last = events_.back();
      // Identical to the last unread event: coalesced, as Linux.
      if (last.wd == wd && last.mask == mask && last.cookie == cookie &&
          last.name == name) {
        return;
      }
    }
    Event ev{wd, mask, cookie, std::string(name)};
    if (events_.size() >= static_cast<size_t>(kInotifyMaxQueuedEvents)) {
      if (events_.back().mask == IN_Q_OVERFLOW) return;
      ev = Event{-1, IN_Q_OVERFLOW, 0, ""};
    }
    queued_bytes_ += ev.size();
    events_.push_back(std::move(ev));
  }
  queue_.Notify(EPOLLIN | EPOLLRDNORM);
}

base::Result<size_t> Inotify::Read(std::span<const iovec> dst) {
  size_t room = 0;
  for (const iovec& v : dst) room += v.iov_len;
  absl::MutexLock lock(&mu_);
  if (events_.empty()) return base::Err(EAGAIN);
  size_t copied = 0;
  IovCursor out(dst);
  while (!events_.empty()) {
    const Event& ev = events_.front();
    const size_t size = ev.size();
    if (size > room - copied) {
      if (copied == 0) return base::Err(EINVAL);
      break;
    }
    inotify_event header{};
    header.wd = ev.wd;
    header.mask = ev.mask;
    header.cookie = ev.cookie;
    header.len = static_cast<uint32_t>(ev.name_len());
    out.Scatter(reinterpret_cast<const uint8_t*>(&header), sizeof header);
    if (header.len > 0) {
      std::string padded = ev.name;
      padded.resize(header.len, '\0');
      out.Scatter(reinterpret_cast<const uint8_t*>(padded.data()),
                  padded.size());
    }
    copied += size;
    queued_bytes_ -= size;
    events_.pop_front();
  }
  return copied;
}

base::Result<struct stat> Inotify::Stat() { return AnonInodeStat(); }

base::Result<uint64_t> Inotify::Ioctl(kernel::Task& task, uint32_t cmd,
                                      uint64_t arg) {
  if (cmd != FIONREAD) return base::Err(ENOTTY);
  int n;
  {
    absl::MutexLock lock(&mu_);
    n = static_cast<int>(queued_bytes_);
  }
  TRY(task.mm().CopyOut(arg, &n, sizeof n));
  return 0;
}

uint64_t Inotify::Readiness(uint64_t mask) {
  absl::MutexLock lock(&mu_);
  return events_.empty() ? 0 : mask & (EPOLLIN | EPOLLRDNORM);
}

bool NotifyWatched() { return Registry::Get().watched(); }

void NotifyFile(const struct stat* dir, std::string_view name,
                const struct stat& st, uint32_t mask) {
  if (S_ISDIR(st.st_mode)) mask |= IN_ISDIR;
  const Registry::Key file = Registry::KeyOf(st);
  if (dir == nullptr) {
    Registry::Get().DeliverPair(nullptr, "", file, mask, false);
    return;
  }
  const Registry::Key parent = Registry::KeyOf(*dir);
  Registry::Get().DeliverPair(&parent, name, file, mask, st.st_nlink == 0);
}

void NotifyEntry(const struct stat& dir, std::string_view name, bool is_dir,
                 uint32_t mask, uint32_t cookie) {
  Registry::Get().Deliver(Registry::KeyOf(dir),
                          mask | (is_dir ? IN_ISDIR : 0), cookie, name);
}

void NotifyDeleted(const struct stat& st) {
  Registry::Get().Deleted(Registry::KeyOf(st));
}

void NotifyUnmounted(dev_t dev) { Registry::Get().Unmounted(dev); }

uint32_t NotifyCookie() {
  static std::atomic<uint32_t> next{0};
  uint32_t c;
  do {
    c = next.fetch_add(1, std::memory_order_relaxed) + 1;
  } while (c == 0);
  return c;
}

void NotifyNode(Node* dir, std::string_view name, Node& node, uint32_t mask) {
  if (!NotifyWatched()) return;
  auto st = node.Stat();
  if (!st) return;
  if (dir != nullptr) {
    if (auto dst = dir->Stat()) {
      NotifyFile(&*dst, name, *st, mask);
      return;
    }
  }
  NotifyFile(nullptr, "", *st, mask);
}

void NotifyNodeEntry(Node& dir, std::string_view name, bool is_dir,
                     uint32_t mask, uint32_t cookie) {
  if (!NotifyWatched()) return;
  if (auto st = dir.Stat()) NotifyEntry(*st, name, is_dir, mask, cookie);
}

void NotifyDescription(const FileDescription& f, uint32_t mask) {
  const NotifyOrigin* o = f.notify_origin();
  if (o == nullptr || !NotifyWatched()) return;
  NotifyNode(o->dir.get(), o->name, *o->node, mask);
}

}  // namespace vfs
