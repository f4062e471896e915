// IovCursor: copies between flat memory and a list of iovecs, front to
// back, so that one transfer can span iovecs (pipes, inotify's events).
#ifndef SENTRY_VFS_IOV_CURSOR_H_
#define SENTRY_VFS_IOV_CURSOR_H_

#include <sys/uio.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <span>

namespace vfs {

// Walks a list of iovecs front to back, copying to or from flat memory,
// so a transfer can span iovecs (and a pipe's slots) independently.
class IovCursor {
 public:
  explicit IovCursor(std::span<const iovec> iov) : iov_(iov) {}
  // From the iovecs into `p`.
  void Gather(uint8_t* p, size_t n) { Move(p, n, false); }
  // From `p` into the iovecs.
  void Scatter(const uint8_t* p, size_t n) {
    Move(const_cast<uint8_t*>(p), n, true);
  }

 private:
  void Move(uint8_t* p, size_t n, bool to_iov) {
    while (n > 0) {
      const iovec& v = iov_[i_];
      const size_t chunk = std::min(n, v.iov_len - off_);
      uint8_t* base = static_cast<uint8_t*>(v.iov_base) + off_;
      if (to_iov)
        std::memcpy(base, p, chunk);
      else
        std::memcpy(p, base, chunk);
      p += chunk;
      n -= chunk;
      off_ += chunk;
      if (off_ == v.iov_len) {
        ++i_;
        off_ = 0;
      }
    }
  }

  std::span<const iovec> iov_;
  size_t i_ = 0;
  size_t off_ = 0;
};

}  // namespace vfs

#endif  // SENTRY_VFS_IOV_CURSOR_H_
