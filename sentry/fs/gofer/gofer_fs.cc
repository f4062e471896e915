#include "sentry/fs/gofer/gofer_fs.h"

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <list>
#include <optional>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "sentry/vfs/host_file.h"
#include "sentry/vfs/xattr.h"

namespace gofer {

using base::Err;
using base::Result;

namespace internal {

class GoferNode;

// What the nodes of one attached tree share: the client, the lookup cache
// and the handles waiting to be closed.
//
// Locks: `cache_mu_` guards the cache and is never held during a call to
// the gofer or while a node is destroyed (a node's destructor takes
// `close_mu_`, and may call the gofer). `close_mu_` is a leaf.
class Tree : public std::enable_shared_from_this<Tree> {
 public:
  Tree(std::shared_ptr<Client> client, size_t capacity)
      : client_(std::move(client)), capacity_(capacity) {}
  ~Tree() { FlushCloses(/*all=*/true); }

  Client& client() { return *client_; }

  // The child `name` of the directory `dir`, from the cache or the gofer.
  Result<std::shared_ptr<GoferNode>> Lookup(uint64_t dir,
                                            const std::string& name);
  // Gives a dropped node's handle back (batched).
  void Release(uint64_t handle);
  // Empties the cache, whose nodes hold the tree: the file system is
  // going away.
  void Clear() {
    absl::flat_hash_map<Key, Entry> dropped;
    {
      absl::MutexLock lock(&cache_mu_);
      dropped.swap(cache_);
      lru_.clear();
    }
  }

  GoferFs::Counters counters() const {
    absl::MutexLock lock(&cache_mu_);
    return counters_;
  }

 private:
  using Key = std::pair<uint64_t, std::string>;
  struct Entry {
    std::shared_ptr<GoferNode> node;  // null: the name does not exist
    std::list<Key>::iterator lru;
  };
  // Closes the handles gathered so far once there are enough (or all).
  void FlushCloses(bool all);

  const std::shared_ptr<Client> client_;
  const size_t capacity_;

  mutable absl::Mutex cache_mu_;
  absl::flat_hash_map<Key, Entry> cache_ ABSL_GUARDED_BY(cache_mu_);
  std::list<Key> lru_ ABSL_GUARDED_BY(cache_mu_);  // most recent first
  GoferFs::Counters counters_ ABSL_GUARDED_BY(cache_mu_);

  absl::Mutex close_mu_;
  std::vector<uint64_t> to_close_ ABSL_GUARDED_BY(close_mu_);
};

// One file of the tree, named by a gofer handle. Its stat is the one the
// walk returned: nothing changes the lower layer.
class GoferNode : public vfs::Node {
 public:
  GoferNode(std::shared_ptr<Tree> tree, const Client::Node& node)
      : tree_(std::move(tree)), handle_(node.handle), stat_(node.stat) {}
  ~GoferNode() override { tree_->Release(handle_); }

  mode_t type() const override { return stat_.st_mode & S_IFMT; }
  bool read_only() const override { return true; }
  Result<struct stat> Stat() const override { return stat_; }

  Result<std::shared_ptr<vfs::Node>> Lookup(std::string_view name) override {
    if (type() != S_IFDIR) return Err(ENOTDIR);
    // The walker never passes these; the gofer refuses them too.
    if (name.empty() || name == "." || name == ".." ||
        name.find_first_of(std::string_view("/\0", 2)) != name.npos) {
      return Err(ENOENT);
    }
    return TRY(tree_->Lookup(handle_, std::string(name)));
  }

  Result<std::string> Readlink() const override {
    if (type() != S_IFLNK) return Err(EINVAL);
    absl::MutexLock lock(&mu_);
    if (!target_) target_ = TRY(tree_->client().Readlink(handle_));
    return *target_;
  }

  Result<struct statfs> Statfs() const override {
    struct statfs s = TRY(tree_->client().Statfs(handle_));
    s.f_flags |= ST_RDONLY | vfs::kStValid;
    return s;
  }

  // Only user.* is asked of the gofer, which serves no other namespace
  // (gofer/README.md); the names it lists are checked again, since they
  // go to the app. The list is kept (the tree never changes), so a file
  // without xattrs costs one round trip however often ls(1) asks.
  Result<std::string> GetXattr(const std::string& name) const override {
    if (vfs::XattrNamespace(name) != vfs::XattrNs::kUser) {
      return Err(vfs::HiddenXattrError(name));
    }
    const std::vector<std::string> names = TRY(ListXattr());
    if (std::find(names.begin(), names.end(), name) == names.end()) {
      return Err(ENODATA);
    }
    return tree_->client().Getxattr(handle_, name);
  }

  Result<std::vector<std::string>> ListXattr() const override {
    if (type() != S_IFREG && type() != S_IFDIR) {
      return std::vector<std::string>{};
    }
    {
      absl::MutexLock lock(&mu_);
      if (xattr_names_) return *xattr_names_;
    }
    std::vector<std::string> names = TRY(tree_->client().Listxattr(handle_));
    std::erase_if(names, [](const std::string& n) {
      return vfs::XattrNamespace(n) != vfs::XattrNs::kUser ||
             n.size() > vfs::kXattrNameMax || n.find('\0') != n.npos;
    });
    absl::MutexLock lock(&mu_);
    xattr_names_ = names;
    return names;
  }

  Result<std::shared_ptr<vfs::FileDescription>> Open(
      int flags, const std::string& path) override {
    if (type() == S_IFDIR) {
      // Each listing needs its own host offset: a fresh open.
      base::UniqueFd fd =
          TRY(tree_->client().Open(handle_, O_RDONLY | O_DIRECTORY));
      return vfs::MakeHostDirDescription(flags, std::move(fd), path);
    }
    // Devices, fifos and sockets of the image are not opened: the sandbox
    // has its own devices, and pipes and sockets of its own.
    if (type() != S_IFREG) return Err(EACCES);
    // Reads are preads, so every description of the file can read through
    // one host open file: the gofer opens it once.
    absl::MutexLock lock(&mu_);
    if (!file_.valid()) file_ = TRY(tree_->client().Open(handle_, O_RDONLY));
    base::UniqueFd fd(::fcntl(file_.get(), F_DUPFD_CLOEXEC, 0));
    if (!fd.valid()) return Err(errno);
    return vfs::MakeHostFileDescription(flags, std::move(fd), path);
  }

 private:
  const std::shared_ptr<Tree> tree_;
  const uint64_t handle_;
  const struct stat stat_;
  mutable absl::Mutex mu_;
  mutable std::optional<std::string> target_ ABSL_GUARDED_BY(mu_);
  mutable std::optional<std::vector<std::string>> xattr_names_
      ABSL_GUARDED_BY(mu_);
  base::UniqueFd file_ ABSL_GUARDED_BY(mu_);
};

Result<std::shared_ptr<GoferNode>> Tree::Lookup(uint64_t dir,
                                                const std::string& name) {
  Key key(dir, name);
  {
    absl::MutexLock lock(&cache_mu_);
    if (auto it = cache_.find(key); it != cache_.end()) {
      ++counters_.hits;
      lru_.splice(lru_.begin(), lru_, it->second.lru);
      if (!it->second.node) return Err(ENOENT);
      return it->second.node;
    }
    ++counters_.walks;
  }
  auto walked = client_->Walk(dir, name);
  if (!walked && walked.error() != base::Errno(ENOENT)) {
    return std::unexpected(walked.error());
  }
  std::shared_ptr<GoferNode> node;
  if (walked) node = std::make_shared<GoferNode>(shared_from_this(), *walked);

  // Evicted nodes are dropped after the lock is released: their
  // destructors give handles back, which may call the gofer.
  std::vector<std::shared_ptr<GoferNode>> evicted;
  {
    absl::MutexLock lock(&cache_mu_);
    auto [it, inserted] = cache_.try_emplace(key);
    if (!inserted) {
      // Another thread looked the name up meanwhile: use its answer.
      evicted.push_back(std::move(node));
      node = it->second.node;
    } else {
      lru_.push_front(key);
      it->second = Entry{node, lru_.begin()};
      while (cache_.size() > capacity_) {
        auto last = cache_.find(lru_.back());
        evicted.push_back(std::move(last->second.node));
        cache_.erase(last);
        lru_.pop_back();
      }
    }
  }
  evicted.clear();
  if (!node) return Err(ENOENT);
  return node;
}

void Tree::Release(uint64_t handle) {
  {
    absl::MutexLock lock(&close_mu_);
    to_close_.push_back(handle);
  }
  FlushCloses(/*all=*/false);
}

void Tree::FlushCloses(bool all) {
  // One Close per batch: a dropped lookup need not cost a round trip.
  constexpr size_t kBatch = 64;
  std::vector<uint64_t> batch;
  {
    absl::MutexLock lock(&close_mu_);
    if (to_close_.empty() || (!all && to_close_.size() < kBatch)) return;
    batch.swap(to_close_);
  }
  // A gofer that is gone has closed them all already.
  (void)client_->Close(batch);
}

}  // namespace internal

Result<std::unique_ptr<GoferFs>> GoferFs::Create(std::shared_ptr<Client> client,
                                                 const std::string& mount,
                                                 const Options& options) {
  const Client::Node root = TRY(client->Attach(mount));
  if (!S_ISDIR(root.stat.st_mode)) return Err(ENOTDIR);
  auto tree = std::make_shared<internal::Tree>(
      std::move(client), std::max<size_t>(options.cache_entries, 1));
  auto node = std::make_shared<internal::GoferNode>(tree, root);
  return std::unique_ptr<GoferFs>(new GoferFs(std::move(tree), std::move(node)));
}

GoferFs::GoferFs(std::shared_ptr<internal::Tree> tree,
                 std::shared_ptr<vfs::Node> root)
    : tree_(std::move(tree)), root_(std::move(root)) {}

GoferFs::~GoferFs() { tree_->Clear(); }

std::shared_ptr<vfs::Node> GoferFs::Root(const vfs::PathContext& ctx) {
  return root_;
}

GoferFs::Counters GoferFs::counters() const { return tree_->counters(); }

}  // namespace gofer
