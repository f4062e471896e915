#include "sentry/vfs/host_io.h"

#include <limits.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace vfs {

base::Result<size_t> HostIo(HostIoOp op, int fd, std::span<const iovec> iov,
                            int64_t offset) {
  const int n = static_cast<int>(std::min<size_t>(iov.size(), IOV_MAX));
  for (;;) {
    ssize_t r;
    if (op == HostIoOp::kRead) {
      r = offset < 0 ? ::readv(fd, iov.data(), n)
                     : ::preadv(fd, iov.data(), n, offset);
    } else {
      r = offset < 0 ? ::writev(fd, iov.data(), n)
                     : ::pwritev(fd, iov.data(), n, offset);
    }
    if (r >= 0) return static_cast<size_t>(r);
    if (errno != EINTR) return base::Err(errno);
  }
}

base::Result<size_t> HostPreadFull(int fd, std::span<const iovec> iov,
                                   int64_t offset) {
  size_t total = 0;
  while (!iov.empty()) {
    const auto batch = iov.first(std::min<size_t>(iov.size(), IOV_MAX));
    size_t want = 0;
    for (const iovec& v : batch) want += v.iov_len;
    auto n = HostIo(HostIoOp::kRead, fd, batch, offset + total);
    if (!n.has_value()) {
      if (total > 0) return total;  // report what was read, as Linux does
      return n;
    }
    total += *n;
    if (*n < want) break;
    iov = iov.subspan(batch.size());
  }
  return total;
}

}  // namespace vfs
