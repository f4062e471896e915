#include "sentry/vfs/host_file.h"

#include <limits.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "sentry/vfs/host_io.h"

namespace vfs {

base::Result<struct stat> FstatHostFd(int fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return base::Err(errno);
  return st;
}

namespace {

// An open regular host file. The offset is ours (reads are preads), so
// the host fd's own offset never matters.
class HostFileDescription : public FileDescription {
 public:
  HostFileDescription(int flags, base::UniqueFd fd, std::string path)
      : FileDescription(flags), fd_(std::move(fd)), path_(std::move(path)) {}

  base::Result<size_t> Read(std::span<const iovec> dst) override {
    absl::MutexLock lock(&mu_);  // one offset update at a time, as f_pos_lock
    const size_t n = TRY(HostPreadFull(fd_.get(), dst, offset_));
    offset_ += n;
    return n;
  }
  base::Result<size_t> PRead(std::span<const iovec> dst,
                             int64_t offset) override {
    if (offset < 0) return base::Err(EINVAL);
    return HostPreadFull(fd_.get(), dst, offset);
  }
  base::Result<int64_t> Seek(int64_t offset, int whence) override {
    absl::MutexLock lock(&mu_);
    int64_t base;
    switch (whence) {
      case SEEK_SET:
        base = 0;
        break;
      case SEEK_CUR:
        base = offset_;
        break;
      case SEEK_END:
        base = TRY(FstatHostFd(fd_.get())).st_size;
        break;
      case SEEK_DATA:
      case SEEK_HOLE: {
        // The host knows where the holes are; its offset is unused.
        const off_t r = ::lseek(fd_.get(), offset, whence);
        if (r < 0) return base::Err(errno);
        return offset_ = r;
      }
      default:
        return base::Err(EINVAL);
    }
    int64_t pos;
    if (__builtin_add_overflow(base, offset, &pos) || pos < 0) {
      return base::Err(EINVAL);
    }
    return offset_ = pos;
  }
  base::Result<struct stat> Stat() override { return FstatHostFd(fd_.get()); }
  MmapKind mmap_kind() const override { return MmapKind::kFile; }
  std::string path() const override { return path_; }

 private:
  const base::UniqueFd fd_;
  const std::string path_;
  absl::Mutex mu_;
  int64_t offset_ ABSL_GUARDED_BY(mu_) = 0;
};

// An open host directory: the host's getdents64 records pass through
// unchanged (same format), and the host fd's offset is the position.
class HostDirDescription : public FileDescription {
 public:
  HostDirDescription(int flags, base::UniqueFd fd, std::string path)
      : FileDescription(flags), fd_(std::move(fd)), path_(std::move(path)) {}

  base::Result<size_t> Read(std::span<const iovec> dst) override {
    return base::Err(EISDIR);
  }
  base::Result<size_t> PRead(std::span<const iovec> dst,
                             int64_t offset) override {
    return base::Err(EISDIR);
  }
  base::Result<int64_t> Seek(int64_t offset, int whence) override {
    const off_t r = ::lseek(fd_.get(), offset, whence);
    if (r < 0) return base::Err(errno);
    return r;
  }
  base::Result<struct stat> Stat() override { return FstatHostFd(fd_.get()); }
  base::Result<size_t> Getdents64(std::span<uint8_t> buf) override {
    const size_t len = std::min<size_t>(buf.size(), INT_MAX);
    const long n = ::syscall(SYS_getdents64, fd_.get(), buf.data(), len);
    if (n < 0) return base::Err(errno);
    return static_cast<size_t>(n);
  }
  std::string path() const override { return path_; }

 private:
  const base::UniqueFd fd_;
  const std::string path_;
};

}  // namespace

std::shared_ptr<FileDescription> MakeHostFileDescription(int flags,
                                                         base::UniqueFd fd,
                                                         std::string path) {
  return std::make_shared<HostFileDescription>(flags, std::move(fd),
                                               std::move(path));
}

std::shared_ptr<FileDescription> MakeHostDirDescription(int flags,
                                                        base::UniqueFd fd,
                                                        std::string path) {
  return std::make_shared<HostDirDescription>(flags, std::move(fd),
                                              std::move(path));
}

}  // namespace vfs
