#include "base/result.h"

#include <array>
#include <string>

namespace base {

std::string_view ErrnoName(int e) {
  switch (e) {
#define CASE(x) \
  case x:       \
    return #x;
    CASE(EPERM) CASE(ENOENT) CASE(ESRCH) CASE(EINTR) CASE(EIO) CASE(ENXIO)
    CASE(E2BIG) CASE(ENOEXEC) CASE(EBADF) CASE(ECHILD) CASE(EAGAIN)
    CASE(ENOMEM) CASE(EACCES) CASE(EFAULT) CASE(EBUSY) CASE(EEXIST)
    CASE(EXDEV) CASE(ENODEV) CASE(ENOTDIR) CASE(EISDIR) CASE(EINVAL)
    CASE(ENFILE) CASE(EMFILE) CASE(ENOTTY) CASE(EFBIG) CASE(ENOSPC)
    CASE(ESPIPE) CASE(EROFS) CASE(EMLINK) CASE(EPIPE) CASE(EDOM) CASE(ERANGE)
    CASE(EDEADLK) CASE(ENAMETOOLONG) CASE(ENOSYS) CASE(ENOTEMPTY) CASE(ELOOP)
    CASE(ENODATA) CASE(EOVERFLOW) CASE(ENOTSOCK) CASE(EOPNOTSUPP)
    CASE(ETIMEDOUT) CASE(ECONNREFUSED)
#undef CASE
    case kERESTARTSYS:
      return "ERESTARTSYS";
    case kERESTARTNOINTR:
      return "ERESTARTNOINTR";
    case kERESTARTNOHAND:
      return "ERESTARTNOHAND";
    case kERESTART_RESTARTBLOCK:
      return "ERESTART_RESTARTBLOCK";
  }
  // Unnamed codes are rare; a small ring of buffers keeps this allocation
  // free of lifetime questions for callers that log the result at once.
  thread_local std::array<std::string, 4> ring;
  thread_local size_t next = 0;
  std::string& s = ring[next++ % ring.size()];
  s = "E" + std::to_string(e);
  return s;
}

}  // namespace base
