// Reads and writes on host fds with iovecs, for the files the sentry
// serves from the host (host_fs.cc, host_fd.cc).
#ifndef SENTRY_VFS_HOST_IO_H_
#define SENTRY_VFS_HOST_IO_H_

#include <sys/uio.h>

#include <cstdint>
#include <span>

#include "base/result.h"

namespace vfs {

enum class HostIoOp { kRead, kWrite };

// One readv/writev (offset < 0: at the host fd's own offset) or
// preadv/pwritev of at most IOV_MAX iovecs, retrying EINTR. The count may
// be short, as the host's.
base::Result<size_t> HostIo(HostIoOp op, int fd, std::span<const iovec> iov,
                            int64_t offset);

// preadv at `offset` over all of `iov`, batch after batch, until a short
// read: for regular files, where only EOF makes a read short.
base::Result<size_t> HostPreadFull(int fd, std::span<const iovec> iov,
                                   int64_t offset);

}  // namespace vfs

#endif  // SENTRY_VFS_HOST_IO_H_
