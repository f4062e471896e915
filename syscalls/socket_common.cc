// Helpers of the socket syscalls (socket.h).
#include <optional>

#include "syscalls/socket.h"

namespace syscalls {

Result<SocketPtr> SocketOf(Task& t, Fd fd) {
  FilePtr f = TRY(GetFile(t, fd));
  auto s = std::dynamic_pointer_cast<usock::UnixSocket>(f);
  if (!s) return Err(ENOTSOCK);
  return s;
}

usock::Ucred CurrentCreds(Task& t) {
  const kernel::Credentials c = t.creds();
  return {t.thread_group().pid(), c.ruid, c.rgid};
}

usock::Ucred PeerCreds(Task& t) {
  const kernel::Credentials c = t.creds();
  return {t.thread_group().pid(), c.euid, c.egid};
}

Result<std::string> CopyInSockaddr(Task& t, uint64_t addr, int len) {
  if (len < 0 || static_cast<size_t>(len) > sizeof(sockaddr_storage))
    return Err(EINVAL);
  std::string sa(len, '\0');
  if (len > 0) TRY(t.mm().CopyIn(addr, sa.data(), len));
  return sa;
}

Result<std::string> UnixName(const std::string& sa) {
  constexpr size_t kPathOff = offsetof(sockaddr_un, sun_path);
  if (sa.size() <= kPathOff || sa.size() > sizeof(sockaddr_un))
    return Err(EINVAL);
  sa_family_t family;
  memcpy(&family, sa.data(), sizeof family);
  if (family != AF_UNIX) return Err(EINVAL);
  std::string name = sa.substr(kPathOff);
  if (name[0] == '\0') return name;  // abstract: every byte counts
  return name.substr(0, name.find('\0'));
}

Result<std::shared_ptr<usock::Endpoint>> ResolveName(Task& t,
                                                     const std::string& name,
                                                     int type) {
  if (name[0] == '\0') {
    auto ep = TRY(usock::LookupAbstract(name));
    // Linux keys abstract names by type too: another type is no one.
    if (!usock::CheckType(ep, type)) return Err(ECONNREFUSED);
    return ep;
  }
  const vfs::PathContext ctx = TRY(t.PathContextAt(AT_FDCWD));
  vfs::Vfs& fs = t.kernel().vfs();
  const struct stat st = TRY(fs.Stat(ctx, name, /*follow=*/true));
  if (!S_ISSOCK(st.st_mode)) return Err(ECONNREFUSED);
  const kernel::Credentials c = t.creds();
  TRY(fs.Access(ctx, name, W_OK, /*follow=*/true, c.fsuid, c.fsgid));
  auto ep = TRY(usock::LookupPath(st.st_dev, st.st_ino));
  TRY(usock::CheckType(ep, type));
  return ep;
}

Result<void> CopyOutName(Task& t, const std::string& name, uint64_t addr,
                         uint64_t lenp, bool unnamed_empty) {
  int len = 0;
  TRY(t.mm().CopyIn(lenp, &len, sizeof len));
  if (len < 0) return Err(EINVAL);
  const size_t klen =
      name.empty() && unnamed_empty ? 0 : usock::AddressLength(name);
  std::string sa(usock::AddressLength(name), '\0');
  const sa_family_t family = AF_UNIX;
  memcpy(sa.data(), &family, sizeof family);
  memcpy(sa.data() + sizeof family, name.data(), name.size());
  const size_t n = std::min<size_t>(len, klen);
  if (n > 0) TRY(t.mm().CopyOut(addr, sa.data(), n));
  const int out = static_cast<int>(klen);
  return t.mm().CopyOut(lenp, &out, sizeof out);
}

namespace {

// A task's registration on one endpoint's queue, undone when it goes.
class QueueWait {
 public:
  QueueWait(Task& t, std::shared_ptr<usock::Endpoint> ep, uint64_t events)
      : ep_(std::move(ep)), entry_(t, events) {
    usock::QueueOf(*ep_).Register(&entry_);
  }
  ~QueueWait() { usock::QueueOf(*ep_).Unregister(&entry_); }
  bool same(const usock::WaitOn& w) const {
    return w.ep == ep_ && w.events == entry_.mask();
  }
  Task::WaitEntry& entry() { return entry_; }

 private:
  std::shared_ptr<usock::Endpoint> ep_;
  Task::WaitEntry entry_;
};

}  // namespace

Result<size_t> SocketBlock(Task& t, bool nonblocking, absl::Duration timeout,
                           SocketAttempt<size_t> attempt) {
  const bool timed = timeout > absl::ZeroDuration();
  const absl::Time deadline =
      timed ? absl::Now() + timeout : absl::InfiniteFuture();
  std::optional<QueueWait> waiting;
  for (;;) {
    usock::WaitOn w;
    Result<size_t> r = attempt(w);
    if (r || r.error().value != EAGAIN || nonblocking || !w.ep) return r;
    if (!waiting || !waiting->same(w)) {
      // Registered first, then tried again: no wakeup is lost between.
      waiting.reset();
      waiting.emplace(t, w.ep, w.events);
      continue;
    }
    Task::WakeReason why = t.Block(deadline, &waiting->entry().ready);
    waiting->entry().ready.store(false);
    if (why == Task::WakeReason::kInterrupted)
      return Err(timed ? EINTR : base::kERESTARTSYS);
    if (why == Task::WakeReason::kTimeout) return Err(EAGAIN);
  }
}

}  // namespace syscalls
