#include "sentry/vfs/host_poller.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>
#include <system_error>

#include "base/log.h"

namespace vfs {

base::Result<std::unique_ptr<HostPoller>> HostPoller::Create() {
  base::UniqueFd epoll(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll) return base::Err(errno);
  base::UniqueFd wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake) return base::Err(errno);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = wake.get();
  if (::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, wake.get(), &ev) != 0)
    return base::Err(errno);
  std::unique_ptr<HostPoller> p(
      new HostPoller(std::move(epoll), std::move(wake)));
  try {
    p->thread_ = std::thread([raw = p.get()] { raw->Loop(); });
  } catch (const std::system_error& e) {
    return base::Err(e.code().value());
  }
  return p;
}

HostPoller* HostPoller::Default() {
  static HostPoller* const poller = []() -> HostPoller* {
    auto p = Create();
    if (!p) {
      LOG(Error) << "host poller: " << base::ErrnoName(p.error().value)
                 << "; waits for host fds will not wake";
      return nullptr;
    }
    return p->release();
  }();
  return poller;
}

HostPoller::~HostPoller() {
  const uint64_t one = 1;
  (void)!::write(wake_.get(), &one, sizeof one);
  if (thread_.joinable()) thread_.join();
}

base::Result<void> HostPoller::Watch(int fd, waiter::Queue* queue) {
  absl::MutexLock lock(&mu_);
  auto [it, inserted] = watched_.try_emplace(fd, Watched{queue, 0});
  if (inserted) {
    epoll_event ev{};
    // Every readiness bit, so a waiter asking only for POLLRDNORM (say)
    // hears about it too.
    ev.events = EPOLLIN | EPOLLRDNORM | EPOLLRDBAND | EPOLLOUT | EPOLLWRNORM |
                EPOLLWRBAND | EPOLLPRI | EPOLLRDHUP | EPOLLET;
    ev.data.fd = fd;
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) {
      const int err = errno;
      watched_.erase(it);
      return base::Err(err);
    }
  }
  ++it->second.count;
  return {};
}

void HostPoller::Unwatch(int fd) {
  absl::MutexLock lock(&mu_);
  auto it = watched_.find(fd);
  if (it == watched_.end() || --it->second.count > 0) return;
  // Still open (its description is alive), so DEL cannot fail usefully.
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
  watched_.erase(it);
}

void HostPoller::Loop() {
  epoll_event events[64];
  for (;;) {
    const int n = ::epoll_wait(epoll_.get(), events, 64, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      LOG(Error) << "host poller: epoll_wait: " << base::ErrnoName(errno);
      return;
    }
    absl::MutexLock lock(&mu_);
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == wake_.get()) return;
      // An event may outlive its Unwatch (or find a new file on a reused
      // number): the first is dropped, the second a harmless extra wakeup.
      auto it = watched_.find(fd);
      if (it != watched_.end()) it->second.queue->Notify(events[i].events);
    }
  }
}

}  // namespace vfs
