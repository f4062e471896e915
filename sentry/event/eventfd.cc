#include "sentry/event/eventfd.h"

#include <sys/epoll.h>
#include <sys/sysmacros.h>

#include <atomic>

#include "absl/strings/str_format.h"
#include "sentry/vfs/anon_inode.h"
#include "sentry/vfs/iov_cursor.h"

namespace event {
namespace {

size_t TotalLen(std::span<const iovec> iov) {
  size_t n = 0;
  for (const iovec& v : iov) n += v.iov_len;
  return n;
}

}  // namespace

std::shared_ptr<EventFd> EventFd::Create(uint64_t initval, bool semaphore,
                                         int flags) {
  // Linux numbers its eventfds from an IDA; ours only increase.
  static std::atomic<int> next_id{0};
  return std::shared_ptr<EventFd>(
      new EventFd(initval, semaphore, O_RDWR | (flags & O_NONBLOCK),
                  next_id.fetch_add(1)));
}

base::Result<size_t> EventFd::Read(std::span<const iovec> dst) {
  if (TotalLen(dst) < sizeof(uint64_t)) return base::Err(EINVAL);
  uint64_t value;
  {
    absl::MutexLock lock(&mu_);
    if (count_ == 0) return base::Err(EAGAIN);
    value = semaphore_ ? 1 : count_;
    count_ -= value;
    // Room to write now: writers blocked at the ceiling go on.
    queue_.Notify(EPOLLOUT | EPOLLWRNORM);
  }
  vfs::IovCursor(dst).Scatter(reinterpret_cast<const uint8_t*>(&value),
                              sizeof value);
  return sizeof value;
}

base::Result<size_t> EventFd::Write(std::span<const iovec> src) {
  if (TotalLen(src) != sizeof(uint64_t)) return base::Err(EINVAL);
  uint64_t value;
  vfs::IovCursor(src).Gather(reinterpret_cast<uint8_t*>(&value), sizeof value);
  if (value == UINT64_MAX) return base::Err(EINVAL);
  absl::MutexLock lock(&mu_);
  if (value > kEventFdMax - count_) return base::Err(EAGAIN);
  count_ += value;
  if (count_ > 0) queue_.Notify(EPOLLIN | EPOLLRDNORM);
  return sizeof value;
}

base::Result<struct stat> EventFd::Stat() { return vfs::AnonInodeStat(); }

uint64_t EventFd::Readiness(uint64_t mask) {
  absl::MutexLock lock(&mu_);
  uint64_t ready = 0;
  if (count_ > 0) ready |= EPOLLIN | EPOLLRDNORM;
  // Linux's eventfd_poll: EPOLLERR once the counter is at the very top
  // (only reachable through the kernel's eventfd_signal, not write).
  if (count_ == UINT64_MAX) ready |= EPOLLERR;
  if (count_ < kEventFdMax) ready |= EPOLLOUT | EPOLLWRNORM;
  return ready & mask;
}

std::string EventFd::FdInfo() {
  absl::MutexLock lock(&mu_);
  return absl::StrFormat(
      "eventfd-count: %16x\neventfd-id: %d\neventfd-semaphore: %d\n", count_,
      id_, semaphore_ ? 1 : 0);
}

}  // namespace event
