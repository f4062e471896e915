// The app's iovec arrays, checked as Linux's import_iovec (read_write.cc,
// splice.cc).
#ifndef SYSCALLS_IOVEC_H_
#define SYSCALLS_IOVEC_H_

#include <sys/uio.h>

#include <vector>

#include "syscalls/common.h"

namespace syscalls {

// Linux caps one transfer at INT_MAX rounded down to a page.
inline constexpr size_t kMaxRwCount = 0x7ffff000;
inline constexpr int kMaxIovecs = 1024;  // UIO_MAXIOV

// The app's iovec array: EINVAL for a bad count or a total past SSIZE_MAX,
// EFAULT if unreadable; *total is the byte count.
Result<std::vector<struct iovec>> CopyInIovecs(Task& t,
                                               UserPtr<struct iovec> iov,
                                               int iovcnt, size_t* total);

// The app's iovec array as ranges, the total capped at kMaxRwCount.
Result<std::vector<mm::UserRange>> VectorRanges(Task& t,
                                                UserPtr<struct iovec> iov,
                                                int iovcnt);

}  // namespace syscalls

#endif  // SYSCALLS_IOVEC_H_
