#include "sentry/vfs/devfs.h"

#include <dirent.h>
#include <sys/random.h>
#include <sys/sysmacros.h>

#include <cstring>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "sentry/kernel/task.h"
#include "sentry/tty/devpts.h"
#include "sentry/tty/job_control.h"
#include "sentry/tty/pty.h"
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

  // Of these, only Linux's /dev/random has a poll operation (always
  // ready); epoll_ctl refuses the others with EPERM.
  bool pollable() const override {
    return device_ == Device::kRandom;
  }

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

// A terminal device: tty, console or ptmx, opened by `open`.
class TerminalNode : public Node {
 public:
  using OpenFn = std::function<base::Result<std::shared_ptr<FileDescription>>(
      int flags, const std::string& path, const struct stat& st)>;
  TerminalNode(struct stat st, OpenFn open) : st_(st), open_(std::move(open)) {}
  mode_t type() const override { return S_IFCHR; }
  base::Result<struct stat> Stat() const override { return st_; }
  base::Result<std::shared_ptr<FileDescription>> Open(
      int flags, const std::string& path) override {
    return open_(flags, path, st_);
  }

 private:
  const struct stat st_;
  const OpenFn open_;
};

// A mount point's directory as devfs itself lists it (the walker crosses
// into the mounted filesystem before it would look here).
class MountPointNode : public Node {
 public:
  explicit MountPointNode(uint64_t ino) : ino_(ino) {}
  mode_t type() const override { return S_IFDIR; }
  base::Result<struct stat> Stat() const override {
    return SyntheticStat(kDevfsMinor, ino_, S_IFDIR | 0755);
  }
  base::Result<std::shared_ptr<FileDescription>> Open(
      int flags, const std::string& path) override {
    return base::Err(ENOENT);
  }

 private:
  const uint64_t ino_;
};

// Terminal devices after the others, so existing numbers stay.
constexpr struct {
  const char* name;
  unsigned minor;
  mode_t mode;
} kTerminals[] = {{"tty", 0, 0666}, {"console", 1, 0600}, {"ptmx", 2, 0666}};
constexpr const char* kMountPoints[] = {"pts", "shm"};

kernel::Task* TaskOf(const ProcessView* process) {
  return process ? process->task() : nullptr;
}

}  // namespace

struct DevFs::Children {
  std::vector<std::pair<std::string, std::shared_ptr<Node>>> fixed;
  uint64_t terminal_ino[3];
};

namespace {

class DevDirNode : public Node,
                   public std::enable_shared_from_this<DevDirNode> {
 public:
  DevDirNode(std::shared_ptr<const DevFs::Children> children,
             tty::DevPtsFs* devpts, const ProcessView* process)
      : children_(std::move(children)), devpts_(devpts), process_(process) {}

  mode_t type() const override { return S_IFDIR; }
  base::Result<struct stat> Stat() const override {
    return SyntheticStat(kDevfsMinor, kRootIno, S_IFDIR | 0755);
  }
  base::Result<std::shared_ptr<Node>> Lookup(std::string_view name) override {
    for (size_t i = 0; i < std::size(kTerminals); ++i) {
      if (name == kTerminals[i].name) return TerminalChild(i);
    }
    for (const auto& [child_name, node] : children_->fixed) {
      if (child_name == name) return node;
    }
    return base::Err(ENOENT);
  }
  base::Result<std::shared_ptr<FileDescription>> Open(
      int flags, const std::string& path) override {
    // ".." is the host root's; its number is not worth a lookup.
    std::vector<DirEntry> entries = {{kRootIno, DT_DIR, "."},
                                     {kRootIno, DT_DIR, ".."}};
    for (const auto& [name, node] : children_->fixed) {
      const uint64_t ino = TRY(node->Stat()).st_ino;
      entries.push_back(
          {ino, static_cast<uint8_t>(IFTODT(node->type())), name});
    }
    for (size_t i = 0; i < std::size(kTerminals); ++i) {
      entries.push_back(
          {children_->terminal_ino[i], DT_CHR, kTerminals[i].name});
    }
    return std::make_shared<SyntheticDirDescription>(flags, shared_from_this(),
                                                     path, std::move(entries));
  }

 private:
  std::shared_ptr<Node> TerminalChild(size_t i) {
    const struct stat st = SyntheticStat(
        kDevfsMinor, children_->terminal_ino[i], S_IFCHR | kTerminals[i].mode,
        0, makedev(5, kTerminals[i].minor));
    kernel::Task* task = TaskOf(process_);
    kernel::Kernel* k = task ? &task->kernel() : nullptr;
    tty::DevPtsFs* devpts = devpts_;
    TerminalNode::OpenFn open;
    switch (kTerminals[i].minor) {
      case 0:  // tty: the caller's controlling terminal
        open = [task, k](int flags, const std::string& path,
                         const struct stat& st)
            -> base::Result<std::shared_ptr<FileDescription>> {
          auto term = task ? tty::ControllingTerminal(*task) : nullptr;
          if (!term) return base::Err(ENXIO);
          return tty::NewReplica(term, k, flags, st, path);
        };
        break;
      case 1:  // console
        open = [devpts, k](int flags, const std::string& path,
                           const struct stat& st)
            -> base::Result<std::shared_ptr<FileDescription>> {
          auto term = devpts->console();
          if (!term) return base::Err(ENODEV);
          return tty::NewReplica(term, k, flags, st, path);
        };
        break;
      default:  // ptmx
        open = [devpts, k, task](int flags, const std::string& path,
                                 const struct stat& st) {
          const uint32_t uid = task ? task->creds().fsuid : 0;
          return devpts->OpenMaster(k, uid, flags, st, path);
        };
        break;
    }
    return std::make_shared<TerminalNode>(st, std::move(open));
  }

  const std::shared_ptr<const DevFs::Children> children_;
  tty::DevPtsFs* const devpts_;
  const ProcessView* const process_;  // valid during the walk only
};

std::shared_ptr<const DevFs::Children> MakeChildren() {
  auto c = std::make_shared<DevFs::Children>();
  uint64_t ino = kRootIno + 1;
  for (const DeviceInfo& d : kDevices) {
    c->fixed.emplace_back(d.name, std::make_shared<DeviceNode>(d, ino++));
  }
  for (const LinkInfo& l : kLinks) {
    c->fixed.emplace_back(
        l.name, std::make_shared<SymlinkNode>(kDevfsMinor, ino++, l.target,
                                              std::strlen(l.target)));
  }
  for (uint64_t& t : c->terminal_ino) t = ino++;
  for (const char* name : kMountPoints) {
    c->fixed.emplace_back(name, std::make_shared<MountPointNode>(ino++));
  }
  return c;
}

}  // namespace

DevFs::DevFs(tty::DevPtsFs* devpts)
    : devpts_(devpts), children_(MakeChildren()) {}

std::shared_ptr<Node> DevFs::Root(const PathContext& ctx) {
  return std::make_shared<DevDirNode>(children_, devpts_, ctx.process);
}

}  // namespace vfs
