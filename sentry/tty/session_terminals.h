// SessionTerminals: which terminal controls which session. Linux keeps a
// pointer in each process (signal_struct->tty); here the kernel keeps one
// map from session id to terminal, so every process of a session shares
// its session's controlling terminal (see README.md for the difference).
//
// Lock order: SessionTerminals::mu_ is a leaf (never held while a
// Terminal's lock is taken).
#ifndef SENTRY_TTY_SESSION_TERMINALS_H_
#define SENTRY_TTY_SESSION_TERMINALS_H_

#include <map>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace tty {

class Terminal;

class SessionTerminals {
 public:
  // The terminal of session `sid`, or null.
  std::shared_ptr<Terminal> Get(int sid) {
    absl::MutexLock lock(&mu_);
    auto it = map_.find(sid);
    if (it == map_.end()) return nullptr;
    std::shared_ptr<Terminal> t = it->second.lock();
    if (!t) map_.erase(it);
    return t;
  }
  void Set(int sid, std::shared_ptr<Terminal> t) {
    absl::MutexLock lock(&mu_);
    map_[sid] = std::move(t);
  }
  void Clear(int sid) {
    absl::MutexLock lock(&mu_);
    map_.erase(sid);
  }

 private:
  absl::Mutex mu_;
  // Weak: a terminal nobody has open any more controls nothing.
  std::map<int, std::weak_ptr<Terminal>> map_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tty

#endif  // SENTRY_TTY_SESSION_TERMINALS_H_
