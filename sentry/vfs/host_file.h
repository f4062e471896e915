// Open descriptions of host files the sentry was handed: regular files and
// directories of the root's lower layer, whether the sentry opened them
// itself (host_fs.cc, for unit tests) or the gofer donated the fd
// (sentry/fs/gofer). Reads are preads at an offset of our own; directory
// listings are the host's getdents64 records, passed through.
#ifndef SENTRY_VFS_HOST_FILE_H_
#define SENTRY_VFS_HOST_FILE_H_

#include <sys/stat.h>

#include <memory>
#include <string>

#include "base/result.h"
#include "base/unique_fd.h"
#include "sentry/vfs/file_description.h"

namespace vfs {

// fstat(2) of a host fd.
base::Result<struct stat> FstatHostFd(int fd);

// `fd` is an open regular file (read-only: the lower layer is never
// written), `path` the sandbox path of the description.
std::shared_ptr<FileDescription> MakeHostFileDescription(int flags,
                                                         base::UniqueFd fd,
                                                         std::string path);
// `fd` is an open directory; its host offset is the listing position.
std::shared_ptr<FileDescription> MakeHostDirDescription(int flags,
                                                        base::UniqueFd fd,
                                                        std::string path);

}  // namespace vfs

#endif  // SENTRY_VFS_HOST_FILE_H_
