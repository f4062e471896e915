// Socket names: abstract names and socket files, bind(2)'s registry, and
// the lookups connect(2) and sendto(2) make.
#include <map>

#include "absl/strings/str_format.h"
#include "sentry/socket/unix_endpoint.h"
#include "sentry/socket/unix_socket.h"

namespace usock {

using base::Err;
using base::Result;

namespace {

// Bound endpoints by name. The sandbox has one network namespace, so one
// registry. Entries go when their socket closes (UnbindLocked).
std::map<std::string, std::weak_ptr<Endpoint>>& Abstract()
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(Mu()) {
  static auto* m = new std::map<std::string, std::weak_ptr<Endpoint>>;
  return *m;
}
std::map<std::pair<dev_t, ino_t>, std::weak_ptr<Endpoint>>& Paths()
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(Mu()) {
  static auto* m =
      new std::map<std::pair<dev_t, ino_t>, std::weak_ptr<Endpoint>>;
  return *m;
}

Result<std::shared_ptr<Endpoint>> Live(std::shared_ptr<Endpoint> ep)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(Mu()) {
  if (!ep || ep->dead) return Err(ECONNREFUSED);
  return ep;
}

}  // namespace

void UnbindLocked(Endpoint& ep) {
  if (ep.name.empty()) return;
  if (ep.path_bound) {
    auto it = Paths().find(ep.path_key);
    if (it != Paths().end() && it->second.lock().get() == &ep)
      Paths().erase(it);
  } else {
    auto it = Abstract().find(ep.name);
    if (it != Abstract().end() && it->second.lock().get() == &ep)
      Abstract().erase(it);
  }
}

Result<void> UnixSocket::BindAbstract(const std::string& name) {
  absl::MutexLock lock(&Mu());
  if (!ep_->name.empty()) return Err(EINVAL);
  auto it = Abstract().find(name);
  if (it != Abstract().end() && !it->second.expired())
    return Err(EADDRINUSE);
  Abstract()[name] = ep_;
  ep_->name = name;
  return {};
}

Result<void> UnixSocket::BindPath(const std::string& path, dev_t dev,
                                  ino_t ino) {
  absl::MutexLock lock(&Mu());
  if (!ep_->name.empty()) return Err(EINVAL);
  Paths()[{dev, ino}] = ep_;
  ep_->name = path;
  ep_->path_bound = true;
  ep_->path_key = {dev, ino};
  return {};
}

Result<void> UnixSocket::Autobind() {
  static uint32_t next = 0;
  absl::MutexLock lock(&Mu());
  if (!ep_->name.empty()) return {};
  // Linux's unix_autobind: "\0" and five hex digits, the first free one.
  for (int tries = 0; tries < 0x100000; ++tries) {
    std::string name = absl::StrFormat("%c%05x", '\0', next);
    next = (next + 1) & 0xfffff;
    auto it = Abstract().find(name);
    if (it != Abstract().end() && !it->second.expired()) continue;
    Abstract()[name] = ep_;
    ep_->name = name;
    return {};
  }
  return Err(ENOSPC);
}

Result<std::shared_ptr<Endpoint>> LookupAbstract(const std::string& name) {
  absl::MutexLock lock(&Mu());
  auto it = Abstract().find(name);
  if (it == Abstract().end()) return Err(ECONNREFUSED);
  return Live(it->second.lock());
}

Result<std::shared_ptr<Endpoint>> LookupPath(dev_t dev, ino_t ino) {
  absl::MutexLock lock(&Mu());
  auto it = Paths().find({dev, ino});
  if (it == Paths().end()) return Err(ECONNREFUSED);
  return Live(it->second.lock());
}

}  // namespace usock
