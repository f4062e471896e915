#include "syscalls/iovec.h"

#include <climits>

namespace syscalls {

Result<std::vector<struct iovec>> CopyInIovecs(Task& t,
                                               UserPtr<struct iovec> iov,
                                               int iovcnt, size_t* total) {
  if (iovcnt < 0 || iovcnt > kMaxIovecs) return Err(EINVAL);
  std::vector<struct iovec> user(iovcnt);
  TRY(t.mm().CopyIn(iov.addr, user.data(), user.size() * sizeof(iovec)));
  *total = 0;
  for (const auto& v : user) {
    if (v.iov_len > static_cast<size_t>(SSIZE_MAX) ||
        __builtin_add_overflow(*total, v.iov_len, total) ||
        *total > static_cast<size_t>(SSIZE_MAX))
      return Err(EINVAL);
  }
  return user;
}

Result<std::vector<mm::UserRange>> VectorRanges(Task& t,
                                                UserPtr<struct iovec> iov,
                                                int iovcnt) {
  size_t total;
  std::vector<struct iovec> user = TRY(CopyInIovecs(t, iov, iovcnt, &total));
  std::vector<mm::UserRange> out;
  size_t left = kMaxRwCount;
  for (const auto& v : user) {
    if (left == 0) break;
    size_t len = v.iov_len < left ? v.iov_len : left;
    if (len == 0) continue;
    out.push_back({reinterpret_cast<uint64_t>(v.iov_base), len});
    left -= len;
  }
  return out;
}

}  // namespace syscalls
