// eventfd(2): a 64-bit counter that read(2) takes and write(2) adds to,
// with poll readiness, as Linux's fs/eventfd.c.
//
// Lock order: EventFd::mu_ -> the waiter queue's.
#ifndef SENTRY_EVENT_EVENTFD_H_
#define SENTRY_EVENT_EVENTFD_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "sentry/vfs/file_description.h"

namespace event {

// The largest value the counter can hold: a write that would pass it
// waits (or fails with EAGAIN); 0xffffffffffffffff itself is EINVAL.
inline constexpr uint64_t kEventFdMax = 0xfffffffffffffffe;

class EventFd final : public vfs::FileDescription {
 public:
  // `flags`: O_NONBLOCK only (O_CLOEXEC belongs to the fd); the
  // description is O_RDWR, as Linux's.
  static std::shared_ptr<EventFd> Create(uint64_t initval, bool semaphore,
                                         int flags);

  // Reads 8 bytes: the counter (then 0), or 1 with EFD_SEMAPHORE (the
  // counter less one); EAGAIN while it is 0; EINVAL for fewer than 8.
  base::Result<size_t> Read(std::span<const iovec> dst) override;
  // Adds the 8-byte value read from `src`: EINVAL for any other size
  // or for 0xffffffffffffffff; EAGAIN while the sum would pass
  // kEventFdMax.
  base::Result<size_t> Write(std::span<const iovec> src) override;
  bool single_write() const override { return true; }
  base::Result<struct stat> Stat() override;
  // lseek(2) succeeds and moves nothing (Linux's noop_llseek).
  base::Result<int64_t> Seek(int64_t, int) override { return 0; }
  uint64_t Readiness(uint64_t mask) override;
  void EventRegister(waiter::Entry* e) override { queue_.Register(e); }
  bool pollable() const override { return true; }
  void EventUnregister(waiter::Entry* e) override { queue_.Unregister(e); }
  std::string path() const override { return "anon_inode:[eventfd]"; }
  std::string FdInfo() override;

 private:
  EventFd(uint64_t initval, bool semaphore, int flags, int id)
      : FileDescription(flags),
        semaphore_(semaphore),
        id_(id),
        count_(initval) {}

  const bool semaphore_;
  const int id_;  // eventfd-id in fdinfo
  waiter::Queue queue_;
  absl::Mutex mu_;
  uint64_t count_ ABSL_GUARDED_BY(mu_);
};

}  // namespace event

#endif  // SENTRY_EVENT_EVENTFD_H_
