#include "sentry/vfs/sysfs.h"

#include <dirent.h>
#include <sched.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "sentry/vfs/synthetic.h"

namespace vfs {
namespace {

// A read-only file whose contents are fixed when sysfs is made.
class TextDescription : public FileDescription {
 public:
  TextDescription(int flags, std::shared_ptr<Node> node, std::string path,
                  const std::string& text)
      : FileDescription(flags),
        node_(std::move(node)),
        path_(std::move(path)),
        text_(text) {}

  base::Result<size_t> Read(std::span<const iovec> dst) override {
    absl::MutexLock lock(&mu_);
    const size_t n = TRY(PRead(dst, offset_));
    offset_ += n;
    return n;
  }
  base::Result<size_t> PRead(std::span<const iovec> dst,
                             int64_t offset) override {
    if (offset < 0) return base::Err(EINVAL);
    size_t pos = std::min(static_cast<size_t>(offset), text_.size());
    size_t done = 0;
    for (const iovec& v : dst) {
      const size_t n = std::min(v.iov_len, text_.size() - pos);
      text_.copy(static_cast<char*>(v.iov_base), n, pos);
      pos += n;
      done += n;
      if (n < v.iov_len) break;
    }
    return done;
  }
  base::Result<int64_t> Seek(int64_t offset, int whence) override {
    absl::MutexLock lock(&mu_);
    int64_t base;
    switch (whence) {
      case SEEK_SET: base = 0; break;
      case SEEK_CUR: base = offset_; break;
      case SEEK_END: base = static_cast<int64_t>(text_.size()); break;
      default: return base::Err(EINVAL);
    }
    int64_t pos;
    if (__builtin_add_overflow(base, offset, &pos) || pos < 0)
      return base::Err(EINVAL);
    offset_ = pos;
    return pos;
  }
  base::Result<struct stat> Stat() override { return node_->Stat(); }
  std::string path() const override { return path_; }

 private:
  const std::shared_ptr<Node> node_;
  const std::string path_;
  const std::string text_;
  absl::Mutex mu_;
  int64_t offset_ ABSL_GUARDED_BY(mu_) = 0;
};

class SysNode : public Node, public std::enable_shared_from_this<SysNode> {
 public:
  // A directory (children may be added until the tree is done).
  explicit SysNode(uint64_t ino) : ino_(ino), dir_(true) {}
  // A file.
  SysNode(uint64_t ino, std::string text)
      : ino_(ino), dir_(false), text_(std::move(text)) {}

  void Add(std::string name, std::shared_ptr<SysNode> child) {
    children_.emplace_back(std::move(name), std::move(child));
  }

  mode_t type() const override { return dir_ ? S_IFDIR : S_IFREG; }
  base::Result<struct stat> Stat() const override {
    // sysfs shows a page as the size of every attribute file.
    return SyntheticStat(kSysfsMinor, ino_,
                         dir_ ? S_IFDIR | 0755 : S_IFREG | 0444,
                         dir_ ? 0 : 4096);
  }
  base::Result<std::shared_ptr<Node>> Lookup(std::string_view name) override {
    if (!dir_) return base::Err(ENOTDIR);
    for (const auto& [n, child] : children_)
      if (n == name) return child;
    return base::Err(ENOENT);
  }
  base::Result<std::shared_ptr<FileDescription>> Open(
      int flags, const std::string& path) override {
    if (!dir_) {
      if ((flags & O_ACCMODE) != O_RDONLY) return base::Err(EACCES);
      return std::make_shared<TextDescription>(flags, shared_from_this(), path,
                                               text_);
    }
    std::vector<DirEntry> entries = {{ino_, DT_DIR, "."}, {ino_, DT_DIR, ".."}};
    for (const auto& [n, child] : children_) {
      entries.push_back({child->ino_,
                         static_cast<uint8_t>(child->dir_ ? DT_DIR : DT_REG),
                         n});
    }
    return std::make_shared<SyntheticDirDescription>(flags, shared_from_this(),
                                                     path, std::move(entries));
  }

 private:
  const uint64_t ino_;
  const bool dir_;
  const std::string text_;
  std::vector<std::pair<std::string, std::shared_ptr<SysNode>>> children_;
};

unsigned HostCpus() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) != 0) return 1;
  const int n = CPU_COUNT(&set);
  return n > 0 ? n : 1;
}

std::shared_ptr<Node> MakeTree(unsigned cpus) {
  uint64_t ino = 1;
  auto dir = [&] { return std::make_shared<SysNode>(ino++); };
  auto file = [&](std::string text) {
    return std::make_shared<SysNode>(ino++, std::move(text) + "\n");
  };
  const std::string all = cpus == 1 ? "0" : "0-" + std::to_string(cpus - 1);
  auto root = dir();
  auto devices = dir(), system = dir(), cpu = dir(), fs = dir();
  root->Add("devices", devices);
  root->Add("fs", fs);
  fs->Add("cgroup", dir());
  devices->Add("system", system);
  system->Add("cpu", cpu);
  for (const char* name : {"online", "possible", "present"})
    cpu->Add(name, file(all));
  for (unsigned k = 0; k < cpus; ++k) {
    auto cpuk = dir(), topology = dir();
    const std::string self = std::to_string(k);
    cpu->Add("cpu" + self, cpuk);
    cpuk->Add("topology", topology);
    topology->Add("core_id", file(self));
    topology->Add("physical_package_id", file("0"));
    topology->Add("die_id", file("0"));
    topology->Add("thread_siblings_list", file(self));
    topology->Add("core_cpus_list", file(self));
    topology->Add("core_siblings_list", file(all));
    topology->Add("package_cpus_list", file(all));
  }
  return root;
}

}  // namespace

SysFs::SysFs(unsigned cpus) : root_(MakeTree(cpus ? cpus : HostCpus())) {}

}  // namespace vfs
