#include "sentry/vfs/devfs.h"

#include <dirent.h>
#include <sys/random.h>
#include <sys/sysmacros.h>

#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "sentry/vfs/synthetic.h"

namespace vfs {
namespace {

enum class Device { kNull, kZero, kFull, kRandom, kURandom };

struct DeviceInfo {
  const char* name;
  Device device;
  unsigned minor;  // major is 1 ("mem") for all of them
};
constexpr DeviceInfo kDevices[] = {
    {"null", Device::kNull, 3},       {"zero", Device::kZero, 5},
    {"full", Device::kFull, 7},       {"random", Device::kRandom, 8},
    {"urandom", Device::kURandom, 9},
};

struct LinkInfo {
  const char* name;
  const char* target;
};
constexpr LinkInfo kLinks[] = {
    {"fd", "/proc/self/fd"},
    {"stdin", "/proc/self/fd/0"},
    {"stdout", "/proc/self/fd/1"},
    {"stderr", "/proc/self/fd/2"},
};

constexpr uint64_t kRootIno = 1;

size_t TotalLength(std::span<const iovec> iov) {
  size_t total = 0;
  for (const iovec& v : iov) total += v.iov_len;
  return total;
}

size_t FillZero(std::span<const iovec> dst) {
  for (const iovec& v : dst) std::memset(v.iov_base, 0, v.iov_len);
  return TotalLength(dst);
}

// Both random devices read the host's CSPRNG (getrandom without flags
// blocks only until the host pool is first seeded).
base::Result<size_t> FillRandom(std::span<const iovec> dst) {
  size_t total = 0;
  for (const iovec& v : dst) {
    auto* p = static_cast<uint8_t*>(v.iov_base);
    for (size_t done = 0; done < v.iov_len;) {
      const ssize_t n = ::getrandom(p + done, v.iov_len - done, 0);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (total + done > 0) return total + done;
        return base::Err(errno);
      }
      done += n;
    }
    total += v.iov_len;
  }
  return total;
}

class DeviceDescription : public FileDescription {
 public:
  DeviceDescription(int flags, Device device, std::shared_ptr<Node> node,
                    std::string path)
      : FileDescription(flags),
        device_(device),
        node_(std::move(node)),
        path_(std::move(path)) {}

  base::Result<size_t> Read(std::span<const iovec> dst) override {
    switch (device_) {
      case Device::kNull:
        return 0;
      case Device::kZero:
      case Device::kFull:
        return FillZero(dst);
      case Device::kRandom:
      case Device::kURandom:
        return FillRandom(dst);
    }
    return base::Err(EINVAL);
  }
  base::Result<size_t> Write(std::span<const iovec> src) override {
    if (device_ == Device::kFull) return base::Err(ENOSPC);
    return TotalLength(src);  // consumed (Linux credits random's pool)
  }
  // These devices have no position: pread/pwrite act as read/write, and
  // every seek lands on 0, as Linux's null_lseek.
  base::Result<size_t> PRead(std::span<const iovec> dst,
                             int64_t offset) override {
    return Read(dst);
  }
  base::Result<size_t> PWrite(std::span<const iovec> src,
                              int64_t offset) override {
    return Write(src);
  }
  base::Result<int64_t> Seek(int64_t offset, int whence) override { return 0; }
  base::Result<struct stat> Stat() override { return node_->Stat(); }
  MmapKind mmap_kind() const override {
    return device_ == Device::kZero ? MmapKind::kAnonymous
                                    : MmapKind::kNotMappable;
  }
  bool ignores_write_data() const override {
    return device_ == Device::kNull || device_ == Device::kZero;
  }
  std::string path() const override { return path_; }

 private:
  const Device device_;
  const std::shared_ptr<Node> node_;
  const std::string path_;
};

class DeviceNode : public Node,
                   public std::enable_shared_from_this<DeviceNode> {
 public:
  DeviceNode(const DeviceInfo& info, uint64_t ino) : info_(info), ino_(ino) {}
  mode_t type() const override { return S_IFCHR; }
  base::Result<struct stat> Stat() const override {
    return SyntheticStat(kDevfsMinor, ino_, S_IFCHR | 0666, 0,
                         makedev(1, info_.minor));
  }
  base::Result<std::shared_ptr<FileDescription>> Open(
      int flags, const std::string& path) override {
    return std::make_shared<DeviceDescription>(flags, info_.device,
                                               shared_from_this(), path);
  }

 private:
  const DeviceInfo info_;
  const uint64_t ino_;
};

class DevDirNode : public Node,
                   public std::enable_shared_from_this<DevDirNode> {
 public:
  DevDirNode() {
    uint64_t ino = kRootIno + 1;
    for (const DeviceInfo& d : kDevices) {
      children_.emplace_back(d.name, std::make_shared<DeviceNode>(d, ino++));
    }
    for (const LinkInfo& l : kLinks) {
      children_.emplace_back(
          l.name, std::make_shared<SymlinkNode>(kDevfsMinor, ino++, l.target,
                                                std::strlen(l.target)));
    }
  }

  mode_t type() const override { return S_IFDIR; }
  base::Result<struct stat> Stat() const override {
    return SyntheticStat(kDevfsMinor, kRootIno, S_IFDIR | 0755);
  }
  base::Result<std::shared_ptr<Node>> Lookup(std::string_view name) override {
    for (const auto& [child_name, node] : children_) {
      if (child_name == name) return node;
    }
    return base::Err(ENOENT);
  }
  base::Result<std::shared_ptr<FileDescription>> Open(
      int flags, const std::string& path) override {
    // ".." is the host root's; its number is not worth a lookup.
    std::vector<DirEntry> entries = {{kRootIno, DT_DIR, "."},
                                     {kRootIno, DT_DIR, ".."}};
    for (const auto& [name, node] : children_) {
      const uint64_t ino = TRY(node->Stat()).st_ino;
      entries.push_back(
          {ino, static_cast<uint8_t>(IFTODT(node->type())), name});
    }
    return std::make_shared<SyntheticDirDescription>(flags, shared_from_this(),
                                                     path, std::move(entries));
  }

 private:
  std::vector<std::pair<std::string, std::shared_ptr<Node>>> children_;
};

}  // namespace

DevFs::DevFs() : root_(std::make_shared<DevDirNode>()) {}

}  // namespace vfs
