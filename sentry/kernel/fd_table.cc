#include "sentry/kernel/fd_table.h"

#include <climits>

namespace kernel {

using base::Err;
using base::Result;

Result<int> FdTable::Install(FilePtr file, bool cloexec, int min_fd,
                             uint64_t limit) {
  if (min_fd < 0) return Err(EINVAL);
  if (limit > INT_MAX) limit = INT_MAX;
  if (static_cast<uint64_t>(min_fd) >= limit) return Err(EINVAL);
  absl::MutexLock lock(&mu_);
  int fd = min_fd;
  // fds_ is ordered: walk the used fds from min_fd to find the first gap.
  for (auto it = fds_.lower_bound(min_fd); it != fds_.end() && it->first == fd;
       ++it)
    ++fd;
  if (static_cast<uint64_t>(fd) >= limit) return Err(EMFILE);
  fds_[fd] = Entry{std::move(file), cloexec};
  return fd;
}

Result<void> FdTable::InstallAt(int fd, FilePtr file, bool cloexec,
                                uint64_t limit) {
  if (fd < 0 || static_cast<uint64_t>(fd) >= limit) return Err(EBADF);
  FilePtr old;  // closed after the lock is released
  {
    absl::MutexLock lock(&mu_);
    Entry& e = fds_[fd];
    old = std::move(e.file);
    e = Entry{std::move(file), cloexec};
  }
  if (old) lock_owner_.Closed(*old);
  return {};
}

Result<FdTable::FilePtr> FdTable::Get(int fd) const {
  absl::MutexLock lock(&mu_);
  auto it = fds_.find(fd);
  if (it == fds_.end()) return Err(EBADF);
  return it->second.file;
}

Result<bool> FdTable::GetCloexec(int fd) const {
  absl::MutexLock lock(&mu_);
  auto it = fds_.find(fd);
  if (it == fds_.end()) return Err(EBADF);
  return it->second.cloexec;
}

Result<void> FdTable::SetCloexec(int fd, bool cloexec) {
  absl::MutexLock lock(&mu_);
  auto it = fds_.find(fd);
  if (it == fds_.end()) return Err(EBADF);
  it->second.cloexec = cloexec;
  return {};
}

Result<FdTable::FilePtr> FdTable::Remove(int fd) {
  FilePtr f;
  {
    absl::MutexLock lock(&mu_);
    auto it = fds_.find(fd);
    if (it == fds_.end()) return Err(EBADF);
    f = std::move(it->second.file);
    fds_.erase(it);
  }
  lock_owner_.Closed(*f);
  return f;
}

void FdTable::RemoveRange(int first, int last) {
  std::vector<FilePtr> closing;  // released outside the lock
  {
    absl::MutexLock lock(&mu_);
    for (auto it = fds_.lower_bound(first);
         it != fds_.end() && it->first <= last;) {
      closing.push_back(std::move(it->second.file));
      it = fds_.erase(it);
    }
  }
  Closed(closing);
}

void FdTable::RemoveCloexec() {
  std::vector<FilePtr> closing;
  {
    absl::MutexLock lock(&mu_);
    for (auto it = fds_.begin(); it != fds_.end();) {
      if (it->second.cloexec) {
        closing.push_back(std::move(it->second.file));
        it = fds_.erase(it);
      } else {
        ++it;
      }
    }
  }
  Closed(closing);
}

void FdTable::Closed(const std::vector<FilePtr>& files) {
  for (const FilePtr& f : files) lock_owner_.Closed(*f);
}

std::shared_ptr<FdTable> FdTable::Fork() const {
  auto copy = std::make_shared<FdTable>();
  absl::MutexLock lock(&mu_);
  copy->fds_ = fds_;  // the new table is not shared yet: no lock needed
  return copy;
}

std::vector<int> FdTable::Fds() const {
  absl::MutexLock lock(&mu_);
  std::vector<int> out;
  out.reserve(fds_.size());
  for (const auto& [fd, e] : fds_) out.push_back(fd);
  return out;
}

}  // namespace kernel
