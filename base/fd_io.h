// Whole-buffer reads and writes on host fds (pipes and sockets between
// runsc's processes), retrying EINTR and short counts.
#ifndef BASE_FD_IO_H_
#define BASE_FD_IO_H_

#include <errno.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>

namespace base {

// False on an error or end of file before `n` bytes.
inline bool ReadFull(int fd, void* buf, size_t n) {
  auto* p = static_cast<uint8_t*>(buf);
  while (n > 0) {
    const ssize_t r = read(fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= r;
  }
  return true;
}

// False on an error before all `n` bytes are written.
inline bool WriteFull(int fd, const void* buf, size_t n) {
  const auto* p = static_cast<const uint8_t*>(buf);
  while (n > 0) {
    const ssize_t r = write(fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= r;
  }
  return true;
}

}  // namespace base

#endif  // BASE_FD_IO_H_
