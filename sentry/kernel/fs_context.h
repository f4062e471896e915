// FsContext: a process's working directory, root directory (chroot(2))
// and umask (shared by CLONE_FS tasks).
#ifndef SENTRY_KERNEL_FS_CONTEXT_H_
#define SENTRY_KERNEL_FS_CONTEXT_H_

#include <sys/types.h>

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace kernel {

class FsContext {
 public:
  explicit FsContext(std::string cwd) : cwd_(std::move(cwd)) {}
  // A copy for fork without CLONE_FS, or unshare(CLONE_FS).
  std::shared_ptr<FsContext> Copy() const {
    absl::MutexLock lock(&mu_);
    auto c = std::make_shared<FsContext>(cwd_);
    c->root_ = root_;
    c->umask_ = umask_;
    return c;
  }

  std::string cwd() const {
    absl::MutexLock lock(&mu_);
    return cwd_;
  }
  void set_cwd(std::string cwd) {
    absl::MutexLock lock(&mu_);
    cwd_ = std::move(cwd);
  }
  // The root directory paths resolve from: absolute, canonical, "/"
  // unless chroot(2) changed it.
  std::string root() const {
    absl::MutexLock lock(&mu_);
    return root_;
  }
  void set_root(std::string root) {
    absl::MutexLock lock(&mu_);
    root_ = std::move(root);
  }
  mode_t umask() const {
    absl::MutexLock lock(&mu_);
    return umask_;
  }
  // Returns the old mask, as umask(2).
  mode_t set_umask(mode_t mask) {
    absl::MutexLock lock(&mu_);
    mode_t old = umask_;
    umask_ = mask & 0777;
    return old;
  }

 private:
  mutable absl::Mutex mu_;
  std::string cwd_ ABSL_GUARDED_BY(mu_);  // absolute, canonical
  std::string root_ ABSL_GUARDED_BY(mu_) = "/";
  mode_t umask_ ABSL_GUARDED_BY(mu_) = 022;
};

}  // namespace kernel

#endif  // SENTRY_KERNEL_FS_CONTEXT_H_
