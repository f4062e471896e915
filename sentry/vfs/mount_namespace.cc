#include "sentry/vfs/mount_namespace.h"

#include <utility>

#include "sentry/vfs/path_walk.h"

namespace vfs {

MountNamespace::MountNamespace(std::shared_ptr<const MountTable> table)
    : id_(next_id_.fetch_add(1, std::memory_order_relaxed)),
      table_(std::move(table)) {}

std::shared_ptr<const MountTable> MountNamespace::Table() const {
  absl::ReaderMutexLock lock(&mu_);
  return table_;
}

base::Result<void> MountNamespace::Change(
    const std::function<base::Result<void>(MountTable&)>& change) {
  std::shared_ptr<const MountTable> old;  // freed outside the lock
  absl::MutexLock lock(&mu_);
  auto copy = std::make_shared<MountTable>(*table_);
  TRY(change(*copy));
  old = std::exchange(table_, std::move(copy));
  return {};
}

namespace {

bool Under(std::string_view path, std::string_view dir) {
  return path.starts_with(dir) &&
         (path.size() == dir.size() || path[dir.size()] == '/');
}

}  // namespace

std::string PivotMove::Apply(std::string_view path) const {
  if (path == "/") return "/";
  if (Under(path, new_root)) {
    std::string_view rest = path.substr(new_root.size());
    return rest.empty() ? "/" : std::string(rest);
  }
  // put_old as seen from the new root.
  std::string_view old = std::string_view(put_old).substr(new_root.size());
  return std::string(old) + std::string(path);
}

std::shared_ptr<MountNamespace> MountNamespace::Copy() const {
  return std::make_shared<MountNamespace>(Table());
}

}  // namespace vfs
