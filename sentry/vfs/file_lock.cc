#include "sentry/vfs/file_lock.h"

namespace vfs {

FlockTable& FlockTable::Get() {
  static FlockTable* table = new FlockTable;  // never destroyed
  return *table;
}

base::Result<void> FlockTable::TryFlock(FileDescription& file,
                                        bool exclusive) {
  const struct stat st = TRY(file.Stat());
  const Key key{st.st_dev, st.st_ino};
  bool released = false;
  base::Result<void> result;
  {
    absl::MutexLock lock(&mu_);
    if (auto it = owners_.find(&file); it != owners_.end()) {
      if (it->second.exclusive == exclusive) return {};  // already so
      released = UnlockLocked(&file);
    }
    auto& holders = files_[key];
    bool conflict = false;
    for (const auto& [owner, ex] : holders)
      if (ex || exclusive) conflict = true;
    if (conflict) {
      if (holders.empty()) files_.erase(key);
      result = base::Err(EAGAIN);
    } else {
      holders[&file] = exclusive;
      owners_[&file] = Held{key, exclusive};
      file.set_holds_flock();
    }
  }
  if (released) queue_.Notify(kReleased);
  return result;
}

void FlockTable::Unlock(const FileDescription* owner) {
  bool released;
  {
    absl::MutexLock lock(&mu_);
    released = UnlockLocked(owner);
  }
  if (released) queue_.Notify(kReleased);
}

bool FlockTable::UnlockLocked(const FileDescription* owner) {
  auto it = owners_.find(owner);
  if (it == owners_.end()) return false;
  auto f = files_.find(it->second.key);
  if (f != files_.end()) {
    f->second.erase(owner);
    if (f->second.empty()) files_.erase(f);
  }
  owners_.erase(it);
  return true;
}

}  // namespace vfs
