// Test-only FileDescriptions: a byte vector, and a host file by path.
#ifndef SENTRY_MM_FAKE_FILE_H_
#define SENTRY_MM_FAKE_FILE_H_

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "base/unique_fd.h"
#include "sentry/vfs/file_description.h"

namespace mm::testing {

// Serves `data` through PRead; mappable unless told otherwise.
class VectorFile : public vfs::FileDescription {
 public:
  explicit VectorFile(std::vector<uint8_t> data, int flags = O_RDONLY,
                      vfs::MmapKind kind = vfs::MmapKind::kFile)
      : FileDescription(flags), data(std::move(data)), kind_(kind) {}

  base::Result<size_t> PRead(std::span<const iovec> dst,
                             int64_t offset) override {
    ++preads;
    if (offset < 0) return base::Err(EINVAL);
    size_t done = 0;
    for (const iovec& v : dst) {
      uint64_t at = static_cast<uint64_t>(offset) + done;
      if (at >= data.size()) break;
      size_t n = std::min<uint64_t>(v.iov_len, data.size() - at);
      memcpy(v.iov_base, data.data() + at, n);
      done += n;
      if (n < v.iov_len) break;
    }
    return done;
  }
  base::Result<struct stat> Stat() override {
    struct stat st {};
    st.st_mode = S_IFREG | 0755;
    st.st_size = static_cast<off_t>(data.size());
    return st;
  }
  vfs::MmapKind mmap_kind() const override { return kind_; }
  std::string path() const override { return "/vector"; }

  std::vector<uint8_t> data;
  int preads = 0;

 private:
  vfs::MmapKind kind_;
};

// A host file opened read-only (for loading real binaries in tests).
class HostFile : public vfs::FileDescription {
 public:
  static std::shared_ptr<HostFile> Open(const std::string& path) {
    base::UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return nullptr;
    return std::make_shared<HostFile>(std::move(fd), path);
  }
  HostFile(base::UniqueFd fd, std::string path)
      : FileDescription(O_RDONLY), fd_(std::move(fd)), path_(std::move(path)) {}

  base::Result<size_t> PRead(std::span<const iovec> dst,
                             int64_t offset) override {
    ssize_t n =
        preadv(fd_.get(), dst.data(), static_cast<int>(dst.size()), offset);
    if (n < 0) return base::Err(errno);
    return static_cast<size_t>(n);
  }
  base::Result<struct stat> Stat() override {
    struct stat st;
    if (fstat(fd_.get(), &st) != 0) return base::Err(errno);
    return st;
  }
  vfs::MmapKind mmap_kind() const override { return vfs::MmapKind::kFile; }
  std::string path() const override { return path_; }

 private:
  base::UniqueFd fd_;
  std::string path_;
};

}  // namespace mm::testing

#endif  // SENTRY_MM_FAKE_FILE_H_
